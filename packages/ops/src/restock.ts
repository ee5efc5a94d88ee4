/** `ops restock list [--status s]`, `ops restock re-request <id>` and `ops restock open <sku>`. */

import * as Restock from "@donut-states/core/restock";
import { schedules } from "@donut-states/core/topology";
import type { Command } from "commander";
import type { AdminApi } from "./admin-api";
import type { CommandRunner } from "./command-runner";
import type { OpsContext } from "./context";
import { age, emit, table, usageError } from "./output";
import { parseSku } from "./stock";

export function parseStatus(raw: string | undefined): Restock.RestockStatus | undefined {
  if (raw === undefined) return undefined;
  if (!(Restock.RESTOCK_STATUSES as readonly string[]).includes(raw)) {
    throw usageError(`Unknown status ${JSON.stringify(raw)}; use one of ${Restock.RESTOCK_STATUSES.join(", ")}`);
  }
  return raw as Restock.RestockStatus;
}

export function parseLimit(raw: string | undefined, fallback: number, max = 1000): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max)
    throw usageError(`--limit must be a whole number from 1 to ${max} (got ${raw})`);
  return Number(raw);
}

export function parseRestockId(raw: string): string {
  const parsed = Restock.RestockId.safeParse(raw.trim().toUpperCase());
  if (!parsed.success) throw usageError(`Invalid restock request id ${JSON.stringify(raw)}: a restock id is a 26-character ULID`);
  return parsed.data;
}

/** A restock request as the admin API lists it (dates as ISO strings). */
export type RestockRow = {
  [K in keyof Restock.RestockSummary]: Restock.RestockSummary[K] extends Date
    ? string
    : Restock.RestockSummary[K] extends Date | null
      ? string | null
      : Restock.RestockSummary[K];
};

/** Newest first. */
export async function listRestock(
  api: AdminApi,
  { status, limit = 50 }: { status?: Restock.RestockStatus; limit?: number } = {},
): Promise<RestockRow[]> {
  const { restockRequests } = await api.request<{ restockRequests: RestockRow[] }>("GET", "/admin/restocks", {
    query: { status, limit: String(limit) },
  });
  return restockRequests;
}

export type ReRequestResult = Restock.ReRequested & { who: string };

/**
 * Ask the factory again: the admin API moves the request back to `pending` and writes a new
 * OutOfStock event to the outbox in one transaction, then publishes it. Whether or not that
 * worked, the outbox row guarantees delivery: the relay publishes anything left unpublished.
 */
export async function reRequestRestock(api: AdminApi, id: string): Promise<ReRequestResult> {
  const restockId = parseRestockId(id);
  const { restock, who } = await api.request<{ restock: Restock.ReRequested; who: string }>(
    "POST",
    `/admin/restocks/${restockId}/re-request`,
  );
  return { ...restock, who };
}

/** How long until the relay publishes what this process could not. */
export function relayDelay(ctx: OpsContext): string {
  return ctx.mode === "offline"
    ? `within ${Math.round(schedules.outboxRelay.localIntervalMs / 1000)} s (offline relay interval)`
    : `on its next run (${schedules.outboxRelay.aws})`;
}

export function registerRestock(program: Command, runner: CommandRunner): void {
  const restock = program.command("restock").description("restock requests (default: list)");

  restock
    .command("list", { isDefault: true })
    .description("restock requests, newest first")
    .option("-s, --status <status>", `only this status: ${Restock.RESTOCK_STATUSES.join(" | ")}`)
    .option("-n, --limit <n>", "at most n rows (default 50)")
    .action(
      runner.action(async (ctx, io, options: { status?: string; limit?: string }) => {
        const status = parseStatus(options.status);
        const rows = await listRestock(ctx.api(), { status, limit: parseLimit(options.limit, 50) });
        emit(io, ctx.json, { restockRequests: rows }, () =>
          rows.length === 0
            ? `No restock requests${status ? ` with status ${status}` : ""}.`
            : table(rows, [
                { header: "ID", value: (row) => row.id },
                { header: "SKU", value: (row) => row.sku },
                { header: "STATUS", value: (row) => row.status },
                { header: "QTY", value: (row) => row.quantity, align: "right" },
                { header: "CALLS", value: (row) => row.attempts, align: "right" },
                { header: "AGE", value: (row) => age(new Date(row.createdAt)), align: "right" },
                { header: "UPDATED", value: (row) => age(new Date(row.updatedAt)), align: "right" },
                { header: "LAST ERROR", value: (row) => row.lastError, maxWidth: 48 },
              ]),
        );
      }),
    );

  restock
    .command("re-request")
    .description("ask the factory again for a requested (no callback), failed or stuck pending request")
    .argument("<id>", "restock request id (ULID)")
    .action(
      runner.action(async (ctx, io, id: string) => {
        const result = await reRequestRestock(ctx.api(), id);
        emit(io, ctx.json, result, () =>
          [
            `Restock request ${result.id} (${result.sku}): ${result.previousStatus} -> pending; OutOfStock event ${result.outboxId} written to the outbox.`,
            result.published
              ? "Published to the event bus: the factory-caller will call the factory shortly."
              : `Not published yet (the event bus did not answer); the outbox relay will publish it ${relayDelay(ctx)}.`,
            "Follow it with: npm run ops -- restock list",
          ].join("\n"),
        );
      }),
    );

  restock
    .command("open")
    .description("open a restock request for a product sold out with none open (e.g. after a cancel or a stock set to 0)")
    .argument("<sku>", "product SKU, e.g. CP-502101")
    .action(
      runner.action(async (ctx, io, sku: string) => {
        const validSku = parseSku(sku);
        const { restock: result } = await ctx
          .api()
          .request<{ restock: Restock.OpenRequest & { sku: string } }>("POST", `/admin/products/${encodeURIComponent(validSku)}/restock`);
        emit(io, ctx.json, result, () =>
          result.opened
            ? `Restock request ${result.id} opened for ${result.sku} (x${result.quantity}); its OutOfStock event is in the outbox and the relay publishes it.`
            : `${result.sku} already has an open restock request: ${result.id} (${result.status}).`,
        );
      }),
    );
}
