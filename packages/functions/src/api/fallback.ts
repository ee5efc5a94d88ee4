import { routes } from "@donut-states/core/topology";
import { compileRoute } from "@donut-states/core/util/route";
import { apiHandler, json } from "./http";

/** Known paths and their methods, from the shared route table. */
const known = Object.keys(routes)
  .filter((key) => key !== "$default")
  .map(compileRoute);

/** $default route: anything no other route matched. */
export const handler = apiHandler(async (event) => {
  const path = event.rawPath;
  const method = event.requestContext.http.method;
  const allowed = known.filter((route) => route.pattern.test(path)).map((route) => route.method);
  if (allowed.length > 0) {
    return json(
      405,
      { error: { code: "METHOD_NOT_ALLOWED", message: `${method} is not allowed on ${path}`, allowed } },
      { allow: allowed.join(", ") },
    );
  }
  return json(404, { error: { code: "ROUTE_NOT_FOUND", message: `No route for ${method} ${path}` } });
});
