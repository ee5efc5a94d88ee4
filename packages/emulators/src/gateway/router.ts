import { compileRoute } from "@donut-states/core/util/route";
import type { MatchedRoute } from "./event";

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
