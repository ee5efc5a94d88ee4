/** `ops demo reset` (`npm run demo:reset`): the offline stack's demo data back to a fresh start. */

import { DEMO_PRODUCTS, type DemoReset, resetDemoData } from "@donut-states/core/drizzle/seed";
import type { Command } from "commander";
import type { CommandRunner } from "./command-runner";
import type { OpsContext } from "./context";
import { confirmPlan, emit, type Io, OpsError } from "./output";

export interface DemoResetResult extends DemoReset {
  /** True when the factory simulator's request and callback logs were emptied too. */
  factoryLogCleared: boolean;
}

/**
 * Reset the demo catalogue (stock, orders, restock requests) and, when the stack runs the
 * factory simulator, empty its request log, so `/_sim/requests` shows only what follows.
 * Offline only, on the offline stack's own database (see OpsContext.db), once confirmed: a
 * deployed stage's data is never a demo.
 */
export async function resetDemo(ctx: OpsContext, io: Io, yes: boolean | undefined): Promise<DemoResetResult> {
  if (ctx.mode !== "offline")
    throw new OpsError("demo reset works on the offline stack only (it deletes orders and restock requests)", 2, "INVALID_INPUT");
  const db = await ctx.db();
  await confirmPlan(
    io,
    `About to reset the demo data of ${ctx.databaseLabel}: ${DEMO_PRODUCTS.map((product) => product.sku).join(", ")} back to their starting stock; their orders and restock requests are deleted.`,
    yes,
  );
  const reset = await resetDemoData(db);
  let factoryLogCleared = false;
  if (ctx.stack?.factorySimulator && ctx.stack.factoryUrl) {
    const response = await fetch(new URL("/_sim/requests", ctx.stack.factoryUrl), {
      method: "DELETE",
      signal: AbortSignal.timeout(5000),
    }).catch(() => undefined);
    factoryLogCleared = response?.ok === true;
  }
  return { ...reset, factoryLogCleared };
}

export function registerDemo(program: Command, runner: CommandRunner): void {
  const demo = program.command("demo").description("the offline stack's demo data");
  demo
    .command("reset")
    .description(
      "demo products back to their starting stock, without orders or restock requests (the offline stack's own database only; asks first)",
    )
    .option("-y, --yes", "go ahead without asking (needed where there is no terminal to ask: scripts)")
    .action(
      runner.action(async (ctx, io, options: { yes?: boolean }) => {
        const result = await resetDemo(ctx, io, options.yes);
        emit(io, ctx.json, result, () =>
          [
            `Demo data reset: ${result.products.map((product) => `${product.sku} ${product.stock}`).join(", ")}.`,
            `Removed ${result.removed.orders} order(s) and ${result.removed.restockRequests} restock request(s) of these products.`,
            result.factoryLogCleared ? "The factory simulator's request log is empty." : "",
          ]
            .filter(Boolean)
            .join("\n"),
        );
      }),
    );
}
