/** `ops outbox pending`: events committed but not (yet) published to the bus. */

import type * as Outbox from "@donut-states/core/outbox";
import type { Command } from "commander";
import type { AdminApi } from "./admin-api";
import type { CommandRunner } from "./command-runner";
import { age, emit, table } from "./output";
import { parseLimit, relayDelay } from "./restock";

/** An unpublished event as the admin API lists it (dates as ISO strings). */
export type PendingEvent = Omit<Outbox.PendingEvent, "createdAt"> & { createdAt: string };
export type OutboxSummary = Omit<Outbox.OutboxSummary, "events" | "oldestPendingAt"> & {
  events: PendingEvent[];
  oldestPendingAt: string | null;
};

export async function outboxSummary(api: AdminApi, limit = 100): Promise<OutboxSummary> {
  return (await api.request<{ outbox: OutboxSummary }>("GET", "/admin/outbox", { query: { limit: String(limit) } })).outbox;
}

export function registerOutbox(program: Command, runner: CommandRunner): void {
  const outbox = program.command("outbox").description("the transactional outbox");

  outbox
    .command("pending", { isDefault: true })
    .description("events not yet published to the event bus, oldest first")
    .option("-n, --limit <n>", "at most n rows (default 100)")
    .action(
      runner.action(async (ctx, io, options: { limit?: string }) => {
        const summary = await outboxSummary(ctx.api(), parseLimit(options.limit, 100));
        const rows = summary.events;
        emit(io, ctx.json, { pending: rows, count: summary.pending, oldestPendingAt: summary.oldestPendingAt }, () =>
          rows.length === 0
            ? "Outbox: nothing pending; every event was published."
            : [
                table(rows, [
                  { header: "ID", value: (row) => row.id },
                  { header: "TYPE", value: (row) => row.detailType },
                  { header: "RESTOCK", value: (row) => row.restockId },
                  { header: "SKU", value: (row) => row.sku },
                  { header: "AGE", value: (row) => age(new Date(row.createdAt)), align: "right" },
                  { header: "TRIES", value: (row) => row.attempts, align: "right" },
                  { header: "LAST ERROR", value: (row) => row.lastError, maxWidth: 60 },
                ]),
                "",
                `${summary.pending} unpublished; the outbox relay publishes them ${relayDelay(ctx)}. Rows with many tries and an error: check the event bus.`,
              ].join("\n"),
        );
      }),
    );
}
