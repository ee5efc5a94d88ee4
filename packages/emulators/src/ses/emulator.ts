/**
 * A local Amazon SES (API v2) endpoint that delivers into the local mailbox.
 *
 * It speaks the REST-JSON protocol of the unmodified SESv2Client (reached through
 * `AWS_ENDPOINT_URL_SESV2` or an explicit `endpoint`) for the operations a mailer uses:
 * SendEmail, GetAccount and the account-level suppression list (Put/Get/DeleteSuppressedDestination).
 * Each accepted mail is relayed over SMTP (the sink that stores operations' mails as .eml files,
 * or any SMTP server) before SendEmail answers, so a MessageId means the mail is in the mailbox.
 *
 * What SES does and the mailer can observe, kept here (SES developer guide and API reference):
 * - Account-level suppression list: SendEmail to a suppressed address is accepted (MessageId) and
 *   that recipient is not mailed; SES reports it as a Bounce event with bounceSubType
 *   OnAccountSuppressionList (to `onEvent`, as to a configuration set's event destination).
 * - Rejection: a message SES refuses fails with MessageRejected (HTTP 400), e.g. a From outside the
 *   verified identities, or an address a test marked with `rejectAddress`.
 * - Sending quota: more recipients per second than MaxSendRate, or per 24 hours than Max24HourSend,
 *   fail with TooManyRequestsException (HTTP 429, "Maximum sending rate exceeded."), which the SDK
 *   treats as throttling and retries.
 * Credentials are accepted and not checked. Nothing is kept across restarts.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { ApiError, connectableHost, listen, readBody, sendError, sendJson } from "../http";
import { createMailer } from "../mail/mailer";
import { composeMail, type OutgoingMail } from "./send-email";

/** What SES's AWS/SES event publishing sends for a message (the parts offline mail produces). */
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

/** The answers a test can make the next SendEmail calls get (`silent`: none at all, the call hangs). */
export const SES_FAULTS = {
  InternalFailure: { status: 500, message: "The request processing has failed because of an unknown error." },
  ServiceUnavailable: { status: 503, message: "The request has failed due to a temporary failure of the server." },
  TooManyRequestsException: { status: 429, message: "Maximum sending rate exceeded." },
  MessageRejected: { status: 400, message: "Email address is not verified." },
  SendingPausedException: { status: 400, message: "Sending is paused for this account." },
  AccountSuspendedException: { status: 400, message: "Your account has been suspended." },
  silent: { status: 0, message: "" },
} as const;
export type SesFault = keyof typeof SES_FAULTS;

export interface StartSesOptions {
  /** 0 (default) lets the OS pick a free port. */
  port?: number;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  region: string;
  accountId?: string;
  /** Where accepted mails go: the mail log's SMTP sink, or any SMTP server. */
  smtpUrl: string;
  /** SES's MaxSendRate, recipients per second (default 14, a new production account's). */
  maxSendRate?: number;
  /** SES's Max24HourSend (default 50,000). */
  max24HourSend?: number;
  /** Verified identities (addresses or domains) a From may use; omitted, any. */
  identities?: string[];
  /** Each event SES would publish (Send, Delivery, Bounce); an error it throws is logged. */
  onEvent?: (event: SesEvent) => void;
  log?: (line: string) => void;
}

export interface SesStats {
  /** Requests received by operation, whatever became of them (each SDK retry is one more). */
  calls: Record<string, number>;
  /** SendEmail calls answered with a MessageId. */
  accepted: number;
  /** Recipients whose mail the SMTP server took. */
  delivered: number;
  /** Recipients not mailed because they are on the suppression list. */
  suppressed: number;
  /** SendEmail calls answered MessageRejected (faults excepted). */
  rejected: number;
  /** SendEmail calls refused for the sending quota (TooManyRequestsException). */
  throttled: number;
  /** SendEmail calls given an injected fault. */
  faulted: number;
}

