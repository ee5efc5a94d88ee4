export { type ProvisionedTopology, provisionTopology } from "./topology";
