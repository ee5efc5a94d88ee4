/**
 * A local "mailbox": an SMTP server that accepts everything and stores each
 * message as a raw .eml file, so alarm e-mails are real, inspectable files
 * (open them in any mail client) instead of console noise.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { type AddressObject, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

export interface SmtpSinkOptions {
  /** 0 (default) lets the OS pick a free port. */
  port?: number;
  /** Interface to bind; default 127.0.0.1 (never expose an open relay). */
  host?: string;
  /** Directory for .eml files; created if missing. */
  dir: string;
  /** Receives exactly one line per stored mail. */
  log?: (line: string) => void;
}

export interface SmtpSink {
  port: number;
  /** smtp://HOST:PORT, ready for createMailer / nodemailer. */
  url: string;
  close(): Promise<void>;
}

export interface MailboxEntry {
  /** Absolute path of the .eml file. */
  file: string;
  to: string[];
  from: string;
  subject: string;
  text: string;
  date: Date;
}

export async function startSmtpSink(options: SmtpSinkOptions): Promise<SmtpSink> {
  const { port = 0, host = "127.0.0.1", log = () => {} } = options;
  const dir = path.resolve(options.dir);
  await mkdir(dir, { recursive: true });

  const server = new SMTPServer({
    // A dev sink: no auth, no TLS; nothing leaves the machine.
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    logger: false,
    // Default is 30 s, which would make close() (and tests) hang on idle clients.
    closeTimeout: 1_000,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("error", callback);
      stream.on("end", () => {
        const raw = Buffer.concat(chunks);
        const rcpt = session.envelope.rcptTo.map((a) => a.address);
        saveMessage(dir, raw)
          .then(async (file) => {
            const subject = await subjectOf(raw);
            log(`${new Date().toISOString()} mail to=${rcpt.join(",")} subject=${JSON.stringify(subject)} file=${file}`);
            callback();
          })
          // Reporting the error makes the client see a 4xx/5xx and retry,
          // instead of believing the mail was delivered.
          .catch((err: Error) => callback(err));
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  // Errors after startup (e.g. a client resetting the socket) must not crash the stack.
  server.on("error", (err) => log(`${new Date().toISOString()} smtp-sink error: ${err.message}`));
  const address = server.server.address();
  const actualPort = typeof address === "object" && address ? address.port : port;

  let closed = false;
  return {
    port: actualPort,
    url: `smtp://${host}:${actualPort}`,
    close: () =>
      closed
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            closed = true;
            server.close(() => resolve());
          }),
  };
}

let sequence = 0;
/**
 * Sortable, filesystem-safe name: 2026-01-01T00-00-00-000Z-<id>.eml. The id
 * starts with a counter so two mails in the same millisecond still sort in
 * arrival order; the random tail keeps names unique across processes.
 */
function emlName(now = new Date()): string {
  const id = `${(sequence++ % 0x10000).toString(16).padStart(4, "0")}${randomBytes(2).toString("hex")}`;
  return `${now.toISOString().replace(/[:.]/g, "-")}-${id}.eml`;
}

/** Write-then-rename so readers (dashboard, CLI) never see a half-written file. */
async function saveMessage(dir: string, raw: Buffer): Promise<string> {
  const file = path.join(dir, emlName());
  const tmp = `${file}.tmp`;
  await writeFile(tmp, raw);
  await rename(tmp, file);
  return file;
}

async function subjectOf(raw: Buffer): Promise<string> {
  try {
    return (await simpleParser(raw)).subject ?? "";
  } catch {
    return "";
  }
}

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const list = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return list.flatMap((a) => a.value.map((v) => v.address ?? "").filter(Boolean));
}

/** All stored mails, oldest first (file names sort chronologically). Missing dir = empty mailbox. */
export async function readMailbox(dir: string): Promise<MailboxEntry[]> {
  const abs = path.resolve(dir);
  let names: string[];
  try {
    names = (await readdir(abs)).filter((n) => n.endsWith(".eml")).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  return Promise.all(
    names.map(async (name) => {
      const file = path.join(abs, name);
      const parsed = await simpleParser(await readFile(file));
      return {
        file,
        to: addresses(parsed.to),
        from: parsed.from?.text ?? "",
        subject: parsed.subject ?? "",
        text: parsed.text ?? "",
        date: parsed.date ?? (await stat(file)).mtime,
      };
    }),
  );
}
