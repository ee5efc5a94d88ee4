/**
 * In-process SQS + SNS for a local stack, backed by fauxqs.
 *
 * fauxqs facts that shape this module and its callers (verified against the
 * fauxqs@1.9.2 dist and by the tests next to this file):
 *
 * - Endpoint: one HTTP endpoint serves SQS (AWS JSON 1.0) and SNS (Query).
 *   The SDK clients MUST get an explicit `endpoint`: queue URLs look like
 *   `http://sqs.<region>.localhost:<port>/000000000000/<name>` and, without
 *   an explicit endpoint, @aws-sdk/client-sqs (useQueueUrlAsEndpoint, default
 *   true) would send requests to that `*.localhost` host, which Node does not
 *   reliably resolve. With an explicit endpoint the queue URL is only an
 *   opaque key (fauxqs looks queues up by the exact URL string, so never
 *   rebuild a URL by hand - use the one CreateQueue/GetQueueUrl returned).
 * - Region comes from the SigV4 Authorization header, so the region the
 *   clients are built with is the region of every ARN and URL.
 * - Account id is hard-coded to 000000000000 in every ARN/URL; it cannot be
 *   changed, hence `accountId` may only be omitted or "000000000000".
 * - Credentials are accepted and never checked; queue Policy is stored, not
 *   enforced (SNS->SQS needs no queue policy here, unlike AWS).
 * - RedrivePolicy IS honoured: a message whose receive count would exceed
 *   maxReceiveCount is moved to the DLQ during the next ReceiveMessage on the
 *   source queue (not by a background timer), as in AWS.
 * - VisibilityTimeout is honoured. Expired in-flight messages are returned
 *   to the queue lazily (on ReceiveMessage, or every 20 ms while a long poll
 *   is waiting), so ApproximateNumberOfMessages may lag until someone polls.
 * - GetQueueAttributes supports ApproximateNumberOfMessages(/NotVisible/
 *   Delayed). There is no `ApproximateNumberOfMessagesVisible` attribute: that
 *   is the CloudWatch metric name for the SQS attribute ApproximateNumberOfMessages.
 * - Long polling (WaitTimeSeconds 1..20) is honoured and returns early when a
 *   message arrives. Aborting the SDK call (abortSignal) ends it client-side
 *   at once, but fauxqs keeps the server-side waiter until WaitTimeSeconds
 *   elapse: a message sent meanwhile is dequeued into that dead request and
 *   stays in flight for VisibilityTimeout before reappearing (not lost).
 * - PurgeQueue is immediate (no 60 s AWS cooldown).
 * - MessageRetentionPeriod is validated and stored, but NOT enforced.
 * - CreateQueue/CreateTopic/Subscribe are idempotent only with identical
 *   attributes; different attributes throw (QueueNameExists for queues).
 * - SNS delivers only to `sqs` subscriptions. `email`, `email-json`, `http`,
 *   `lambda`... are accepted by Subscribe (left PendingConfirmation) but never
 *   delivered - see sns-email-bridge.ts. SNS envelopes have
 *   `Subject: null` when Publish had no Subject.
 * - No persistence: all state lives in memory and dies with the process.
 */

import net from "node:net";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { type FauxqsServer, startFauxqs } from "fauxqs";

/** The only account id fauxqs knows. */
export const FAUXQS_ACCOUNT_ID = "000000000000";

/** Dummy credentials: fauxqs ignores them, but the SDK refuses to sign without. */
export const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" } as const;

export interface StartSqsSnsOptions {
  /** 0 (default) lets the OS pick a free port. */
  port?: number;
  /** Address to listen on (default 127.0.0.1: this machine only). */
  host?: string;
  region: string;
  /** Must be omitted or equal FAUXQS_ACCOUNT_ID (fauxqs cannot change it). */
  accountId?: string;
}

export interface SqsSnsEmulator {
  /** e.g. http://127.0.0.1:4566 - pass as `endpoint` to any other SDK client. */
  endpoint: string;
  port: number;
  region: string;
  accountId: string;
  sqs: SQSClient;
  sns: SNSClient;
  /** The fauxqs server, for non-destructive `inspectQueue(name)` etc. */
  server: FauxqsServer;
  close(): Promise<void>;
}

/**
 * Real timeouts, generous ones: on a busy machine the emulator answers slowly, not never. The
 * request timeout outlasts a 20 s long poll; `throwOnRequestTimeout` makes it fail rather than
 * only log a warning (@smithy/node-http-handler 4.x).
 */
const LOCAL_CLIENT_CONFIG = {
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 25_000, throwOnRequestTimeout: true },
};

/** Build SDK clients for an already running fauxqs (or any endpoint). */
export function createLocalClients(endpoint: string, region: string): { sqs: SQSClient; sns: SNSClient } {
  const common = { endpoint, region, credentials: LOCAL_CREDENTIALS, ...LOCAL_CLIENT_CONFIG };
  return {
    // useQueueUrlAsEndpoint:false is belt and braces: with an explicit endpoint
    // the SDK already ignores the queue URL host.
    sqs: new SQSClient({ ...common, useQueueUrlAsEndpoint: false }),
    sns: new SNSClient(common),
  };
}

export async function startSqsSns(options: StartSqsSnsOptions): Promise<SqsSnsEmulator> {
  const { port = 0, region } = options;
  const accountId = options.accountId ?? FAUXQS_ACCOUNT_ID;
  if (accountId !== FAUXQS_ACCOUNT_ID) {
    // Failing loudly beats ARNs that silently disagree with the alarm payloads.
    throw new Error(`fauxqs always uses account ${FAUXQS_ACCOUNT_ID}; got accountId=${accountId}`);
  }
  const host = options.host ?? "127.0.0.1";
  const server = await withWildcardListenOn(host, () => startFauxqs({ port, logger: false, defaultRegion: region }));
  // An address rather than "localhost", which may resolve to ::1 first.
  const endpoint = `http://${connectableHost(host)}:${server.port}`;
  const { sqs, sns } = createLocalClients(endpoint, region);
  let closed = false;
  return {
    endpoint,
    port: server.port,
    region,
    accountId,
    sqs,
    sns,
    server,
    async close() {
      if (closed) return;
      closed = true;
      sqs.destroy();
      sns.destroy();
      // fauxqs resolves pending long polls on close, so this does not hang.
      await server.stop();
    },
  };
}

/** Where a client on this machine reaches a server listening on `host` (a wildcard means loopback). */
function connectableHost(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * fauxqs 1.9.x always listens on 0.0.0.0 (its `host` option only names queue URLs). While
 * `start` runs, a listen on 0.0.0.0 goes to `host` instead, so the emulator is reachable from
 * where the rest of the stack is and nowhere else. Only that exact wildcard is rewritten.
 */
export async function withWildcardListenOn<T>(host: string, start: () => Promise<T>): Promise<T> {
  const original = net.Server.prototype.listen;
  net.Server.prototype.listen = function listen(this: net.Server, ...args: unknown[]) {
    const [first] = args;
    if (first && typeof first === "object" && (first as net.ListenOptions).host === "0.0.0.0") {
      args[0] = { ...(first as net.ListenOptions), host };
    }
    return (original as (...a: unknown[]) => net.Server).apply(this, args);
  } as typeof original;
  try {
    return await start();
  } finally {
    net.Server.prototype.listen = original;
  }
}
