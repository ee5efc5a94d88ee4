/**
 * SES v2 SendEmail without any HTTP: the request checked as SES checks it (SESv2 API reference:
 * SendEmail, Message, MessageHeader, RawMessage) and the message built as SES builds it, so what
 * reaches the mailbox is what a recipient would get: docs/emulators.md#ses-v2.
 */
import { simpleParser } from "mailparser";
import addressparser from "nodemailer/lib/addressparser";
import MailComposer from "nodemailer/lib/mail-composer";
import { z } from "zod";
import { ApiError } from "../http";

/** SES's limit of recipients (To, Cc and Bcc together) per message. */
export const MAX_RECIPIENTS = 50;

const content = z.object({ Data: z.string(), Charset: z.string().optional() });
const addresses = z.array(z.string()).optional();
const sendEmailRequest = z.object({
  FromEmailAddress: z.string().optional(),
  Destination: z.object({ ToAddresses: addresses, CcAddresses: addresses, BccAddresses: addresses }).optional(),
  ReplyToAddresses: addresses,
  ConfigurationSetName: z.string().optional(),
  EmailTags: z.array(z.object({ Name: z.string(), Value: z.string() })).optional(),
  Content: z.object({
    Simple: z
      .object({
        Subject: content,
        Body: z.object({ Text: content.optional(), Html: content.optional() }),
        Headers: z.array(z.object({ Name: z.string(), Value: z.string() })).optional(),
      })
      .optional(),
    Raw: z.object({ Data: z.string() }).optional(),
    Template: z.unknown().optional(),
  }),
});

export type SendEmailRequest = z.infer<typeof sendEmailRequest>;

/** A message SES accepted to send: who sends it, to whom, and its bytes. */
export interface OutgoingMail {
  /** The sender's address (the envelope's MAIL FROM). */
  from: string;
  /** Every recipient's address, To, Cc and Bcc, each once. */
  recipients: string[];
  /** The addresses of the To header. */
  to: string[];
  subject: string;
  configurationSetName?: string;
  tags: Record<string, string[]>;
  raw: Buffer;
}

/** Checks a SendEmail request and builds its message; throws BadRequestException as SES does. */
export async function composeMail(body: unknown, messageIdHeader: string): Promise<OutgoingMail> {
  const parsed = sendEmailRequest.safeParse(body);
  if (!parsed.success) throw badRequest(`Invalid SendEmail request: ${parsed.error.issues.map(describeIssue).join("; ")}`);
  const request = parsed.data;
  const kinds = (["Simple", "Raw", "Template"] as const).filter((kind) => request.Content[kind] !== undefined);
  if (kinds.length !== 1) throw badRequest("Content must have exactly one of Simple, Raw or Template.");
  if (kinds[0] === "Template") throw badRequest("Template content is not supported by the local SES; send Simple or Raw content.");
  const mail = request.Content.Simple ? await composeSimple(request, messageIdHeader) : await readRaw(request);
  if (mail.recipients.length === 0) throw badRequest("The message has no recipients.");
  if (mail.recipients.length > MAX_RECIPIENTS) throw badRequest(`Recipient count exceeds ${MAX_RECIPIENTS}.`);
  const tags = Object.fromEntries((request.EmailTags ?? []).map((tag) => [tag.Name, [tag.Value]]));
  return { ...mail, configurationSetName: request.ConfigurationSetName, tags };
}

type ComposedMail = Omit<OutgoingMail, "configurationSetName" | "tags">;

