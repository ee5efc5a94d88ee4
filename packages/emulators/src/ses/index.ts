export { SES_FAULTS, type SesEmulator, type SesFault, type SesStats, type StartSesOptions, startSes } from "./emulator";
export type { SesEvent } from "./events";
export { MAX_RECIPIENTS } from "./send-email";
