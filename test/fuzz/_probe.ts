import http from "node:http";
import { routes } from "@donut-states/core/topology";
import { startGateway } from "../../packages/local/src/gateway/server";
process.on("unhandledRejection", (e) => console.log("UNHANDLED REJECTION:", (e as Error).message));
process.env.DATABASE_URL = "mysql://root@127.0.0.1:9/x";
const g = await startGateway({ routes, port: 0 });
function send(method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  return new Promise((resolve) => {
    const r = http.request({ host: "127.0.0.1", port: g.port, method, path, headers, timeout: 2000 }, (res) => { let b = ""; res.on("data", (c) => (b += c)); res.on("end", () => resolve([res.statusCode, b.slice(0, 200)])); });
    r.on("timeout", () => { r.destroy(); resolve(["TIMEOUT"]); });
    r.on("error", (e) => resolve(["ERR", e.message]));
    r.end(body);
  });
}
for (const p of ["http://[/orders", "http://x:99999/orders", "http://x/orders", "*", "//orders", "/products/%", "/factory/callbacks/%E0?token=%"]) console.log(p, await send("POST", p, {"content-type":"application/json"}, '{"sku":1}'));
await g.close();