export interface SesEmulator {
  /** e.g. http://127.0.0.1:PORT - AWS_ENDPOINT_URL_SESV2, or the client's `endpoint`. */
  endpoint: string;
  port: number;
  readonly stats: SesStats;
  resetStats(): void;
  /** Puts an address on the account-level suppression list (as PutSuppressedDestination does). */
  suppress(address: string, reason?: "BOUNCE" | "COMPLAINT"): void;
  unsuppress(address: string): void;
  /** Every SendEmail naming the address fails with MessageRejected (`message` as the error's text). */
  rejectAddress(address: string, message?: string): void;
  /** Undoes rejectAddress. */
  acceptAddress(address: string): void;
  /** The next `count` SendEmail calls (Infinity: all, until clearFaults) get `fault` instead. */
  failNext(count: number, fault: SesFault): void;
  clearFaults(): void;
  /** Changes MaxSendRate (recipients per second) from now on. */
  setMaxSendRate(perSecond: number): void;
  close(): Promise<void>;
}

interface SuppressedDestination {
  EmailAddress: string;
  Reason: "BOUNCE" | "COMPLAINT";
  LastUpdateTime: Date;
}

const SUPPRESSION_PATH = "/v2/email/suppression/addresses";
const SUPPRESSED_DIAGNOSTIC = "Amazon SES did not send the message to this address because it is on the suppression list for your account.";

