import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Context } from "aws-lambda";
import { randomUUID } from "node:crypto";

/** Repository root: handler references in the topology are relative to it, as in sst.config.ts. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyHandler = (event: any, context: Context) => Promise<any>;

/**
 * Load a handler the way SST names it: "packages/functions/src/api/orders.create" is the
 * export `create` of packages/functions/src/api/orders.ts.
 */
export async function loadHandler(reference: string): Promise<AnyHandler> {
  const dot = reference.lastIndexOf(".");
  const file = path.resolve(REPO_ROOT, `${reference.slice(0, dot)}.ts`);
  const exportName = reference.slice(dot + 1);
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const handler = module[exportName];
  if (typeof handler !== "function") throw new Error(`${file} has no exported function "${exportName}" (from "${reference}")`);
  return handler as AnyHandler;
}

/** A Lambda context good enough for our handlers (and Powertools). */
export function lambdaContext(functionName: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: "1024",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** "packages/functions/src/api/orders.create" -> "api-orders-create" */
export function functionNameOf(reference: string): string {
  return reference.replace(/^packages\/functions\/src\//, "").replace(/[/.]/g, "-");
}
