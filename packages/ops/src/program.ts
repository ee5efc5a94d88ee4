/**
 * The ops CLI's command tree. `runOps(argv)` parses and runs one command and resolves to its
 * exit code without touching process.exit, so tests run it in-process.
 */
import { Command, CommanderError } from "commander";
import { registerBackInStock } from "./back-in-stock";
import { createCommandRunner } from "./command-runner";
import type { Env } from "./context";
import { registerDemo } from "./demo";
import { registerDlq } from "./dlq";
import { registerOutbox } from "./outbox";
import { EXIT, type Io, inertIo, jsonText, OpsError, processIo } from "./output";
import { registerProduct } from "./product";
import { registerRestock } from "./restock";
import { registerStock } from "./stock";

const EPILOG = `
Target:
  stock, product, restock, outbox and dlq depth call the admin API with SigV4-signed requests.
  Default: the offline stack. .local/stack.json (written by \`npm start\`) gives its gateway
  (signed with the offline credentials), the SQS endpoint and the queue URLs.
  --stage <name>: a deployed stage. Needs AWS_REGION, AWS credentials (the standard chain:
  AWS_PROFILE, SSO, environment...) allowed to invoke the admin routes, the API URL from
  --api-url or API_URL, and for queues and dlq peek/redrive the queue URLs from
  --queue-url/--dlq-url or FACTORY_QUEUE_URL/FACTORY_DLQ_URL; for back-in-stock peek/replay
  --failed-events-url or BACK_IN_STOCK_FAILED_EVENTS_URL and --bus-name or EVENT_BUS_NAME
  (all stack outputs).

Confirmation: dlq redrive, back-in-stock replay and demo reset say what they are about to do
and ask first; --yes goes ahead without asking, and is needed where there is no terminal to ask
(scripts): without it they refuse and change nothing.

Exit codes: 0 ok, 1 the operation failed (or was cancelled), 2 invalid input (or not confirmed).

Examples:
  npm run ops -- stock
  npm run ops -- stock set CP-502101 100 --expect 96 --reason "stock count"   (refused if the stock is not 96)
  npm run ops -- product create CP-502105 --name "Yuzu Glazed" --price 3000 --factory FF-500301 --stock 40
  npm run ops -- restock list --status failed
  npm run ops -- restock re-request 01J9Z3X8Q6W5V4T3S2R1P0N9M8
  npm run ops -- dlq peek --max 20
  npm run ops -- dlq redrive --rate 5/s   (says what it will move and asks; --yes in scripts)
  npm run ops -- back-in-stock peek
  npm run ops -- back-in-stock replay --yes
  npm run ops -- --stage prod --api-url https://abc123.execute-api.ap-northeast-2.amazonaws.com restock list --status failed
  npx donut-ops --stage prod --json dlq peek   (scripts: npx donut-ops or npm run -s ops, no npm banner)
  npm run demo:reset -- --yes   (the offline stack's own database only: demo products back to their starting stock)
Runbook: docs/runbook.md`;

export function buildProgram(io: Io, env: Env) {
  const runner = createCommandRunner(io, env);
  const program = new Command()
    .name("npm run ops --")
    .description("Donut-States operations: stock, restock requests, outbox, factory DLQ, back-in-stock replay")
    .option("--json", "machine-readable JSON output")
    .option("--stage <stage>", "a deployed stage instead of the offline stack")
    .option("--stack-file <path>", "the offline stack's stack.json (default .local/stack.json)")
    .option("--region <region>", "AWS region (default: AWS_REGION, or the offline stack's)")
    .option("--queue-url <url>", "factory queue URL (default: FACTORY_QUEUE_URL or stack.json)")
    .option("--dlq-url <url>", "factory DLQ URL (default: FACTORY_DLQ_URL or stack.json)")
    .option("--api-url <url>", "the stage's HTTP API (default: API_URL, the stack output ApiUrl; offline: stack.json)")
    .option(
      "--failed-events-url <url>",
      "the back-in-stock notifier's failed-events queue (default: BACK_IN_STOCK_FAILED_EVENTS_URL or stack.json)",
    )
    .option(
      "--bus-name <name>",
      "the event bus back-in-stock replay puts events on (default: EVENT_BUS_NAME, the stack output EventBusName; offline: stack.json)",
    )
    .addHelpText("after", EPILOG)
    .showHelpAfterError("(add --help for usage)")
    .configureOutput({ writeOut: (text) => io.out(text.replace(/\n$/, "")), writeErr: (text) => io.err(text.replace(/\n$/, "")) })
    .exitOverride();
  registerStock(program, runner);
  registerProduct(program, runner);
  registerRestock(program, runner);
  registerOutbox(program, runner);
  registerDlq(program, runner);
  registerBackInStock(program, runner);
  registerDemo(program, runner);
  return { program, runner };
}

export async function runOps(argv: string[], { io: given = processIo, env = process.env }: { io?: Io; env?: Env } = {}): Promise<number> {
  // Every cell, message, help text and question goes out inert (no escape sequences, no controls).
  const io = inertIo(given);
  const { program, runner } = buildProgram(io, env);
  const json = argv.includes("--json");
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return EXIT.usage;
    }
    await program.parseAsync(argv, { from: "user" });
    return runner.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are "errors" that exit 0; anything else is a usage error, already printed.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const failure =
      error instanceof OpsError ? error : new OpsError(`${(error as Error)?.name}: ${(error as Error)?.message ?? String(error)}`);
    io.err(json ? jsonText({ error: { code: failure.code, message: failure.message } }) : `error: ${failure.message}`);
    return failure.exitCode;
  }
}
