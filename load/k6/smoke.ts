/**
 * Smoke test for a deployed stage: a couple of virtual users for a minute, every public route,
 * strict thresholds. Run it after each deploy, before anything heavier.
 *
 *   k6 run -e API_URL=https://<api-id>.execute-api.<region>.amazonaws.com load/k6/smoke.ts
 *   k6 run -e API_URL=... -e SKU=CP-502102 -e VUS=2 -e DURATION=1m load/k6/smoke.ts
 *
 * A 409 OUT_OF_STOCK is an expected answer (the shop sells out; that is the point of the
 * product), not an error: it is excluded from http_req_failed and counted in `out_of_stock`.
 */
import { check, fail, sleep } from "k6";
import http from "k6/http";
import { Counter, Rate } from "k6/metrics";
import type { Options } from "k6/options";

const API_URL = (__ENV.API_URL ?? "").replace(/\/+$/, "");
if (!/^https?:\/\/\S+$/.test(API_URL)) {
  throw new Error(
    "API_URL is missing or not an http(s) URL. Pass the stage's API endpoint: " +
      "k6 run -e API_URL=https://<api-id>.execute-api.<region>.amazonaws.com load/k6/smoke.ts " +
      "(npx sst deploy --stage <stage> prints it as ApiEndpoint)",
  );
}
const SKU = __ENV.SKU ?? "CP-502101";

/** Answers the contract does not allow for the request (5xx, 400 for a valid body, a 201 without an order id, ...). */
const unexpected = new Rate("unexpected_responses");
const outOfStock = new Counter("out_of_stock");
const confirmed = new Counter("orders_confirmed");

// 201 and 409 are both outcomes the contract promises for a valid order.
http.setResponseCallback(http.expectedStatuses(200, 201, 409));

export const options: Options = {
  scenarios: {
    smoke: { executor: "constant-vus", vus: Number(__ENV.VUS ?? 2), duration: __ENV.DURATION ?? "1m" },
  },
  thresholds: {
    http_req_failed: ["rate<0.01"],
    unexpected_responses: ["rate==0"],
    "http_req_duration{expected_response:true}": ["p(95)<500", "p(99)<1500"],
    "http_req_duration{name:POST /orders}": ["p(95)<800"],
    checks: ["rate>0.99"],
  },
};

const json = { headers: { "content-type": "application/json" } };

export function setup(): { sku: string } {
  const response = http.get(`${API_URL}/products/${encodeURIComponent(SKU)}`, { tags: { name: "GET /products/{sku}" } });
  if (response.status === 404) fail(`SKU ${SKU} does not exist on ${API_URL}; pass one that does with -e SKU=...`);
  if (response.status !== 200) fail(`GET /products/${SKU} answered ${response.status}: is ${API_URL} the Sales API?`);
  return { sku: SKU };
}

export default function smoke(data: { sku: string }): void {
  const list = http.get(`${API_URL}/products`, { tags: { name: "GET /products" } });
  unexpected.add(
    !check(list, {
      "GET /products is 200 with a products array": (r) => r.status === 200 && Array.isArray(r.json("products")),
    }),
  );

  const one = http.get(`${API_URL}/products/${encodeURIComponent(data.sku)}`, { tags: { name: "GET /products/{sku}" } });
  unexpected.add(!check(one, { "GET /products/{sku} is 200": (r) => r.status === 200 && r.json("product.sku") === data.sku }));

  const order = http.post(`${API_URL}/orders`, JSON.stringify({ sku: data.sku, quantity: 1 }), {
    ...json,
    headers: { ...json.headers, "idempotency-key": `smoke-${__VU}-${__ITER}-${Date.now()}` },
    tags: { name: "POST /orders" },
  });
  if (order.status === 201) confirmed.add(1);
  if (order.status === 409) outOfStock.add(1);
  unexpected.add(
    !check(order, {
      "POST /orders is 201 with an order, or 409 OUT_OF_STOCK": (r) =>
        (r.status === 201 && typeof r.json("order.id") === "string") || (r.status === 409 && r.json("error.code") === "OUT_OF_STOCK"),
    }),
  );

  // Bad input must be a clear 4xx with a JSON error, never a 5xx.
  const bad = http.post(`${API_URL}/orders`, JSON.stringify({ sku: data.sku, quantity: 0 }), {
    ...json,
    tags: { name: "POST /orders (invalid)" },
    responseCallback: http.expectedStatuses(400),
  });
  unexpected.add(
    !check(bad, { "invalid order is 400 VALIDATION_FAILED": (r) => r.status === 400 && r.json("error.code") === "VALIDATION_FAILED" }),
  );

  // The factory callback without its token must be refused.
  const callback = http.post(`${API_URL}/factory/callbacks/01HZZZZZZZZZZZZZZZZZZZZZZZ`, "{}", {
    ...json,
    tags: { name: "POST /factory/callbacks/{restockId}" },
    responseCallback: http.expectedStatuses(401),
  });
  unexpected.add(
    !check(callback, { "callback without token is 401": (r) => r.status === 401 && r.json("error.code") === "TOKEN_REQUIRED" }),
  );

  sleep(1);
}
