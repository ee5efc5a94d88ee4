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
  /** A message composed elsewhere, relayed byte for byte to the envelope's recipients (as an MTA relays it). */
  sendRaw(envelope: { from: string; to: string[] }, raw: Buffer): Promise<{ messageId: string; accepted: string[] }>;
  close(): void;
}

export function createMailer(options: {
  smtpUrl: string;
  from?: string;
  /** SMTP connections kept open and reused (default: a new connection per mail). */
  connections?: number;
}): Mailer {
  const { smtpUrl, connections } = options;
  const transport = nodemailer.createTransport(connections ? { url: smtpUrl, pool: true, maxConnections: connections } : smtpUrl);
  const from = options.from ?? DEFAULT_FROM;
  const sent = (info: { messageId: string; accepted: unknown[] }) => ({
    messageId: info.messageId,
    accepted: info.accepted.map((a) => (typeof a === "string" ? a : (a as { address: string }).address)),
  });
  return {
    async send({ to, subject, text }) {
      if (to.length === 0) throw new Error("send: no recipients");
      return sent(await transport.sendMail({ from, to, subject, text }));
    },
    async sendRaw(envelope, raw) {
      if (envelope.to.length === 0) throw new Error("sendRaw: no recipients");
      return sent(await transport.sendMail({ envelope, raw }));
    },
    close: () => transport.close(),
  };
}
