import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as Factory from "@donut-states/core/factory";
import * as Restock from "@donut-states/core/restock";
import { offlineClock } from "@donut-states/core/topology";
import { type FactorySimulator, startFactorySimulator } from "@donut-states/factory";
import { afterAll, beforeAll, expect, it } from "vitest";

/**
 * The LAST ERROR examples the runbook quotes are the messages the factory caller records: each
 * quoted example must match what a failing and a silent factory really produce.
 */
const RUNBOOK = readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../docs/runbook.md"), "utf8");
/** The host:port the runbook's examples use for the offline factory simulator. */
const DOCUMENTED_FACTORY = "127.0.0.1:3001";

let factory: FactorySimulator;
beforeAll(async () => {
  factory = await startFactorySimulator({ port: 0, delayMs: 60_000, callback: "never", hangMs: 30_000 });
});
afterAll(async () => {
  await factory?.close();
});

function documentedLastErrors(): string[] {
  const at = RUNBOOK.indexOf("# LAST ERROR");
  expect(at, "the runbook quotes LAST ERROR examples").toBeGreaterThan(0);
  const passage = RUNBOOK.slice(at, RUNBOOK.indexOf("```", at));
  return [...passage.matchAll(/"([^"]+)"/g)].map((match) => match[1]);
}

/** A quoted example as a pattern: "…" stands for anything, the documented factory for this one. */
function asPattern(example: string): RegExp {
  const escaped = example.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/…/g, ".*");
  return new RegExp(`^${escaped.replace(DOCUMENTED_FACTORY.replace(/\./g, "\\."), new URL(factory.url).host.replace(/\./g, "\\."))}$`, "s");
}

const body: Factory.ManufactureRequest = {
  MessageGroupId: Factory.MESSAGE_GROUP_ID,
  MessageAttributeProductId: "CP-502104",
  MessageAttributeProductCnt: "30",
  MessageAttributeFactoryId: "FF-500301",
  MessageAttributeRequester: "donut-states",
  CallbackUrl: "http://127.0.0.1:9/factory/callbacks/x?token=y",
};

async function lastErrorWhen(knobs: { failureRate: number; timeoutRate: number }): Promise<string> {
  factory.setOptions(knobs);
  const error = await Factory.requestProduction(factory.url, body, offlineClock.factoryRequestTimeoutMs).then(
    () => undefined,
    (failure: Error) => failure,
  );
  expect(error).toBeInstanceOf(Factory.FactoryCallError);
  return error!.message;
}

it("quotes the LAST ERROR a refusing factory and a silent factory leave", async () => {
  const examples = documentedLastErrors();
  expect(examples).toHaveLength(2);
  const [refused, silent] = examples.map(asPattern);
  expect(await lastErrorWhen({ failureRate: 1, timeoutRate: 0 })).toMatch(refused);
  expect(await lastErrorWhen({ failureRate: 0, timeoutRate: 1 })).toMatch(silent);
});

it("shows the DLQ follow-up e-mail exactly as the follow-up writes it (for the stage prod)", () => {
  const stage = process.env.SST_STAGE;
  process.env.SST_STAGE = "prod";
  try {
    expectFollowUpExample();
  } finally {
    if (stage === undefined) delete process.env.SST_STAGE;
    else process.env.SST_STAGE = stage;
  }
});

function expectFollowUpExample() {
  const at = RUNBOOK.indexOf("Subject: Restock DLQ:");
  expect(at, "the runbook shows a follow-up e-mail").toBeGreaterThan(0);
  const shown = RUNBOOK.slice(at, RUNBOOK.indexOf("\n```", at));
  const mail = Restock.deadLetterMail(
    {
      requests: [
        {
          restockId: "01J9Z3X8Q6W5V4T3S2R1P0N9M8",
          known: true,
          sku: "CP-502104",
          quantity: 30,
          attempts: 5,
          lastError: 'Factory API answered 500: {"result":"FAIL","message":"Internal Server Error"}',
          status: "failed",
          markedNow: false,
          messages: 1,
        },
        {
          restockId: "01J9Z3XB7TQ2M4N5P6R7S8T9V0",
          known: true,
          sku: "CP-502101",
          quantity: 20,
          attempts: 4,
          lastError: "Factory API factory.example.com failed: no answer within 10000 ms",
          status: "failed",
          markedNow: true,
          messages: 1,
        },
      ],
      unreadable: [],
      truncated: false,
    },
    { alarmName: "prod-donut-states-factory-dlq-not-empty", at: "2026-12-02T05:31:07.412+0000" },
  );
  expect(shown).toBe(`Subject: ${mail.subject}\n\n${mail.text}`);
}

it("names each watchdog e-mail by the subject the watchdog writes (N for the count)", () => {
  const thresholds = { slaSeconds: 600, pendingSeconds: 360 };
  const item = { subject: "x", sku: "CP-502104", since: new Date(), summary: "x", fix: "x" };
  const subjects = Restock.ATTENTION_KINDS.map((kind) => {
    const { subject } = Restock.attentionMail(kind, Array(7).fill({ ...item, kind }), thresholds);
    expect(subject, kind).toContain("7");
    return subject.replace("7", "N");
  });
  for (const subject of subjects) expect(RUNBOOK, subject).toContain(`\`${subject}\``);
});
