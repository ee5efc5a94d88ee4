export {
  REPO_ROOT,
  InvocationKilledError,
  InvocationTimeoutError,
  createHandlerPool,
  functionNameOf,
  handlerPool,
  lambdaContext,
  loadHandler,
  type AnyHandler,
  type HandlerPool,
} from "./handlers";
export { startScheduler, type ScheduledJob } from "./scheduler";
export { startSqsPoller, toSqsRecord, type SqsPoller, type SqsPollerOptions } from "./sqs-poller";
