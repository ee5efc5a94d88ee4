/** `ops queues`, `ops dlq peek [--max n]` and `ops dlq redrive [--rate n/s] [--max n] [--loop] [--wait] [--yes]`. */

import { setTimeout as sleep } from "node:timers/promises";
import {
  isUnsupportedOperation,
  moveTaskStatus,
  peekMessages,
  queueDepth,
  type RedriveResult,
  redriveLoop,
  startMoveTask,
} from "@donut-states/core/util/sqs";
import type { Command } from "commander";
import type { CommandRunner } from "./command-runner";
import type { OpsContext } from "./context";
import { age, confirmPlan, EXIT, emit, type Io, table, usageError } from "./output";

export const DEFAULT_REDRIVE_RATE = 10;

/** "5", "5/s" or "0.5" messages per second; AWS's move task accepts up to 500. */
export function parseRate(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*s(?:ec(?:ond)?)?)?\s*$/i.exec(raw);
  const value = match ? Number(match[1]) : NaN;
  if (!(value > 0) || value > 500)
    throw usageError(`--rate must be messages per second, more than 0 and at most 500, e.g. 5 or 5/s (got ${JSON.stringify(raw)})`);
  return value;
}

export function parseMax(raw: string | undefined, { upTo = 100_000 } = {}): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1 || Number(raw) > upTo)
    throw usageError(`--max must be a whole number from 1 to ${upTo} (got ${JSON.stringify(raw)})`);
  return Number(raw);
}

/**
 * Offline only: the factory simulator says whether it is still set to fail. Redriving into a
 * failing factory just sends the messages back to the DLQ (and re-alerts) after maxReceiveCount.
 */
async function factoryStillFailing(ctx: OpsContext): Promise<string | undefined> {
  if (ctx.mode !== "offline" || !ctx.stack?.factoryUrl) return undefined;
  try {
    const response = await fetch(`${ctx.stack.factoryUrl}/_sim/config`, { signal: AbortSignal.timeout(1000) });
    if (!response.ok) return undefined;
    const config = (await response.json()) as { failureRate?: number; timeoutRate?: number };
    const problems = [
      config.failureRate ? `fails ${Math.round(config.failureRate * 100)}% of calls` : "",
      config.timeoutRate ? `times out ${Math.round(config.timeoutRate * 100)}% of calls` : "",
    ].filter(Boolean);
    return problems.length ? `the factory simulator still ${problems.join(" and ")}` : undefined;
  } catch {
    return undefined;
  }
}

function printRedrive(io: Io, json: boolean, result: RedriveResult & { dlqDepthBefore: number; note?: string }): void {
  emit(io, json, result, () => {
    const lines: string[] = [];
    if (result.note) lines.push(result.note);
    if (result.mode === "move-task") {
      lines.push(
        `Started an SQS message move task (${result.taskHandle}) for about ${result.approximateNumberOfMessagesToMove ?? result.dlqDepthBefore} message(s).`,
        result.moved ? `Moved ${result.moved} so far.` : "Follow it with --wait, or `npm run ops -- queues`.",
      );
    } else {
      lines.push(
        `Moved ${result.moved} message(s) from the DLQ to the factory queue in ${(result.durationMs / 1000).toFixed(1)} s${result.failed ? `; ${result.failed} could not be sent and stay in the DLQ` : ""}.`,
      );
    }
    if (result.stoppedBecause) lines.push(`Stopped early: ${result.stoppedBecause}.`);
    for (const error of result.errors.slice(0, 10)) lines.push(`  error: ${error}`);
    if (result.moved) lines.push("The factory-caller picks them up now; watch `npm run ops -- restock list --status failed` empty out.");
    return lines.join("\n");
  });
}

