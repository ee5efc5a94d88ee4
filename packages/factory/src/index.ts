/** Public API of @donut-states/factory (the legacy Factory API simulator). */
export { startFactorySimulator, type FactorySimulator } from "./simulator";
export {
  CALLBACK_MODES,
  DEFAULT_OPTIONS,
  type CallbackMode,
  type FactorySimulatorConfig,
  type FactorySimulatorKnobs,
  type FactorySimulatorOptions,
} from "./options";
export { FACTORY_ENV_VARS, loadFactoryConfig } from "./config";
export {
  MANUFACTURE_FIELDS,
  MANUFACTURE_PATH,
  MAX_BODY_BYTES,
  manufactureRequestSchema,
  validateManufactureRequest,
  type LegacyFailBody,
  type LegacyOkBody,
  type ManufactureField,
  type ManufactureRequest,
  type ValidationResult,
} from "./contract";
export { CALLBACK_BACKOFF_MS, CALLBACK_TIMEOUT_MS } from "./callbacks";
export type { RequestOutcome, SimCallback, SimEvent, SimRequest } from "./records";
