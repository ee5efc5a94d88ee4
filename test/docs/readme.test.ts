import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createTestDatabase, type TestDatabase } from "@donut-states/core/testing";
import { waitFor } from "@donut-states/emulators/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bashBlock, type DocStep, expectedPairs, leaves, matches, section, steps } from "./markdown";

/**
 * The README is executable: `npm start` as the quick start says, then the commands of "Using the
 * Sales API" and "Watching a restock happen" exactly as written (only the documented addresses
 * replaced by the ports this stack got), each checked against the status and fields its comment
 * shows. The `--json` invocations the README and runbook show must print one JSON document.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const README = readFileSync(path.join(ROOT, "README.md"), "utf8");
const RUNBOOK = readFileSync(path.join(ROOT, "docs/runbook.md"), "utf8");
const DOCUMENTED = { api: "http://127.0.0.1:3000", factory: "http://127.0.0.1:3001" };
const exec = promisify(execFile);

let database: TestDatabase;
let localDir: string;
let stack: ChildProcess;
let output = "";
let banner: string[] = [];
let api = "";
let factory = "";

/** Environment of every command: where this stack's files are (the README's run in the repo's .local). */
const commandEnv = () => ({ ...process.env, LOCAL_DIR: localDir, DATABASE_URL: database.url });

beforeAll(async () => {
  database = await createTestDatabase("docs");
  localDir = await mkdtemp(path.join(os.tmpdir(), "donut-docs-"));
  stack = spawn("npm", ["start"], {
    cwd: ROOT,
    detached: true,
    env: {
      ...commandEnv(),
      // Every port free, so this runs beside `npm start` and other tests.
      PORT: "0",
      DASHBOARD_PORT: "0",
      SQS_PORT: "0",
      EVENTBRIDGE_PORT: "0",
      SMTP_PORT: "0",
      FACTORY_PORT: "0",
      // Longer than the README's 3 s: on a busy machine one command here can take 15 s, and the
      // walkthrough's 409 must come before the callback. The step that waits for it polls.
      FACTORY_DELAY_MS: "60000",
      POWERTOOLS_LOG_LEVEL: "ERROR",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  stack.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  stack.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  await waitFor(
    "npm start to print where everything runs",
    () => {
      if (stack.exitCode !== null) throw new Error(`npm start exited ${stack.exitCode}:\n${output}`);
      return output.includes("Ctrl-C to stop.");
    },
    240_000,
  );
  const lines = output.split("\n");
  const first = lines.findIndex((line) => line.includes("Donut-States is running offline."));
  banner = lines.slice(first, lines.indexOf("", first));
  api = /Sales API\s+(\S+)/.exec(output)![1];
  factory = /Factory API\s+(\S+)/.exec(output)![1];
}, 300_000);

afterAll(async () => {
  if (stack?.pid && stack.exitCode === null) {
    // The whole process group: npm, its shell and the stack's node process.
    const signal = (name: NodeJS.Signals) => {
      try {
        process.kill(-stack.pid!, name);
      } catch {
        // already gone
      }
    };
    const exited = new Promise((resolve) => stack.once("exit", resolve));
    signal("SIGINT");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 30_000))]);
    signal("SIGKILL");
  }
  await database?.drop();
  if (localDir) await rm(localDir, { recursive: true, force: true });
}, 60_000);

/** A documented command line with the documented addresses replaced by this stack's. */
const localized = (command: string) => command.replaceAll(DOCUMENTED.api, api).replaceAll(DOCUMENTED.factory, factory);

/** curl as written, plus the status code on a line of its own for the test to read. */
const CURL_WITH_STATUS = `curl() { command curl -w '\\n@@status %{http_code}\\n' "$@"; }`;

