export { startSqsSns, type SqsSnsEmulator } from "./emulator";
