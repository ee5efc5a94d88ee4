import type { MatchedRoute } from "./event";

interface CompiledRoute {
  routeKey: string;
  method: string;
  pattern: RegExp;
  names: string[];
  /** Fewer parameters wins, as in API Gateway ("most specific match"). */
  specificity: number;
}

/**
 * API Gateway HTTP API route selection: exact method + path template, `{name}` matching one
 * segment and `{name+}` the rest, `ANY` matching any method, `$default` catching the rest.
 */
export function createRouter(routeKeys: string[]) {
  const compiled: CompiledRoute[] = routeKeys
    .filter((key) => key !== "$default")
    .map((routeKey) => {
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
      return { routeKey, method, pattern: new RegExp(`^${source}$`), names, specificity: names.length };
    })
    .sort((a, b) => a.specificity - b.specificity);
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
