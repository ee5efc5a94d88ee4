export {
  InvocationKilledError,
  InvocationTimeoutError,
  createHandlerPool,
  functionNameOf,
  handlerPool,
  lambdaContext,
  loadHandler,
  type AnyHandler,
  type HandlerPool,
  type HandlerSource,
} from "./handlers";
export { startScheduler, type ScheduledJob } from "./scheduler";
export { startSqsPoller, toSqsRecord, type SqsPoller, type SqsPollerOptions } from "./sqs-poller";
