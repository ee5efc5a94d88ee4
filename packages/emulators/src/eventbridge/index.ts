export {
  type Deliver,
  type EventBridgeEmulator,
  type EventBridgeRule,
  type EventBridgeTarget,
  type EventEnvelope,
  type StartEventBridgeOptions,
  startEventBridge,
} from "./emulator";
export { type AsyncInvocationFailureRecord, type LambdaTarget, type LambdaTargetOptions, lambdaTarget } from "./lambda-target";
export { compilePattern, EventPatternError, matchesPattern, validatePattern } from "./pattern";
export { sqsTarget } from "./sqs-target";
