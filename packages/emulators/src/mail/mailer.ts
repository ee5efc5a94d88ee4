/**
 * Outgoing mail for a local stack. A thin wrapper so callers depend on
 * `send({to, subject, text})` and not on nodemailer, and so the From address
 * mimics what SNS e-mail subscriptions use in AWS.
 */
import nodemailer from "nodemailer";

/** The sender AWS SNS uses for e-mail subscriptions. */
export const DEFAULT_FROM = "AWS Notifications <no-reply@sns.amazonaws.com>";

export interface MailToSend {
  to: string[];
  subject: string;
  text: string;
}

export interface Mailer {
  /** Resolves once the SMTP server accepted the message; rejects otherwise (e.g. server down). */
  send(mail: MailToSend): Promise<{ messageId: string; accepted: string[] }>;
  close(): void;
}

export function createMailer(options: { smtpUrl: string; from?: string }): Mailer {
  const transport = nodemailer.createTransport(options.smtpUrl);
  const from = options.from ?? DEFAULT_FROM;
  return {
    async send({ to, subject, text }) {
      if (to.length === 0) throw new Error("send: no recipients");
      const info = await transport.sendMail({ from, to, subject, text });
      return {
        messageId: info.messageId,
        accepted: (info.accepted as unknown[]).map((a) => (typeof a === "string" ? a : (a as { address: string }).address)),
      };
    },
    close: () => transport.close(),
  };
}
