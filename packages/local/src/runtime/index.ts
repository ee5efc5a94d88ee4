/**
 * The emulators' Lambda runtime for this repository's handlers: the topology names them by path
 * from the repository root (as sst.config.ts does), and each function is called as it is
 * deployed ("packages/functions/src/api/orders.create" -> "api-orders-create").
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  type AnyHandler,
  type HandlerPool,
  type HandlerSource,
  loadHandler as load,
  handlerPool as poolOf,
} from "@donut-states/emulators/runtime";

/** Repository root: handler references in the topology are relative to it, as in sst.config.ts. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");

/** "packages/functions/src/api/orders.create" -> "api-orders-create" */
export function functionNameOf(reference: string): string {
  return reference.replace(/^packages\/functions\/src\//, "").replace(/[/.]/g, "-");
}

export const HANDLERS: HandlerSource = { root: REPO_ROOT, functionName: functionNameOf };

/** A fresh instance of a handler of the topology (see the emulators' loadHandler). */
export function loadHandler(reference: string): Promise<AnyHandler> {
  return load(reference, REPO_ROOT);
}

/** The execution environments of a handler of the topology. */
export function handlerPool(reference: string, options: { maxInstances?: number } = {}): HandlerPool {
  return poolOf(reference, HANDLERS, options);
}

export type { HandlerPool };
