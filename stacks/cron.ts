import type { FunctionDefinition, FunctionName } from "@donut-states/core/topology";
import { Cron, type Function as SstFunction, type Stack } from "sst/constructs";
import { appFunction, fromTopology, functionId, type StageWiring } from "./app-function";
import type { StageSettings } from "./settings";

/** "restockWatchdog" -> "RestockWatchdogSchedule". */
const scheduleId = (name: FunctionName) => `${functionId(name)}Schedule`;

/**
 * A function of the topology's `functions` table that runs on a schedule: the function, and the
 * Cron (an EventBridge rule) that runs it at the topology's `aws` rate. No asynchronous retry:
 * the next run is near, and a retry would only overlap it.
 */
export function cronFunction(
  stack: Stack,
  name: FunctionName,
  definition: FunctionDefinition & { trigger: { schedule: { aws: `rate(${string})` | `cron(${string})` } } },
  settings: StageSettings,
  wiring: StageWiring,
): SstFunction {
  const fn = appFunction(stack, functionId(name), settings, { ...fromTopology(definition, wiring), retryAttempts: 0 });
  new Cron(stack, scheduleId(name), { schedule: definition.trigger.schedule.aws, job: fn });
  return fn;
}