async function runStep(step: DocStep, assignments: string[]): Promise<{ status?: number; body: string; stdout: string }> {
  const script = [CURL_WITH_STATUS, ...assignments.map(localized), localized(step.command)].join("\n");
  const { stdout } = await exec("bash", ["-c", script], { cwd: ROOT, env: commandEnv(), timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
  const status = /\n@@status (\d{3})\n?$/.exec(stdout);
  return { status: status ? Number(status[1]) : undefined, body: status ? stdout.slice(0, status.index) : stdout, stdout };
}

/** Run a README block's commands in order; each one's output must match the comment below it. */
async function runBlock(block: string) {
  const assignments: string[] = [];
  for (const step of steps(block)) {
    if (/^[A-Z_]+=\S+$/.test(step.command)) {
      assignments.push(step.command);
      continue;
    }
    const check = async () => {
      const result = await runStep(step, assignments);
      if (!step.expected) return { ok: true, result, problems: [] as string[] };
      const problems: string[] = [];
      if (step.expected.status !== undefined && result.status !== step.expected.status)
        problems.push(`status ${result.status}, README shows ${step.expected.status}`);
      if (step.expected.status === undefined && result.status !== undefined && (result.status < 200 || result.status > 299))
        problems.push(`status ${result.status}`);
      let actual: unknown;
      try {
        actual = JSON.parse(result.body);
      } catch {
        problems.push(`not JSON: ${result.body.slice(0, 200)}`);
      }
      if (actual !== undefined) problems.push(...matches(leaves(actual), expectedPairs(step.expected.text)));
      return { ok: problems.length === 0, result, problems };
    };
    // A read may wait for the pipeline (the factory calls back later); a write runs once.
    const isRead = !/\s-X\s|\s-d\s/.test(step.command) && step.command.startsWith("curl");
    let last = await check();
    const deadline = Date.now() + (isRead ? 180_000 : 0);
    while (!last.ok && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      last = await check();
    }
    expect(last.problems, `${step.command}\n→ ${last.result.stdout}`).toEqual([]);
  }
}

describe("README quick start", () => {
  it("npm start prints the addresses the README shows", () => {
    const shown = bashBlockAfter(README, "`npm start` prints where everything runs:");
    const labels = (lines: string[]) =>
      lines.map((line) => /^(\s*\S[^:/]*?)\s{2,}|^(\S.*)$/.exec(line)).map((m) => (m?.[1] ?? m?.[2] ?? "").trim());
    expect(labels(banner)).toEqual(labels(shown.split("\n").filter(Boolean)));
    expect(api).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("Using the Sales API: every command answers what the README shows, after npm run demo:reset -- --yes", async () => {
    const intro = section(README, "## Using the Sales API");
    expect(intro).toContain("npm run demo:reset -- --yes");
    await exec("npm", ["run", "demo:reset", "--", "--yes"], { cwd: ROOT, env: commandEnv(), timeout: 120_000 });
    await runBlock(bashBlock(intro));
  }, 600_000);

  it("Watching a restock happen: the walkthrough as written, from its demo reset to the restocked shelf", async () => {
    const block = bashBlock(section(README, "## Watching a restock happen"));
    expect(block).toMatch(/^npm run demo:reset -- --yes$/m);
    await runBlock(block);
  }, 600_000);
});

describe("--json as documented", () => {
  it("every --json command the README and runbook show prints one JSON document on stdout", async () => {
    const documented = [...fencedLines(README), ...fencedLines(RUNBOOK)]
      .map((line) => line.replace(/\s+#.*$/, "").trim())
      .filter((line) => /\s--json(\s|$)/.test(line));
    // npm's banner goes to stdout: `npm run ops` without -s would not parse.
    expect(documented.filter((line) => /^npm run (?!-s )/.test(line))).toEqual([]);
    const runnable = documented.filter((line) => /^(npx donut-ops|npm run -s ops -- )/.test(line) && !/\bstage\b|<|…/.test(line));
    expect(runnable.some((line) => line.startsWith("npx donut-ops"))).toBe(true);
    expect(runnable.some((line) => line.startsWith("npm run -s ops"))).toBe(true);
    for (const line of new Set(runnable)) {
      const { stdout } = await exec("bash", ["-c", line], { cwd: ROOT, env: commandEnv(), timeout: 120_000 });
      expect(() => JSON.parse(stdout), `${line}\n→ ${stdout.slice(0, 300)}`).not.toThrow();
    }
  }, 600_000);
});

/** The fenced block right after a sentence (any language). */
function bashBlockAfter(markdown: string, sentence: string): string {
  const at = markdown.indexOf(sentence);
  expect(at, sentence).toBeGreaterThan(0);
  return /```[a-z]*\n([\s\S]*?)```/.exec(markdown.slice(at))![1];
}

/** Every line inside fenced code blocks. */
function fencedLines(markdown: string): string[] {
  return [...markdown.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].flatMap((match) => match[1].split("\n"));
}
