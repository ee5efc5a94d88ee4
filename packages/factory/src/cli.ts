/**
 * `npm run factory`: run the simulator standalone so the rest of the stack
 * (local dev, demos) can point FACTORY_API_URL at it. Configured via FACTORY_* env.
 */
import { loadFactoryConfig } from "./config";
import type { SimEvent, SimOutage } from "./records";
import { startFactorySimulator } from "./simulator";

function formatEvent(event: SimEvent): string {
  const now = new Date().toISOString();
  if (event.type === "request") {
    const r = event.request;
    const body = r.body as Record<string, unknown> | null;
    const what =
      typeof body === "object" && body !== null && "MessageAttributeProductId" in body
        ? ` ${String(body.MessageAttributeProductId)} x${String(body.MessageAttributeProductCnt)}`
        : "";
    const why = r.message ? ` (${r.message})` : "";
    return `${now} request ${r.id} ${r.method} ${r.path}${what} -> ${r.status ?? "no response"} ${r.outcome}${why}`;
  }
  const c = event.callback;
  const result = c.error ? `error ${c.error}` : `${c.status}`;
  return `${now} callback ${c.requestId} delivery ${c.delivery} attempt ${c.attempt} POST ${c.url} -> ${result}`;
}

function formatOutage(outage: SimOutage): string {
  const now = new Date().toISOString();
  const how = outage.mode === "refuse" ? "refusing connections" : "answering 503";
  if (outage.error) return `${now} outage: still DOWN: ${outage.error}`;
  if (outage.endedAt) return `${now} outage over: the factory is back (down since ${outage.startedAt})`;
  return `${now} outage: the factory is DOWN (${how}) until ${outage.endsAt}`;
}

async function main(): Promise<void> {
  let config: ReturnType<typeof loadFactoryConfig>;
  try {
    config = loadFactoryConfig();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }

  const sim = await startFactorySimulator({
    ...config,
    onEvent: (e) => console.log(formatEvent(e)),
    onOutage: (o) => console.log(formatOutage(o)),
  }).catch((err: NodeJS.ErrnoException) => {
    const hint = err.code === "EADDRINUSE" ? ` (port ${config.port} in use; set FACTORY_PORT)` : "";
    console.error(`factory simulator failed to start: ${err.message}${hint}`);
    process.exit(1);
  });

  const { port: _port, host: _host, ...knobs } = sim.getConfig();
  const knobText = Object.entries(knobs)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  console.log(`factory simulator listening on ${sim.url} (POST ${sim.url}/api/manufactures) ${knobText}`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    // A second Ctrl-C means "now", even if close() is stuck.
    if (stopping) process.exit(130);
    stopping = true;
    console.log(`factory simulator stopping (${signal})`);
    sim.close().then(
      () => process.exit(0),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

void main();
