export { startEventBridge, type Deliver, type EventBridgeEmulator, type EventBridgeRule, type EventBridgeTarget, type EventEnvelope, type StartEventBridgeOptions } from "./emulator";
export { sqsTarget } from "./sqs-target";
export { lambdaTarget, type AsyncInvocationFailureRecord, type LambdaTarget, type LambdaTargetOptions } from "./lambda-target";
export { compilePattern, matchesPattern, validatePattern, EventPatternError } from "./pattern";
