/**
 * The command runner each command group gets from program.ts: where to print, and `action()`,
 * which builds the command's context (offline stack or stage) from the global options, runs the
 * command, turns failures into messages an operator can act on, and always closes the database
 * pool and the SQS client afterwards.
 */

import { driverError, isDatabaseUnavailable } from "@donut-states/core/drizzle";
import { AppError } from "@donut-states/core/util/error";
import type { Command } from "commander";
import { createContext, type Env, type GlobalOptions, isSqsError, type OpsContext } from "./context";
import { EXIT, type Io, OpsError } from "./output";

// Commander calls an action with (...arguments, options, command); the command function gets
// (context, io, ...arguments, options).
// A command may resolve to an exit code (e.g. 1 when a redrive moved only part of the queue).
// biome-ignore lint/suspicious/noExplicitAny: each command declares its own arguments; Commander passes them untyped.
// biome-ignore lint/suspicious/noConfusingVoidType: a command that returns nothing resolves to void.
type CommandFn = (ctx: OpsContext, io: Io, ...args: any[]) => Promise<void | number>;

export interface CommandRunner {
  io: Io;
  env: Env;
  /** The exit code the last command asked for (0 unless it returned one). */
  exitCode: number;
  // biome-ignore lint/suspicious/noExplicitAny: Commander's action callback takes untyped arguments.
  action(run: CommandFn): (...args: any[]) => Promise<void>;
}

export function createCommandRunner(io: Io, env: Env): CommandRunner {
  const runner: CommandRunner = {
    io,
    env,
    exitCode: EXIT.ok,
    action(run) {
      return async (...args) => {
        const command = args.at(-1) as Command;
        const ctx = createContext(command.optsWithGlobals<GlobalOptions>(), env);
        try {
          runner.exitCode = (await run(ctx, io, ...args.slice(0, -1))) ?? EXIT.ok;
        } catch (error) {
          throw explain(error, ctx);
        } finally {
          await ctx.close().catch(() => {});
        }
      };
    },
  };
  return runner;
}

const NETWORK_CODES = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|TimeoutError|socket hang up/;

/** Turn whatever a command threw into an OpsError whose message says what to do next. */
export function explain(error: unknown, ctx: OpsContext): OpsError {
  if (error instanceof OpsError) return error;
  if (error instanceof AppError && error.status < 500) return new OpsError(error.message, EXIT.failed, error.code);
  const offline = ctx.mode === "offline";
  if (!isSqsError(error) && isDatabaseUnavailable(error)) {
    const cause = driverError(error);
    const reason = cause ? `${cause.code ?? cause.name}: ${cause.message}` : (error as Error).message;
    return new OpsError(
      `Cannot reach the database ${ctx.databaseLabel} (${reason}). ` +
        (offline ? "Is the offline stack (`npm start`) or its MySQL running?" : "Check DATABASE_URL / the tunnel to the database."),
      EXIT.failed,
      "DATABASE_UNAVAILABLE",
    );
  }
  const e = error as Error & { code?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  const text = `${e?.name ?? ""} ${e?.code ?? ""} ${e?.message ?? ""}`;
  if (NETWORK_CODES.test(text)) {
    return new OpsError(
      `Cannot reach SQS at ${ctx.sqsLabel} (${e.code ?? e.name}: ${e.message}). ` +
        (offline
          ? "Is the offline stack running (`npm start`)? Its stack file may be from an earlier run."
          : "Check the network and AWS_REGION."),
      EXIT.failed,
      "SQS_UNAVAILABLE",
    );
  }
  if (/QueueDoesNotExist|NonExistentQueue/.test(text)) {
    return new OpsError(
      `The queue does not exist: ${e.message || e.name}. ` +
        (offline ? "Restart `npm start` (queues live in memory) or check the stack file." : "Check --queue-url/--dlq-url."),
      EXIT.failed,
      "QUEUE_NOT_FOUND",
    );
  }
  if (/CredentialsProviderError|ExpiredToken|UnrecognizedClient|AccessDenied|InvalidClientTokenId/.test(text)) {
    return new OpsError(
      `AWS refused the request (${e.name}: ${e.message}). Check AWS_PROFILE / credentials for ${ctx.label}.`,
      EXIT.failed,
      "AWS_AUTH",
    );
  }
  return new OpsError(`${e?.name ?? "Error"}: ${e?.message ?? String(error)}`, EXIT.failed, e?.Code ?? e?.name ?? "FAILED");
}
