import type { MatchedRoute } from "./event";

interface CompiledRoute {
  routeKey: string;
  method: string;
  pattern: RegExp;
  names: string[];
}

/** "POST /things/{id}" -> its method, a path pattern and the parameter names, in order. */
function compileRoute(routeKey: string): CompiledRoute {
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

/**
 * API Gateway HTTP API route selection: exact method + path template, `{name}` matching one
 * segment and `{name+}` the rest, `ANY` matching any method, `$default` catching the rest.
 */
export function createRouter(routeKeys: string[]) {
  // Fewer parameters wins, as in API Gateway ("most specific match").
  const compiled = routeKeys
    .filter((key) => key !== "$default")
    .map(compileRoute)
    .sort((a, b) => a.names.length - b.names.length);
  const hasDefault = routeKeys.includes("$default");

  return function match(method: string, path: string): MatchedRoute | undefined {
    for (const route of compiled) {
      if (route.method !== "ANY" && route.method !== method) continue;
      const found = route.pattern.exec(path);
      if (!found) continue;
      const pathParameters: Record<string, string> = {};
      route.names.forEach((name, index) => {
        pathParameters[name] = safeDecode(found[index + 1]);
      });
      return { routeKey: route.routeKey, pathParameters: route.names.length ? pathParameters : undefined };
    }
    return hasDefault ? { routeKey: "$default" } : undefined;
  };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
