/** Child process of bench/lib/db-link.ts: the delaying, counting MySQL proxy. Args: host port rttMs. */
import { startMysqlProxy } from "@donut-states/local/testing/mysql-proxy";

const [host, port, rttMs] = process.argv.slice(2);
const proxy = await startMysqlProxy({ targetHost: host, targetPort: Number(port), delayMs: Number(rttMs) });
process.on("message", () => process.send!({ commands: proxy.commands }));
process.on("disconnect", () => process.exit(0));
process.send!({ port: proxy.port });
