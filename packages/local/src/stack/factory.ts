import { type FactorySimulator, loadFactoryConfig, startFactorySimulator } from "@donut-states/factory";
import type { OfflineConfig } from "../config";
import { listeningOn } from "../ports";
import { type Log, type Step, step } from "./step";

/** The simulator's options a caller may set besides its environment variables. */
export type FactoryOptions = Parameters<typeof startFactorySimulator>[0];

export interface Factory {
  url: string;
  /** The simulator, unless FACTORY_API_URL points at a real factory. */
  simulator?: FactorySimulator;
}

/** The legacy factory: simulated unless FACTORY_API_URL points at a real one. */
export function startFactory(config: OfflineConfig, options: FactoryOptions | undefined, log: Log): Promise<Step<Factory>> {
  return step(log, async (onStop) => {
    if (config.FACTORY_API_URL) return { url: config.FACTORY_API_URL };
    const factoryConfig = { ...loadFactoryConfig(process.env), ...options };
    const factoryAt = { host: factoryConfig.host ?? "127.0.0.1", port: factoryConfig.port ?? 0, hostVariable: "FACTORY_HOST" };
    const simulator = await listeningOn("FACTORY_PORT", factoryAt, () =>
      startFactorySimulator({
        ...factoryConfig,
        onEvent: (event) =>
          log(
            event.type === "request"
              ? `[factory] ${event.request.method} ${event.request.path} -> ${event.request.outcome}${event.request.status ? ` ${event.request.status}` : ""}`
              : `[factory] callback #${event.callback.delivery ?? 1} -> ${event.callback.status ?? event.callback.error}`,
          ),
      }),
    );
    onStop(() => simulator.close());
    return { url: simulator.url, simulator };
  });
}
