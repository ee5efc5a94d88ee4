/**
 * A local Amazon SES (API v2) endpoint for the unmodified SESv2Client: SendEmail into the mail log
 * over SMTP, GetAccount and the account-level suppression list, with SES's refusals, sending quota
 * and injectable faults. What it keeps of SES, and where it differs: docs/emulators.md#ses-v2.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { ApiError, connectableHost, listen, readBody, sendError, sendJson } from "../http";
import { createMailer } from "../mail/mailer";
import { messageEvents, type SesEvent } from "./events";
import { sendQuota } from "./quota";
import { composeMail, type OutgoingMail } from "./send-email";

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

export async function startSes(options: StartSesOptions): Promise<SesEmulator> {
  const { region, accountId = "000000000000", identities, log = () => {} } = options;
  const host = options.host ?? "127.0.0.1";
  const mailer = createMailer({ smtpUrl: options.smtpUrl, connections: 4 });
  const quota = sendQuota(options.maxSendRate ?? 14, options.max24HourSend ?? 50_000);
  const suppressed = new Map<string, SuppressedDestination>();
  const rejected = new Map<string, string>();
  const faults: Array<{ fault: SesFault; left: number }> = [];
  const hanging = new Set<ServerResponse>();
  let stats = emptyStats();

  const sendEmail = async (body: unknown): Promise<{ messageId: string; mail: OutgoingMail; delivered: string[] }> => {
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
    const exceeded = quota.take(mail.recipients.length);
    if (exceeded) {
      stats.throttled++;
      throw new ApiError("TooManyRequestsException", exceeded, 429);
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
    stats.accepted++;
    stats.delivered += deliverable.length;
    stats.suppressed += mail.recipients.length - deliverable.length;
    return { messageId, mail, delivered: deliverable };
  };

  const publish = (messageId: string, mail: OutgoingMail, delivered: string[]) => {
    if (!options.onEvent) return;
    for (const event of messageEvents(messageId, mail, delivered, accountId)) {
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
        const { messageId, mail, delivered } = await sendEmail(body());
        sendJson(res, 200, { MessageId: messageId });
        return publish(messageId, mail, delivered);
      }
      case "GetAccount":
        return sendJson(res, 200, {
          DedicatedIpAutoWarmupEnabled: false,
          EnforcementStatus: "HEALTHY",
          ProductionAccessEnabled: true,
          SendingEnabled: true,
          SendQuota: { Max24HourSend: quota.max24HourSend, MaxSendRate: quota.maxSendRate, SentLast24Hours: quota.sentLast24Hours },
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
    setMaxSendRate: (perSecond) => quota.setMaxSendRate(perSecond),
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
