/** Public API of @donut-states/factory (the legacy Factory API simulator). */

export { CALLBACK_BACKOFF_MS, CALLBACK_TIMEOUT_MS } from "./callbacks";
export { FACTORY_ENV_VARS, loadFactoryConfig } from "./config";
export {
  type LegacyFailBody,
  type LegacyOkBody,
  MANUFACTURE_FIELDS,
  MANUFACTURE_PATH,
  MAX_BODY_BYTES,
  type ManufactureField,
  type ManufactureRequest,
  manufactureRequestSchema,
  type ValidationResult,
  validateManufactureRequest,
} from "./contract";
export {
  CALLBACK_MODES,
  type CallbackMode,
  DEFAULT_OPTIONS,
  FAILURE_STATUSES,
  type FactorySimulatorConfig,
  type FactorySimulatorKnobs,
  type FactorySimulatorOptions,
  type FailureStatus,
  type OutageRequest,
} from "./options";
export { OutageInProgressError } from "./outage";
export {
  callbackTarget,
  OUTAGE_MODES,
  type OutageMode,
  REQUEST_OUTCOMES,
  type RequestOutcome,
  type SimCallback,
  type SimEvent,
  type SimOutage,
  type SimRequest,
  type SimSummary,
  type SimWindow,
  summarize,
} from "./records";
export { type FactorySimulator, startFactorySimulator } from "./simulator";
