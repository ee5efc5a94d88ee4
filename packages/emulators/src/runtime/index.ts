export {
  type AnyHandler,
  createHandlerPool,
  functionNameOf,
  type HandlerPool,
  type HandlerSource,
  handlerPool,
  InvocationKilledError,
  InvocationTimeoutError,
  lambdaContext,
  loadHandler,
} from "./handlers";
export { type ScheduledJob, startScheduler } from "./scheduler";
export { type SqsPoller, type SqsPollerOptions, startSqsPoller, toSqsRecord } from "./sqs-poller";
