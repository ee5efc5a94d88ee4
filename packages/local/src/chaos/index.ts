export { runChaos, DEFAULT_CHAOS, type ChaosOptions, type ChaosReport } from "./chaos";
