/**
 * The offline gateway selects routes by API Gateway's rules on its own (packages/emulators knows
 * nothing of core); the $default function answers 404 or 405 by core's compileRoute. Both must
 * read every route of the topology alike, or offline a request would reach another function
 * than the one the $default function believes exists.
 */

import { allRoutes } from "@donut-states/core/topology";
import { compileRoute } from "@donut-states/core/util/route";
import { createRouter } from "@donut-states/emulators/gateway";
import { describe, expect, it } from "vitest";

/** A request path for a route key: each {name} a segment, each {name+} two. */
function pathFor(routeKey: string): string {
  return routeKey
    .split(" ")[1]
    .replace(/\{\w+\+\}/g, "some/rest")
    .replace(/\{\w+\}/g, "value-1");
}

describe("route selection offline and in the $default function", () => {
  const keys = Object.keys(allRoutes).filter((key) => key !== "$default");
  const match = createRouter(Object.keys(allRoutes));

  it.each(keys)("%s: the gateway picks it, and core's pattern matches the same path", (routeKey) => {
    const [method] = routeKey.split(" ");
    const path = pathFor(routeKey);
    expect(match(method, path)?.routeKey).toBe(routeKey);
    const compiled = compileRoute(routeKey);
    expect(compiled.pattern.test(path)).toBe(true);
    expect(compiled.names).toEqual(Object.keys(match(method, path)?.pathParameters ?? {}));
  });

  it("a path no route knows goes to $default in the gateway and matches no pattern in core", () => {
    expect(match("GET", "/no/such/route")?.routeKey).toBe("$default");
    expect(keys.map(compileRoute).some((route) => route.pattern.test("/no/such/route"))).toBe(false);
  });
});
