export { startEventBridge, type EventBridgeEmulator, type EventBridgeRule, type EventEnvelope } from "./emulator";
export { sqsTarget } from "./sqs-target";
export { compilePattern, matchesPattern, validatePattern, EventPatternError } from "./pattern";
