/** SES's sending quota, MaxSendRate and Max24HourSend, counted in recipients: docs/emulators.md#ses-v2. */

export interface SendQuota {
  readonly maxSendRate: number;
  readonly max24HourSend: number;
  /** Recipients accepted in the last 24 hours. */
  readonly sentLast24Hours: number;
  /** Takes a message's recipients' worth, or answers the quota it would exceed, as SES words it. */
  take(recipients: number): string | undefined;
  setMaxSendRate(perSecond: number): void;
}

/**
 * MaxSendRate is a bucket of recipients one second deep (at least one): a call goes through while
 * any quota is left and takes its recipients' worth, so a message to five at one per second goes,
 * and the next waits five seconds, as SES describes its rate. Max24HourSend is a sliding day.
 */
export function sendQuota(maxSendRate: number, max24HourSend: number): SendQuota {
  let perSecond = maxSendRate;
  const depth = () => Math.max(1, perSecond);
  let tokens = depth();
  let updatedAt = performance.now();
  const refill = () => {
    const now = performance.now();
    tokens = Math.min(depth(), tokens + ((now - updatedAt) / 1000) * perSecond);
    updatedAt = now;
  };
  // Recipients taken, oldest first, and their sum over the last 24 hours.
  const day: Array<{ at: number; recipients: number }> = [];
  let sentLast24Hours = 0;
  const forgetOlderThanADay = () => {
    const dayAgo = Date.now() - 24 * 3600_000;
    while (day.length && day[0].at < dayAgo) sentLast24Hours -= day.shift()!.recipients;
  };
  return {
    get maxSendRate() {
      return perSecond;
    },
    max24HourSend,
    get sentLast24Hours() {
      forgetOlderThanADay();
      return sentLast24Hours;
    },
    take(recipients) {
      forgetOlderThanADay();
      if (sentLast24Hours + recipients > max24HourSend) return "Daily message quota exceeded.";
      refill();
      if (tokens < 1) return "Maximum sending rate exceeded.";
      tokens -= recipients;
      day.push({ at: Date.now(), recipients });
      sentLast24Hours += recipients;
      return undefined;
    },
    setMaxSendRate(value) {
      refill();
      perSecond = value;
      tokens = Math.min(tokens, depth());
    },
  };
}
