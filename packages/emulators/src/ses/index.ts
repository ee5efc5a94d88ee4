export { SES_FAULTS, type SesEmulator, type SesEvent, type SesFault, type SesStats, type StartSesOptions, startSes } from "./emulator";
export { MAX_RECIPIENTS } from "./send-email";
