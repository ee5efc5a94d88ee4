/** What only the offline stack (`npm start`) uses: its compressed clock and its fixed credentials. */

/**
 * The offline stack runs this same topology on a compressed clock, so a failing factory call
 * reaches the DLQ (and the alert e-mail) in about half a minute instead of the quarter of an
 * hour the AWS settings imply. Each value can still be overridden by an environment variable.
 */
export const offlineClock = {
  visibilityTimeoutSeconds: 5,
  factoryRequestTimeoutMs: 2_000,
  restockSlaSeconds: 60,
  /** Five offline relay intervals, and several visibility timeouts. */
  restockPendingSeconds: 30,
} as const;

/**
 * The fixed credentials of the offline stack: the emulators accept them, the offline gateway
 * verifies admin requests' SigV4 signatures against them, and the ops CLI signs with them when
 * it talks to the offline stack. Not a secret: nothing offline is reachable from elsewhere.
 */
export const offlineCredentials = {
  accessKeyId: "local",
  secretAccessKey: "local",
  accountId: "000000000000",
} as const;