async function composeSimple(request: SendEmailRequest, messageIdHeader: string): Promise<ComposedMail> {
  const simple = request.Content.Simple!;
  if (!request.FromEmailAddress) throw badRequest("FromEmailAddress is required for Simple content.");
  const from = singleAddress(request.FromEmailAddress, "FromEmailAddress");
  const { ToAddresses = [], CcAddresses = [], BccAddresses = [] } = request.Destination ?? {};
  const to = ToAddresses.map((address) => singleAddress(address, "ToAddresses"));
  const copies = [...CcAddresses.map((a) => singleAddress(a, "CcAddresses")), ...BccAddresses.map((a) => singleAddress(a, "BccAddresses"))];
  for (const address of request.ReplyToAddresses ?? []) singleAddress(address, "ReplyToAddresses");
  if (!simple.Body.Text && !simple.Body.Html) throw badRequest("The message body must have Text, Html or both.");
  const headers = (simple.Headers ?? []).map(({ Name, Value }) => {
    checkHeader(Name, Value);
    // Prepared: written as given, as SES adds them (no re-encoding, no folding).
    return { key: Name, value: { prepared: true, value: Value } };
  });
  const raw = await new MailComposer({
    from: request.FromEmailAddress,
    to: ToAddresses,
    cc: CcAddresses,
    bcc: BccAddresses,
    replyTo: request.ReplyToAddresses,
    subject: simple.Subject.Data,
    text: simple.Body.Text?.Data,
    html: simple.Body.Html?.Data,
    messageId: messageIdHeader,
    headers,
  })
    .compile()
    .build();
  return { from, recipients: unique([...to, ...copies]), to, subject: simple.Subject.Data, raw };
}

async function readRaw(request: SendEmailRequest): Promise<ComposedMail> {
  const raw = Buffer.from(request.Content.Raw!.Data, "base64");
  if (!/\r?\n\r?\n/.test(raw.toString("latin1")))
    throw badRequest("The raw message must have a header and a body, separated by a blank line.");
  const message = await simpleParser(raw);
  const named = (field: typeof message.to) =>
    (field === undefined ? [] : Array.isArray(field) ? field : [field]).flatMap((list) => list.value.map((entry) => entry.address ?? ""));
  const destination = request.Destination;
  const recipients = destination
    ? [...(destination.ToAddresses ?? []), ...(destination.CcAddresses ?? []), ...(destination.BccAddresses ?? [])].map((address) =>
        singleAddress(address, "Destination"),
      )
    : [...named(message.to), ...named(message.cc), ...named(message.bcc)].filter(Boolean);
  const fromHeader = named(message.from)[0];
  const from = request.FromEmailAddress ? singleAddress(request.FromEmailAddress, "FromEmailAddress") : fromHeader;
  if (!from) throw badRequest("The raw message has no From header and the request no FromEmailAddress.");
  return { from, recipients: unique(recipients), to: named(message.to), subject: message.subject ?? "", raw };
}

/** The address of a field that must name exactly one mailbox ("a@b.test" or "Name <a@b.test>"). */
function singleAddress(value: string, field: string): string {
  const parsed = addressparser(value, { flatten: true });
  const address = parsed.length === 1 ? parsed[0].address : "";
  if (!address || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address)) throw badRequest(`Illegal address in ${field}: ${JSON.stringify(value)}.`);
  return address;
}

/** MessageHeader's rules: a name of printable ASCII without ":" (at most 126), a printable ASCII value (at most 995), 996 together. */
function checkHeader(name: string, value: string): void {
  if (!/^[\x21-\x39\x3b-\x7e]{1,126}$/.test(name)) throw badRequest(`Invalid header name ${JSON.stringify(name)}.`);
  if (!/^[\x20-\x7e]{0,995}$/.test(value) || name.length + value.length > 996)
    throw badRequest(`Invalid value for header ${name}: printable ASCII only, at most 995 characters.`);
}

function unique(addresses: string[]): string[] {
  const seen = new Set<string>();
  return addresses.filter((address) => {
    const key = address.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function describeIssue(issue: z.core.$ZodIssue): string {
  return `${issue.path.join(".") || "(request)"}: ${issue.message}`;
}

function badRequest(message: string): ApiError {
  return new ApiError("BadRequestException", message, 400);
}
