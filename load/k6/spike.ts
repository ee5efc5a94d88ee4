/**
 * The viral spike: hundreds of virtual users hammer one SKU. Stock runs out within seconds;
 * from then on the expected answer is 409 OUT_OF_STOCK (fast, with the restock request's id),
 * and when the factory calls back, sales resume. What must hold: no 5xx, no timeouts, latency
 * within bounds, and (checked in the database afterwards, see load/README.md) no oversell and
 * one factory request per stock-out.
 *
 *   k6 run -e API_URL=https://<api-id>.execute-api.<region>.amazonaws.com load/k6/spike.ts
 *   k6 run -e API_URL=... -e SKU=CP-502101 -e PEAK_VUS=500 -e HOLD=2m load/k6/spike.ts
 *
 * Non-prod stages throttle the API at 100 req/s, burst 200 (stacks/settings.ts): API Gateway
 * answers 429 beyond that. Those count as errors unless -e ACCEPT_429=1 (then they are
 * counted in `throttled` and must stay a minority).
 */
import { check, fail, sleep } from "k6";
import http from "k6/http";
import { Counter, Rate, Trend } from "k6/metrics";
import type { Options } from "k6/options";

const API_URL = (__ENV.API_URL ?? "").replace(/\/+$/, "");
if (!/^https?:\/\/\S+$/.test(API_URL)) {
  throw new Error(
    "API_URL is missing or not an http(s) URL. Pass the stage's API endpoint: " +
      "k6 run -e API_URL=https://<api-id>.execute-api.<region>.amazonaws.com load/k6/spike.ts",
  );
}
const SKU = __ENV.SKU ?? "CP-502101";
const PEAK_VUS = Number(__ENV.PEAK_VUS ?? 400);
const HOLD = __ENV.HOLD ?? "1m";
const ACCEPT_429 = __ENV.ACCEPT_429 === "1";

const unexpected = new Rate("unexpected_responses");
const outOfStock = new Counter("out_of_stock");
const confirmed = new Counter("orders_confirmed");
const restockIds = new Counter("restock_id_changes");
const outOfStockLatency = new Trend("out_of_stock_duration", true);
const throttled = new Rate("throttled");

// A 409 is the product working as designed during a sell-out, not a failed request.
http.setResponseCallback(ACCEPT_429 ? http.expectedStatuses(201, 409, 429) : http.expectedStatuses(201, 409));

export const options: Options = {
  scenarios: {
    spike: {
      executor: "ramping-vus",
      startVUs: 0,
      stages: [
        { duration: "10s", target: Math.max(1, Math.round(PEAK_VUS / 10)) }, // normal traffic
        { duration: "20s", target: PEAK_VUS }, // the video goes viral
        { duration: HOLD, target: PEAK_VUS },
        { duration: "20s", target: 0 },
      ],
      gracefulRampDown: "10s",
    },
  },
  thresholds: {
    // Errors: anything but 201/409 (5xx, timeouts, 4xx for a valid body). Abort early if the API falls over.
    http_req_failed: [{ threshold: "rate<0.01", abortOnFail: true, delayAbortEval: "30s" }],
    unexpected_responses: ["rate<0.01"],
    // Latency of the answers the contract expects (Lambda cold starts included: the ramp creates hundreds).
    "http_req_duration{expected_response:true}": ["p(95)<1000", "p(99)<3000"],
    // Refusing an order must stay cheap when thousands are refused.
    out_of_stock_duration: ["p(95)<800"],
    checks: ["rate>0.99"],
    ...(ACCEPT_429 ? { throttled: ["rate<0.5"] } : {}),
  },
};

export function setup(): { sku: string } {
  const response = http.get(`${API_URL}/products/${encodeURIComponent(SKU)}`);
  if (response.status !== 200) fail(`GET /products/${SKU} answered ${response.status}; pass an existing SKU with -e SKU=...`);
  return { sku: SKU };
}

let lastRestockId: string | undefined;

export default function spike(data: { sku: string }): void {
  const response = http.post(`${API_URL}/orders`, JSON.stringify({ sku: data.sku, quantity: 1 }), {
    headers: { "content-type": "application/json" },
    tags: { name: "POST /orders" },
    timeout: "10s",
  });
  throttled.add(response.status === 429);
  if (response.status === 201) confirmed.add(1);
  if (response.status === 409) {
    outOfStock.add(1);
    outOfStockLatency.add(response.timings.duration);
    const restockId = response.json("error.restock.id");
    if (typeof restockId === "string" && restockId !== lastRestockId) {
      restockIds.add(1); // per VU: how many distinct stock-outs it saw
      lastRestockId = restockId;
    }
  }
  unexpected.add(
    !check(response, {
      "201 with an order id": (r) => r.status !== 201 || typeof r.json("order.id") === "string",
      "409 is OUT_OF_STOCK with a restock request": (r) =>
        r.status !== 409 || (r.json("error.code") === "OUT_OF_STOCK" && typeof r.json("error.restock.id") === "string"),
      "201 or 409": (r) => r.status === 201 || r.status === 409 || (ACCEPT_429 && r.status === 429),
    }),
  );
  sleep(Math.random() * 0.5); // think time: 0-0.5 s between orders per user
}
