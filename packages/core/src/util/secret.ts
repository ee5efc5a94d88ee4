import { GetParametersCommand, SSMClient } from "@aws-sdk/client-ssm";
import type { FunctionSetting } from "../topology";
import { awsClientConfig } from "./aws";
import { optionalEnv } from "./config";

/**
 * Read a secret. In AWS it is an SST Secret (`new Config.Secret(stack, NAME)` bound to the
 * function): SST sets SST_Secret_value_<NAME>=__FETCH_FROM_SSM__ and stores the value in SSM
 * under /sst/<app>/<stage>/Secret/<NAME>/value (or the app's .fallback stage). Offline and in
 * tests the value is a plain environment variable <NAME>.
 *
 * Unlike `sst/node/config`, this resolves lazily (no top-level await, no SST_APP required), so
 * the offline stack and tests can set variables at any time. Values from SSM are cached per
 * container for CACHE_TTL_MS, so a rotated secret reaches every warm container within that time;
 * `refresh` re-reads at once.
 */
const CACHE_TTL_MS = 5 * 60_000;
type Lookup = { value: string } | { missing: string };
const cache = new Map<string, { at: number; lookup: Promise<Lookup> }>();
let ssm: SSMClient | undefined;

export interface SecretOptions {
  /** Bypass the cache (e.g. a token that no cached secret accepts: the secret may have been rotated). */
  refresh?: boolean;
}

export async function secret(name: FunctionSetting, options: SecretOptions = {}): Promise<string> {
  const found = await lookup(name, options);
  if ("missing" in found) throw new Error(found.missing);
  return found.value;
}

/** A secret that may be absent (not configured, or bound but never set): undefined then. */
export async function optionalSecret(name: FunctionSetting, options: SecretOptions = {}): Promise<string | undefined> {
  const found = await lookup(name, options);
  return "value" in found ? found.value : undefined;
}

function lookup(name: FunctionSetting, { refresh = false }: SecretOptions): Promise<Lookup> {
  const direct = optionalEnv(name);
  if (direct !== undefined) return Promise.resolve({ value: direct });
  const sst = optionalEnv(`SST_Secret_value_${name}`);
  if (sst !== undefined && sst !== "__FETCH_FROM_SSM__") return Promise.resolve({ value: sst });
  if (sst === undefined) {
    return Promise.resolve({
      missing: `Missing secret ${name}: set the environment variable ${name} (offline) or bind the SST Secret ${name} (AWS)`,
    });
  }
  const cached = cache.get(name);
  if (cached && !refresh && Date.now() - cached.at < CACHE_TTL_MS) return cached.lookup;
  const pending = fetchFromSsm(name);
  pending.catch(() => cache.delete(name));
  cache.set(name, { at: Date.now(), lookup: pending });
  return pending;
}

async function fetchFromSsm(name: string): Promise<Lookup> {
  const app = optionalEnv("SST_APP");
  const stage = optionalEnv("SST_STAGE");
  ssm ??= new SSMClient({ region: optionalEnv("SST_REGION") ?? optionalEnv("AWS_REGION"), ...awsClientConfig() });
  const paths = [`/sst/${app}/${stage}/Secret/${name}/value`, `/sst/${app}/.fallback/Secret/${name}/value`];
  const { Parameters = [] } = await ssm.send(new GetParametersCommand({ Names: paths, WithDecryption: true }));
  for (const path of paths) {
    const value = Parameters.find((parameter) => parameter.Name === path)?.Value;
    if (value !== undefined) return { value };
  }
  return { missing: `SST Secret ${name} is not set for stage ${stage}: run \`npx sst secrets set ${name} <value> --stage ${stage}\`` };
}