export function registerDlq(program: Command, runner: CommandRunner): void {
  program
    .command("queues")
    .description("depth of the factory queue and its DLQ")
    .action(
      runner.action(async (ctx, io) => {
        const sqs = ctx.sqs();
        const queues = [
          { name: "factory queue", url: ctx.factoryQueueUrl(), ...(await queueDepth(sqs, ctx.factoryQueueUrl())) },
          { name: "DLQ", url: ctx.dlqUrl(), ...(await queueDepth(sqs, ctx.dlqUrl())) },
        ];
        emit(io, ctx.json, { queues }, () =>
          table(queues, [
            { header: "QUEUE", value: (row) => row.name },
            { header: "WAITING", value: (row) => row.visible, align: "right" },
            { header: "IN FLIGHT", value: (row) => row.inFlight, align: "right" },
            { header: "DELAYED", value: (row) => row.delayed, align: "right" },
            { header: "URL", value: (row) => row.url },
          ]),
        );
      }),
    );

  const dlq = program.command("dlq").description("the factory dead-letter queue: restock requests the factory-caller gave up on");

  dlq
    .command("depth")
    .description("messages waiting in the DLQ, from the admin API (needs no SQS permissions)")
    .action(
      runner.action(async (ctx, io) => {
        const { dlq: depth } = await ctx
          .api()
          .request<{ dlq: { queueUrl: string; visible: number; inFlight: number; delayed: number; alarming: boolean } }>(
            "GET",
            "/admin/dlq",
          );
        emit(
          io,
          ctx.json,
          depth,
          () =>
            `DLQ: ${depth.visible} waiting, ${depth.inFlight} in flight${depth.alarming ? " (the DLQ alarm is on: see docs/runbook.md, DLQ alarm)" : ""}.`,
        );
      }),
    );

  dlq
    .command("peek", { isDefault: true })
    .description("show DLQ messages without consuming them (they stay in the DLQ)")
    .option("-m, --max <n>", "at most n messages (default 10)")
    .action(
      runner.action(async (ctx, io, options: { max?: string }) => {
        const max = parseMax(options.max, { upTo: 1000 }) ?? 10;
        const sqs = ctx.sqs();
        const messages = await peekMessages(sqs, ctx.dlqUrl(), { max });
        const depth = await queueDepth(sqs, ctx.dlqUrl());
        emit(io, ctx.json, { queueUrl: ctx.dlqUrl(), depth, messages }, () =>
          messages.length === 0
            ? `The DLQ is empty (${depth.inFlight} in flight).`
            : [
                table(messages, [
                  { header: "MESSAGE", value: (row) => row.messageId },
                  { header: "RESTOCK", value: (row) => row.restockId },
                  { header: "SKU", value: (row) => row.sku },
                  { header: "QTY", value: (row) => row.quantity, align: "right" },
                  { header: "RECEIVES", value: (row) => row.receiveCount, align: "right" },
                  { header: "SENT", value: (row) => (row.sentAt ? `${age(new Date(row.sentAt))} ago` : ""), align: "right" },
                  // Only when EventBridge dead-lettered some: the factory never saw those.
                  ...(messages.some((row) => row.eventBridgeError)
                    ? [{ header: "EVENTBRIDGE ERROR", value: (row: (typeof messages)[number]) => row.eventBridgeError }]
                    : []),
                ]),
                "",
                `${messages.length} shown; the DLQ holds about ${depth.visible} (+${depth.inFlight} in flight). Nothing was consumed.`,
                "Why they failed: npm run ops -- restock list --status failed",
              ].join("\n"),
        );
      }),
    );

  dlq
    .command("redrive")
    .description("move DLQ messages back to the factory queue (AWS: StartMessageMoveTask; emulator: receive/send/delete loop)")
    .option("-r, --rate <n/s>", `at most n messages per second (default ${DEFAULT_REDRIVE_RATE})`)
    .option("-m, --max <n>", "move at most n messages (uses the loop: a move task cannot stop at n)")
    .option("--loop", "move the messages from this process even where StartMessageMoveTask exists")
    .option("--wait", "with a move task: wait until it finishes, printing progress")
    .option("-y, --yes", "go ahead without asking (needed where there is no terminal to ask: scripts)")
    .action(
      runner.action(async (ctx, io, options: { rate?: string; max?: string; loop?: boolean; wait?: boolean; yes?: boolean }) => {
        const rate = parseRate(options.rate) ?? DEFAULT_REDRIVE_RATE;
        const max = parseMax(options.max);
        const sqs = ctx.sqs();
        const dlqUrl = ctx.dlqUrl();
        const factoryQueueUrl = ctx.factoryQueueUrl();
        const before = await queueDepth(sqs, dlqUrl);
        if (before.visible === 0) {
          emit(
            io,
            ctx.json,
            { mode: "none", moved: 0, failed: 0, errors: [], durationMs: 0, dlqDepthBefore: 0 },
            () =>
              `The DLQ is empty; nothing to redrive${before.inFlight ? ` (${before.inFlight} in flight: someone is receiving them)` : ""}.`,
          );
          return EXIT.ok;
        }
        const warning = await factoryStillFailing(ctx);
        if (warning) {
          io.err(`warning: ${warning}; redriven messages will fail again and return to the DLQ. Fix the factory first (docs/runbook.md).`);
        }
        const count = max === undefined ? `about ${before.visible}` : `at most ${max}`;
        await confirmPlan(
          io,
          `About to move ${count} message(s) from the DLQ ${dlqUrl} to the factory queue ${factoryQueueUrl} at ${rate}/s: the factory caller asks the factory again for each.`,
          options.yes,
        );

        let note: string | undefined;
        if (!options.loop && max === undefined) {
          try {
            const task = await startMoveTask(sqs, { dlqUrl, destinationQueueUrl: factoryQueueUrl, ratePerSecond: rate });
            const result: RedriveResult & { dlqDepthBefore: number } = {
              mode: "move-task",
              moved: 0,
              failed: 0,
              errors: [],
              durationMs: 0,
              taskHandle: task.taskHandle,
              approximateNumberOfMessagesToMove: before.visible,
              dlqDepthBefore: before.visible,
            };
            const started = Date.now();
            while (options.wait) {
              await sleep(2000);
              const status = await moveTaskStatus(sqs, task.sourceArn);
              if (!status) break;
              result.moved = status.moved;
              if (!ctx.json) io.err(`move task ${status.status}: ${status.moved}/${status.toMove ?? "?"} moved`);
              if (status.status !== "RUNNING") {
                if (status.status !== "COMPLETED")
                  result.stoppedBecause = `the move task ended ${status.status}${status.failureReason ? `: ${status.failureReason}` : ""}`;
                break;
              }
            }
            result.durationMs = Date.now() - started;
            printRedrive(io, ctx.json, result);
            return result.stoppedBecause ? EXIT.failed : EXIT.ok;
          } catch (error) {
            if (!isUnsupportedOperation(error)) throw error;
            note = "This SQS has no StartMessageMoveTask (the offline emulator): moving the messages from here instead.";
          }
        } else if (max !== undefined && !options.loop) {
          note = "--max given: moving the messages from here (an SQS move task cannot stop after n messages).";
        }

        let lastProgress = Date.now();
        const result = await redriveLoop(
          sqs,
          { from: dlqUrl, to: factoryQueueUrl },
          {
            max,
            ratePerSecond: rate,
            onProgress: ({ moved, failed }) => {
              if (ctx.json || Date.now() - lastProgress < 5000) return;
              lastProgress = Date.now();
              io.err(`moved ${moved}${failed ? ` (${failed} failed)` : ""} of about ${max ?? before.visible}...`);
            },
          },
        );
        printRedrive(io, ctx.json, { ...result, dlqDepthBefore: before.visible, note });
        return result.failed || result.stoppedBecause ? EXIT.failed : EXIT.ok;
      }),
    );
}
