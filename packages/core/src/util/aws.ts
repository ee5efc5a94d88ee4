/**
 * Client settings every AWS SDK client in this project uses, so a silent endpoint (a bus that
 * accepts the connection and never answers) fails within a known time instead of hanging the
 * caller until its Lambda times out.
 *
 * `throwOnRequestTimeout` matters: without it @smithy/node-http-handler (4.x) only logs a
 * warning when `requestTimeout` passes and keeps waiting.
 */
export interface AwsTimeouts {
  /** Time to open the TCP (and TLS) connection. */
  connectionTimeoutMs?: number;
  /** Time from sending the request to the end of the response. Long polls need more than their wait. */
  requestTimeoutMs?: number;
  /** Tries per call, the first one included (the SDK's standard retry mode). */
  maxAttempts?: number;
}

export const DEFAULT_AWS_TIMEOUTS = { connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000, maxAttempts: 2 } as const;

/** SQS receives long-poll for up to 20 s (WaitTimeSeconds): the request timeout must outlast that. */
export const SQS_TIMEOUTS = { requestTimeoutMs: 25_000 } as const satisfies AwsTimeouts;

/** Spread into any client's constructor: `new SNSClient({ ...awsClientConfig() })`. */
export function awsClientConfig(timeouts: AwsTimeouts = {}) {
  const { connectionTimeoutMs, requestTimeoutMs, maxAttempts } = { ...DEFAULT_AWS_TIMEOUTS, ...timeouts };
  return {
    maxAttempts,
    requestHandler: { connectionTimeout: connectionTimeoutMs, requestTimeout: requestTimeoutMs, throwOnRequestTimeout: true },
  };
}
