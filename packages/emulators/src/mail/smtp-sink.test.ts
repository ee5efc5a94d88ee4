import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createMailer } from "./mailer";
import { readMailbox, type SmtpSink, startSmtpSink } from "./smtp-sink";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "smtp-sink-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function sink(dir: string, log?: (l: string) => void): Promise<SmtpSink> {
  const s = await startSmtpSink({ dir, log });
  cleanups.push(() => s.close());
  return s;
}

describe("startSmtpSink", () => {
  it("saves each mail as a raw .eml and logs exactly one line", async () => {
    const dir = path.join(await tempDir(), "nested", "mailbox"); // must be created
    const lines: string[] = [];
    const s = await sink(dir, (l) => lines.push(l));
    expect(s.url).toBe(`smtp://127.0.0.1:${s.port}`);

    const mailer = createMailer({ smtpUrl: s.url });
    cleanups.push(async () => mailer.close());
    const info = await mailer.send({ to: ["ops@donut.test", "boss@donut.test"], subject: "Glazed out", text: "Restock failed twice." });
    expect(info.accepted.sort()).toEqual(["boss@donut.test", "ops@donut.test"]);

    const files = await readdir(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z-[0-9a-f]+\.eml$/);
    const raw = await readFile(path.join(dir, files[0]), "utf8");
    expect(raw).toMatch(/^Subject: Glazed out\r?$/m);
    expect(raw).toContain("Restock failed twice.");

    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("ops@donut.test,boss@donut.test");
    expect(lines[0]).toContain('"Glazed out"');
    expect(lines[0]).toContain(path.join(dir, files[0]));

    const box = await readMailbox(dir);
    expect(box).toHaveLength(1);
    expect(box[0]).toMatchObject({
      file: path.join(dir, files[0]),
      to: ["ops@donut.test", "boss@donut.test"],
      subject: "Glazed out",
      text: "Restock failed twice.\n",
    });
    expect(box[0].from).toContain("no-reply@sns.amazonaws.com");
    expect(box[0].date).toBeInstanceOf(Date);
  });

  it("keeps mails in arrival order and reads a missing mailbox as empty", async () => {
    const dir = await tempDir();
    expect(await readMailbox(path.join(dir, "nope"))).toEqual([]);
    const s = await sink(dir);
    const mailer = createMailer({ smtpUrl: s.url, from: "shop@donut.test" });
    cleanups.push(async () => mailer.close());
    for (const subject of ["one", "two", "three"]) await mailer.send({ to: ["a@donut.test"], subject, text: subject });
    const box = await readMailbox(dir);
    expect(box.map((m) => m.subject)).toEqual(["one", "two", "three"]);
    expect(box[0].from).toBe("shop@donut.test");
  });
});

describe("createMailer", () => {
  it("rejects when the SMTP server is down", async () => {
    const s = await startSmtpSink({ dir: await tempDir() });
    await s.close();
    const mailer = createMailer({ smtpUrl: s.url });
    await expect(mailer.send({ to: ["a@donut.test"], subject: "x", text: "y" })).rejects.toThrow(/ECONNREFUSED|connect/i);
    mailer.close();
  });
});
