export { REPO_ROOT, handlerPool, type HandlerPool } from "./handlers";
export { startScheduler } from "./scheduler";
export { startSqsPoller, type SqsPoller } from "./sqs-poller";
