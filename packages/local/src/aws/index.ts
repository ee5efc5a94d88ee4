export { provisionTopology, type ProvisionedTopology } from "./topology";
