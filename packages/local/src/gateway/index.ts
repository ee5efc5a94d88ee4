import { type Gateway, type GatewayOptions, startGateway as start } from "@donut-states/emulators/gateway";
import { HANDLERS } from "../runtime";

/** The emulators' API Gateway running this repository's handlers (route keys -> topology handler references). */
export function startGateway(options: Omit<GatewayOptions, "handlers">): Promise<Gateway> {
  return start({ ...options, handlers: HANDLERS });
}

export type { Gateway };
