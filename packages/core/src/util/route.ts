/**
 * API Gateway (HTTP API) route keys, compiled: "POST /factory/callbacks/{restockId}" ->
 * method, a path pattern and its parameter names. `{name}` matches one segment, `{name+}` the
 * rest. Used by the $default function (404 vs 405); the offline gateway (packages/emulators)
 * selects routes by the same rules, and packages/local/src/gateway/routes.test.ts checks the two agree.
 */
export interface CompiledRoute {
  routeKey: string;
  method: string;
  pattern: RegExp;
  names: string[];
}

export function compileRoute(routeKey: string): CompiledRoute {
  const [method, path] = routeKey.split(" ");
  const names: string[] = [];
  const source = path
    .split("/")
    .map((segment) => {
      const greedy = /^\{(\w+)\+\}$/.exec(segment);
      if (greedy) {
        names.push(greedy[1]);
        return "(.+)";
      }
      const param = /^\{(\w+)\}$/.exec(segment);
      if (param) {
        names.push(param[1]);
        return "([^/]+)";
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  return { routeKey, method, pattern: new RegExp(`^${source}$`), names };
}
