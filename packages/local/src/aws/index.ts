export { startSqsSns, type SqsSnsEmulator } from "./emulator";
export { provisionTopology, type ProvisionedTopology } from "./topology";
