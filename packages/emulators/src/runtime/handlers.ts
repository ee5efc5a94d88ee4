import { randomUUID } from "node:crypto";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Context } from "aws-lambda";

/** Where handler references point: files under `root`, as SST resolves them from the app's root. */
export interface HandlerSource {
  /** The directory references are relative to. */
  root: string;
  /** The function's name for a reference (its Lambda context, logs); defaults to functionNameOf. */
  functionName?: (reference: string) => string;
}

// biome-ignore lint/suspicious/noExplicitAny: a Lambda handler of any trigger (HTTP, SQS, schedule, EventBridge).
export type AnyHandler = (event: any, context: Context) => Promise<any>;

let instancesLoaded = 0;

/**
 * Load a handler the way SST names it: "src/api/orders.create" is the export `create` of
 * `<root>/src/api/orders.ts`.
 *
 * Each call evaluates the handler's module afresh (a unique query string makes it a new module
 * instance), as a new Lambda execution environment would: module-level state, such as a batch
 * processor, is never shared between instances. The libraries it imports are loaded once.
 */
export async function loadHandler(reference: string, root: string): Promise<AnyHandler> {
  const dot = reference.lastIndexOf(".");
  const file = path.resolve(root, `${reference.slice(0, dot)}.ts`);
  const exportName = reference.slice(dot + 1);
  const url = `${pathToFileURL(file).href}?instance=${++instancesLoaded}`;
  const module = (await import(/* @vite-ignore */ url)) as Record<string, unknown>;
  const handler = module[exportName];
  if (typeof handler !== "function") throw new Error(`${file} has no exported function "${exportName}" (from "${reference}")`);
  return handler as AnyHandler;
}

/** A Lambda context good enough for handlers (and Powertools). */
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

/** "src/api/orders.create" -> "src-api-orders-create" */
export function functionNameOf(reference: string): string {
  return reference.replace(/[/.]/g, "-");
}

/** The invocation ran past its function timeout; Lambda stops it and reports an error. */
export class InvocationTimeoutError extends Error {
  constructor(functionName: string, timeoutMs: number) {
    super(`${functionName} timed out after ${timeoutMs} ms`);
    this.name = "InvocationTimeoutError";
  }
}

/** The invocation was abandoned (its runtime was killed); whatever it answers later is ignored. */
export class InvocationKilledError extends Error {
  constructor(functionName: string) {
    super(`${functionName} was killed mid-invocation`);
    this.name = "InvocationKilledError";
  }
}

/**
 * One function's execution environments, locally. Lambda runs one invocation at a time in an
 * environment and scales by adding environments; so does this: an invocation takes an idle
 * instance or loads a new one, and gives it back when it answers. An instance whose invocation
 * timed out or was killed is discarded (Lambda tears that environment down), and its late
 * answer goes nowhere. A thrown error leaves the instance in service, as in Lambda.
 */
export interface HandlerPool {
  readonly functionName: string;
  /** Instances loaded so far, and how many of them are idle now. */
  readonly instances: { loaded: number; idle: number; busy: number; discarded: number };
  invoke<Result = unknown>(event: unknown, options: { timeoutMs: number; signal?: AbortSignal }): Promise<Result>;
  /** Load one idle instance now: a broken reference fails at start, not on the first event. */
  prewarm(): Promise<void>;
}

interface Instance {
  handler: AnyHandler;
}

export function createHandlerPool({
  functionName,
  load,
  maxInstances = Number.POSITIVE_INFINITY,
}: {
  functionName: string;
  load: () => Promise<AnyHandler>;
  /**
   * Instances alive at most (Lambda's reserved concurrency). Beyond it an invocation waits for
   * an idle instance instead of being throttled: locally every instance is a module evaluation,
   * and a burst of hundreds of requests must not mean hundreds of them.
   */
  maxInstances?: number;
}): HandlerPool {
  const idle: Instance[] = [];
  const waiting: Array<(instance: Instance | undefined) => void> = [];
  const counts = { loaded: 0, busy: 0, discarded: 0 };
  let alive = 0;

  async function take(): Promise<Instance> {
    const instance = idle.pop();
    if (instance) return instance;
    if (alive >= maxInstances) {
      // Handed an instance by release(), or undefined when one was discarded (a slot is free).
      const handedOver = await new Promise<Instance | undefined>((resolve) => waiting.push(resolve));
      if (handedOver) return handedOver;
    }
    alive++;
    try {
      const handler = await load();
      counts.loaded++;
      return { handler };
    } catch (error) {
      alive--;
      throw error;
    }
  }

  function release(instance: Instance, keep: boolean) {
    if (!keep) {
      alive--;
      counts.discarded++;
    }
    const next = waiting.shift();
    if (next) next(keep ? instance : undefined);
    else if (keep) idle.push(instance);
  }

  return {
    functionName,
    get instances() {
      return { ...counts, idle: idle.length };
    },
    async prewarm() {
      if (idle.length === 0 && alive < maxInstances) release(await take(), true);
    },
    async invoke<Result>(event: unknown, { timeoutMs, signal }: { timeoutMs: number; signal?: AbortSignal }) {
      if (signal?.aborted) throw new InvocationKilledError(functionName);
      const instance = await take();
      counts.busy++;
      let timer: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      // Settles with the answer, the timeout or the kill, whichever comes first.
      const ended = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new InvocationTimeoutError(functionName, timeoutMs)), timeoutMs);
        onAbort = () => reject(new InvocationKilledError(functionName));
        if (signal?.aborted) onAbort();
        else signal?.addEventListener("abort", onAbort, { once: true });
      });
      let keep = true;
      try {
        return (await Promise.race([instance.handler(event, lambdaContext(functionName, timeoutMs)), ended])) as Result;
      } catch (error) {
        keep = !(error instanceof InvocationTimeoutError || error instanceof InvocationKilledError);
        throw error;
      } finally {
        clearTimeout(timer);
        if (onAbort) signal?.removeEventListener("abort", onAbort);
        counts.busy--;
        release(instance, keep);
      }
    },
  };
}

/** The pool of execution environments for a handler reference (see loadHandler). */
export function handlerPool(reference: string, source: HandlerSource, options: { maxInstances?: number } = {}): HandlerPool {
  const functionName = (source.functionName ?? functionNameOf)(reference);
  return createHandlerPool({ functionName, load: () => loadHandler(reference, source.root), ...options });
}
