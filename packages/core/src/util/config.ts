import type { FunctionSetting } from "../topology";

/**
 * Configuration comes from the environment: the SST stacks set these variables on each
 * function (secrets are resolved at cold start, see `secret()`), the offline stack sets them
 * for its in-process runtime. This is the only place that reads process.env in core.
 *
 * Names are typed: a function's settings come from `functionSettings` in the topology (a renamed
 * one fails to type-check here and in every writer); the rest are set by the platform.
 */
export type EnvName = FunctionSetting | PlatformVariable;
/** Set by Lambda or SST, not by us: the region, the SST app and stage, SST's secret bindings. */
export type PlatformVariable = "AWS_REGION" | "SST_REGION" | "SST_APP" | "SST_STAGE" | `SST_Secret_value_${FunctionSetting}`;

export function optionalEnv(name: EnvName): string | undefined {
  const value = process.env[name];
  return value === undefined || value === "" ? undefined : value;
}

export function requiredEnv(name: EnvName): string {
  const value = optionalEnv(name);
  if (value === undefined) throw new Error(`Missing required configuration: environment variable ${name} is not set`);
  return value;
}

export function intEnv(name: EnvName, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
  const raw = optionalEnv(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`Invalid configuration: ${name}=${JSON.stringify(raw)} must be an integer between ${min} and ${max}`);
  }
  return value;
}
