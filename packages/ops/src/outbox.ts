/** `ops outbox pending`: events committed but not (yet) published to the bus. */
import type { Command } from "commander";
import type { Database } from "@donut-states/core/drizzle";
import { Outbox } from "@donut-states/core/outbox";
import type { Kit } from "./kit";
import { age, emit, table } from "./output";
import { parseLimit, relayDelay } from "./restock";

export interface PendingEvent {
  id: string;
  detailType: string;
  restockId?: string;
  sku?: string;
  createdAt: Date;
  attempts: number;
  lastError: string | null;
}

export async function pendingEvents(db: Database, limit = 100): Promise<PendingEvent[]> {
  const rows = await Outbox.pending(db, limit);
  return rows.map((row) => {
    let detail: { restockId?: unknown; sku?: unknown } = {};
    try {
      detail = JSON.parse(row.detail) as typeof detail;
    } catch {
      // A row that is not JSON is still listed; the relay will report it.
    }
    return {
      id: row.id,
      detailType: row.detailType,
      restockId: typeof detail.restockId === "string" ? detail.restockId : undefined,
      sku: typeof detail.sku === "string" ? detail.sku : undefined,
      createdAt: row.createdAt,
      attempts: row.attempts,
      lastError: row.lastError,
    };
  });
}

export function registerOutbox(program: Command, kit: Kit): void {
  const outbox = program.command("outbox").description("the transactional outbox");

  outbox
    .command("pending", { isDefault: true })
    .description("events not yet published to the event bus, oldest first")
    .option("-n, --limit <n>", "at most n rows (default 100)")
    .action(
      kit.action(async (ctx, io, options: { limit?: string }) => {
        const rows = await pendingEvents(await ctx.db(), parseLimit(options.limit, 100));
        emit(io, ctx.json, { pending: rows }, () =>
          rows.length === 0
            ? "Outbox: nothing pending; every event was published."
            : [
                table(rows, [
                  { header: "ID", value: (row) => row.id },
                  { header: "TYPE", value: (row) => row.detailType },
                  { header: "RESTOCK", value: (row) => row.restockId },
                  { header: "SKU", value: (row) => row.sku },
                  { header: "AGE", value: (row) => age(row.createdAt), align: "right" },
                  { header: "TRIES", value: (row) => row.attempts, align: "right" },
                  { header: "LAST ERROR", value: (row) => row.lastError, maxWidth: 60 },
                ]),
                "",
                `${rows.length} unpublished; the outbox relay publishes them ${relayDelay(ctx)}. Rows with many tries and an error: check the event bus.`,
              ].join("\n"),
        );
      }),
    );
}