export async function startSes(options: StartSesOptions): Promise<SesEmulator> {
  const { region, accountId = "000000000000", max24HourSend = 50_000, identities, log = () => {} } = options;
  const host = options.host ?? "127.0.0.1";
  const mailer = createMailer({ smtpUrl: options.smtpUrl, connections: 4 });
  const rate = sendingRate(options.maxSendRate ?? 14);
  // Recipients accepted in the last 24 hours, oldest first, and their sum.
  const sentToday: Array<{ at: number; recipients: number }> = [];
  let sentLast24Hours = 0;
  const suppressed = new Map<string, SuppressedDestination>();
  const rejected = new Map<string, string>();
  const faults: Array<{ fault: SesFault; left: number }> = [];
  const hanging = new Set<ServerResponse>();
  let stats = emptyStats();

  const sendEmail = async (body: unknown): Promise<{ messageId: string; mail: OutgoingMail }> => {
    const messageId = `${Date.now().toString(16).padStart(16, "0")}-${randomUUID()}-000000`;
    const mail = await composeMail(body, `<${messageId}@${region === "us-east-1" ? "email" : region}.amazonses.com>`);
    const unverified = identities && !verified(mail.from, identities);
    if (unverified) {
      stats.rejected++;
      throw new ApiError(
        "MessageRejected",
        `Email address is not verified. The following identities failed the check in region ${region.toUpperCase()}: ${mail.from}`,
      );
    }
    const quota = takeQuota(mail.recipients.length);
    if (quota) {
      stats.throttled++;
      throw new ApiError("TooManyRequestsException", quota, 429);
    }
    const refused = mail.recipients.find((address) => rejected.has(address.toLowerCase()));
    if (refused) {
      stats.rejected++;
      throw new ApiError("MessageRejected", rejected.get(refused.toLowerCase())!);
    }
    const deliverable = mail.recipients.filter((address) => !suppressed.has(address.toLowerCase()));
    if (deliverable.length) {
      try {
        await mailer.sendRaw({ from: mail.from, to: deliverable }, mail.raw);
      } catch (error) {
        log(`ses: SMTP refused message ${messageId} to ${deliverable.join(",")}: ${(error as Error).message}`);
        throw new ApiError("InternalFailure", `The local SES could not deliver the message: ${(error as Error).message}`, 500);
      }
    }
    sentToday.push({ at: Date.now(), recipients: mail.recipients.length });
    sentLast24Hours += mail.recipients.length;
    stats.accepted++;
    stats.delivered += deliverable.length;
    stats.suppressed += mail.recipients.length - deliverable.length;
    return { messageId, mail };
  };

  /** The quota a send of `recipients` would exceed, as SES words it, or undefined (and the quota is taken). */
  const takeQuota = (recipients: number): string | undefined => {
    const dayAgo = Date.now() - 24 * 3600_000;
    while (sentToday.length && sentToday[0].at < dayAgo) sentLast24Hours -= sentToday.shift()!.recipients;
    if (sentLast24Hours + recipients > max24HourSend) return "Daily message quota exceeded.";
    return rate.take(recipients) ? undefined : "Maximum sending rate exceeded.";
  };

  const publish = (messageId: string, mail: OutgoingMail) => {
    if (!options.onEvent) return;
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
    const bounced = mail.recipients.filter((address) => suppressed.has(address.toLowerCase()));
    const delivered = mail.recipients.filter((address) => !suppressed.has(address.toLowerCase()));
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
    for (const event of events) {
      try {
        options.onEvent(event);
      } catch (error) {
        log(`ses: the ${event.eventType} event of ${messageId} was not taken: ${(error as Error).message}`);
      }
    }
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://local");
    const text = (await readBody(req)).toString("utf8");
    const body = () => {
      try {
        return text === "" ? {} : (JSON.parse(text) as unknown);
      } catch {
        throw new ApiError("SerializationException", "Request body is not valid JSON");
      }
    };
    const operation = operationOf(req.method ?? "GET", url.pathname);
    stats.calls[operation] = (stats.calls[operation] ?? 0) + 1;
    switch (operation) {
      case "SendEmail": {
        const fault = nextFault();
        if (fault) return answerFault(res, fault);
        const { messageId, mail } = await sendEmail(body());
        sendJson(res, 200, { MessageId: messageId });
        return publish(messageId, mail);
      }
      case "GetAccount":
        return sendJson(res, 200, {
          DedicatedIpAutoWarmupEnabled: false,
          EnforcementStatus: "HEALTHY",
          ProductionAccessEnabled: true,
          SendingEnabled: true,
          SendQuota: { Max24HourSend: max24HourSend, MaxSendRate: rate.perSecond, SentLast24Hours: sentLast24Hours },
          SuppressionAttributes: { SuppressedReasons: ["BOUNCE", "COMPLAINT"] },
        });
      case "PutSuppressedDestination": {
        const { EmailAddress, Reason } = body() as { EmailAddress?: unknown; Reason?: unknown };
        if (typeof EmailAddress !== "string" || (Reason !== "BOUNCE" && Reason !== "COMPLAINT"))
          throw new ApiError("BadRequestException", "EmailAddress and a Reason of BOUNCE or COMPLAINT are required.");
        suppress(EmailAddress, Reason);
        return sendJson(res, 200, {});
      }
      case "GetSuppressedDestination": {
        const entry = suppressed.get(addressIn(url.pathname).toLowerCase());
        if (!entry)
          throw new ApiError("NotFoundException", `Email address ${addressIn(url.pathname)} does not exist on your suppression list.`, 404);
        return sendJson(res, 200, {
          SuppressedDestination: { ...entry, LastUpdateTime: Math.floor(entry.LastUpdateTime.getTime() / 1000) },
        });
      }
      case "DeleteSuppressedDestination": {
        if (!suppressed.delete(addressIn(url.pathname).toLowerCase()))
          throw new ApiError("NotFoundException", `Email address ${addressIn(url.pathname)} does not exist on your suppression list.`, 404);
        return sendJson(res, 200, {});
      }
      default:
        throw new ApiError("UnknownOperationException", `${req.method} ${url.pathname} is not supported by the local SES`, 404);
    }
  };

  const nextFault = (): SesFault | undefined => {
    const next = faults[0];
    if (!next) return undefined;
    if (--next.left <= 0) faults.shift();
    stats.faulted++;
    return next.fault;
  };

  const answerFault = (res: ServerResponse, fault: SesFault) => {
    if (fault === "silent") {
      hanging.add(res);
      res.on("close", () => hanging.delete(res));
      return;
    }
    const { status, message } = SES_FAULTS[fault];
    sendError(res, new ApiError(fault, message, status));
  };

  const suppress = (address: string, reason: "BOUNCE" | "COMPLAINT" = "BOUNCE") => {
    suppressed.set(address.toLowerCase(), { EmailAddress: address, Reason: reason, LastUpdateTime: new Date() });
  };

  const server: Server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      if (res.headersSent) return;
      if (error instanceof ApiError) return sendError(res, error);
      log(`ses: internal error: ${(error as Error).stack ?? error}`);
      sendError(res, new ApiError("InternalFailure", "internal error", 500));
    });
  });
  const port = await listen(server, options.port ?? 0, host);

  return {
    endpoint: `http://${connectableHost(host)}:${port}`,
    port,
    get stats() {
      return stats;
    },
    resetStats() {
      stats = emptyStats();
    },
    suppress,
    unsuppress: (address) => void suppressed.delete(address.toLowerCase()),
    rejectAddress: (address, message = `Address blacklisted: ${address}`) => void rejected.set(address.toLowerCase(), message),
    acceptAddress: (address) => void rejected.delete(address.toLowerCase()),
    failNext: (count, fault) => void (count > 0 && faults.push({ fault, left: count })),
    clearFaults: () => void faults.splice(0),
    setMaxSendRate: (perSecond) => rate.setPerSecond(perSecond),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // SDK clients keep connections alive, and silent calls never end on their own.
      server.closeAllConnections();
      await closed;
      mailer.close();
    },
  };
}

