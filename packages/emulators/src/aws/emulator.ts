/**
 * In-process SQS + SNS for a local stack, backed by fauxqs. What fauxqs does and does not do as
 * AWS does (explicit endpoints, the fixed account id, lazy redrive, long polls) shapes this module
 * and its callers: docs/emulators.md#fauxqs-sqs-and-sns.
 */

import net from "node:net";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { type FauxqsServer, startFauxqs } from "fauxqs";
import { connectableHost } from "../http";

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

/**
 * Build SDK clients for an already running fauxqs (or any endpoint). Tests that silence an
 * emulator shorten the request timeout (it must still outlast their long polls) and the attempts.
 */
export function createLocalClients(
  endpoint: string,
  region: string,
  { requestTimeoutMs, maxAttempts }: { requestTimeoutMs?: number; maxAttempts?: number } = {},
): { sqs: SQSClient; sns: SNSClient } {
  const requestHandler = { ...LOCAL_CLIENT_CONFIG.requestHandler, ...(requestTimeoutMs ? { requestTimeout: requestTimeoutMs } : {}) };
  const common = {
    endpoint,
    region,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: maxAttempts ?? LOCAL_CLIENT_CONFIG.maxAttempts,
    requestHandler,
  };
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
