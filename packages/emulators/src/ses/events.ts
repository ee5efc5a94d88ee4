/** The events SES publishes for a message to a configuration set's event destination: docs/emulators.md#ses-v2. */
import { randomBytes } from "node:crypto";
import type { OutgoingMail } from "./send-email";

/** What SES's event publishing sends for a message (the parts offline mail produces). */
export interface SesEvent {
  eventType: "Send" | "Delivery" | "Bounce";
  mail: {
    timestamp: string;
    messageId: string;
    source: string;
    sendingAccountId: string;
    destination: string[];
    commonHeaders: { from: string[]; to: string[]; messageId: string; subject: string };
    tags: Record<string, string[]>;
  };
  delivery?: { timestamp: string; recipients: string[]; processingTimeMillis: number; smtpResponse: string; reportingMTA: string };
  bounce?: {
    bounceType: "Permanent";
    bounceSubType: "OnAccountSuppressionList";
    bouncedRecipients: Array<{ emailAddress: string; action: "failed"; status: "5.1.1"; diagnosticCode: string }>;
    timestamp: string;
    feedbackId: string;
    reportingMTA: string;
  };
}

const SUPPRESSED_DIAGNOSTIC = "Amazon SES did not send the message to this address because it is on the suppression list for your account.";

/** Send, then Delivery for the recipients mailed and Bounce for those on the suppression list. */
export function messageEvents(messageId: string, mail: OutgoingMail, delivered: string[], accountId: string): SesEvent[] {
  const timestamp = new Date().toISOString();
  const mailObject: SesEvent["mail"] = {
    timestamp,
    messageId,
    source: mail.from,
    sendingAccountId: accountId,
    destination: mail.recipients,
    commonHeaders: { from: [mail.from], to: mail.to, messageId, subject: mail.subject },
    tags: {
      ...mail.tags,
      "ses:from-domain": [mail.from.split("@")[1]],
      ...(mail.configurationSetName ? { "ses:configuration-set": [mail.configurationSetName] } : {}),
    },
  };
  const bounced = mail.recipients.filter((address) => !delivered.includes(address));
  const events: SesEvent[] = [{ eventType: "Send", mail: mailObject }];
  if (delivered.length) {
    events.push({
      eventType: "Delivery",
      mail: mailObject,
      delivery: { timestamp, recipients: delivered, processingTimeMillis: 0, smtpResponse: "250 OK", reportingMTA: "local-ses" },
    });
  }
  if (bounced.length) {
    events.push({
      eventType: "Bounce",
      mail: mailObject,
      bounce: {
        bounceType: "Permanent",
        bounceSubType: "OnAccountSuppressionList",
        bouncedRecipients: bounced.map((emailAddress) => ({
          emailAddress,
          action: "failed",
          status: "5.1.1",
          diagnosticCode: SUPPRESSED_DIAGNOSTIC,
        })),
        timestamp,
        feedbackId: randomBytes(16).toString("hex"),
        reportingMTA: "dns; amazonses.com",
      },
    });
  }
  return events;
}
