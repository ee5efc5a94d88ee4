/**
 * Soak: a steady, realistic mix for a long time (default 30 minutes at 20 requests/s): browse
 * the catalogue, order across every product, retry some orders with the same Idempotency-Key.
 * Looks for what only time shows: latency creep, connection or memory leaks, a restock
 * pipeline that falls behind (run it with the factory's callbacks on, so stock comes back).
 *
 *   k6 run -e API_URL=https://<api-id>.execute-api.<region>.amazonaws.com load/k6/soak.ts
 *   k6 run -e API_URL=... -e RATE=50 -e DURATION=2h load/k6/soak.ts
 */
import { check, fail } from "k6";
import http from "k6/http";
import { Counter, Rate } from "k6/metrics";
import type { Options } from "k6/options";

const API_URL = (__ENV.API_URL ?? "").replace(/\/+$/, "");
if (!/^https?:\/\/\S+$/.test(API_URL)) {
  throw new Error(
    "API_URL is missing or not an http(s) URL. Pass the stage's API endpoint: " +
      "k6 run -e API_URL=https://<api-id>.execute-api.<region>.amazonaws.com load/k6/soak.ts",
  );
}
const RATE = Number(__ENV.RATE ?? 20);
const DURATION = __ENV.DURATION ?? "30m";

const unexpected = new Rate("unexpected_responses");
const outOfStock = new Counter("out_of_stock");
const confirmed = new Counter("orders_confirmed");
const replays = new Rate("idempotent_replays_identical");

http.setResponseCallback(http.expectedStatuses(200, 201, 409));

export const options: Options = {
  scenarios: {
    soak: {
      executor: "constant-arrival-rate",
      rate: RATE,
      timeUnit: "1s",
      duration: DURATION,
      preAllocatedVUs: Math.max(10, RATE * 2),
      maxVUs: Math.max(50, RATE * 10),
    },
  },
  thresholds: {
    http_req_failed: ["rate<0.001"],
    unexpected_responses: ["rate<0.001"],
    "http_req_duration{expected_response:true}": ["p(95)<400", "p(99)<1000"],
    "http_req_duration{name:POST /orders}": ["p(95)<500"],
    idempotent_replays_identical: ["rate==1"],
    // Fewer iterations than scheduled means the API slowed down enough to starve the VU pool.
    dropped_iterations: ["count<10"],
    checks: ["rate>0.999"],
  },
};

interface Data {
  skus: string[];
}

export function setup(): Data {
  const response = http.get(`${API_URL}/products`);
  if (response.status !== 200) fail(`GET /products answered ${response.status}: is ${API_URL} the Sales API?`);
  const products = response.json("products") as Array<{ sku: string }> | null;
  if (!products?.length) fail(`${API_URL} has no products to order; seed the stage first`);
  return { skus: products!.map((product) => product.sku) };
}

const json = { "content-type": "application/json" };

function order(sku: string, key?: string) {
  return http.post(`${API_URL}/orders`, JSON.stringify({ sku, quantity: 1 + Math.floor(Math.random() * 3) }), {
    headers: key ? { ...json, "idempotency-key": key } : json,
    tags: { name: "POST /orders" },
  });
}

const isOrderOutcome = (status: number, code: unknown, orderId: unknown) =>
  (status === 201 && typeof orderId === "string") || (status === 409 && code === "OUT_OF_STOCK");

export default function soak(data: Data): void {
  const sku = data.skus[Math.floor(Math.random() * data.skus.length)];
  const roll = Math.random();

  if (roll < 0.3) {
    const list = http.get(`${API_URL}/products`, { tags: { name: "GET /products" } });
    unexpected.add(!check(list, { "GET /products is 200": (r) => r.status === 200 }));
    return;
  }
  if (roll < 0.5) {
    const one = http.get(`${API_URL}/products/${encodeURIComponent(sku)}`, { tags: { name: "GET /products/{sku}" } });
    unexpected.add(!check(one, { "GET /products/{sku} is 200": (r) => r.status === 200 }));
    return;
  }

  const key = roll < 0.6 ? `soak-${__VU}-${__ITER}-${Date.now()}` : undefined;
  const first = order(sku, key);
  if (first.status === 201) confirmed.add(1);
  if (first.status === 409) outOfStock.add(1);
  unexpected.add(
    !check(first, { "order is 201 or 409 OUT_OF_STOCK": (r) => isOrderOutcome(r.status, r.json("error.code"), r.json("order.id")) }),
  );

  if (key && first.status === 201) {
    // A client retry (lost response): same key, same body answer, nothing ordered twice.
    const retry = http.post(`${API_URL}/orders`, first.request.body, {
      headers: { ...json, "idempotency-key": key },
      tags: { name: "POST /orders (retry)" },
    });
    const same =
      retry.status === 201 && retry.json("order.id") === first.json("order.id") && retry.headers["Idempotent-Replayed"] === "true";
    replays.add(same);
    unexpected.add(!check(retry, { "retry replays the original order": () => same }));
  }
}