function emptyStats(): SesStats {
  return { calls: {}, accepted: 0, delivered: 0, suppressed: 0, rejected: 0, throttled: 0, faulted: 0 };
}

/** The SESv2 operation a request names (the SDK's method and path for it). */
function operationOf(method: string, path: string): string {
  if (method === "POST" && path === "/v2/email/outbound-emails") return "SendEmail";
  if (method === "GET" && path === "/v2/email/account") return "GetAccount";
  if (method === "PUT" && path === SUPPRESSION_PATH) return "PutSuppressedDestination";
  if (path.startsWith(`${SUPPRESSION_PATH}/`) && method === "GET") return "GetSuppressedDestination";
  if (path.startsWith(`${SUPPRESSION_PATH}/`) && method === "DELETE") return "DeleteSuppressedDestination";
  return "Unknown";
}

function addressIn(path: string): string {
  return decodeURIComponent(path.slice(SUPPRESSION_PATH.length + 1));
}

/** A From is verified when its address, or its domain, is one of the identities. */
function verified(from: string, identities: string[]): boolean {
  const address = from.toLowerCase();
  const domain = address.split("@")[1];
  return identities.some((identity) => [address, domain].includes(identity.toLowerCase()));
}

/**
 * MaxSendRate as a token bucket of recipients, one second deep: a call goes through while any
 * quota is left and takes its recipients' worth (a message to five at a rate of one per second
 * goes, and the next waits five seconds, as SES describes its rate).
 */
function sendingRate(initialPerSecond: number) {
  let perSecond = initialPerSecond;
  // At least one recipient deep, so a rate below one per second still lets a message through now and then.
  const depth = () => Math.max(1, perSecond);
  let tokens = depth();
  let updatedAt = performance.now();
  const refill = () => {
    const now = performance.now();
    tokens = Math.min(depth(), tokens + ((now - updatedAt) / 1000) * perSecond);
    updatedAt = now;
  };
  return {
    get perSecond() {
      return perSecond;
    },
    take(recipients: number): boolean {
      refill();
      if (tokens < 1) return false;
      tokens -= recipients;
      return true;
    },
    setPerSecond(value: number) {
      refill();
      perSecond = value;
      tokens = Math.min(tokens, depth());
    },
  };
}
