import { GetParametersCommand, SSMClient } from "@aws-sdk/client-ssm";
import { awsClientConfig } from "./aws";
import { optionalEnv } from "./config";

/**
 * Read a secret. In AWS it is an SST Secret (`new Config.Secret(stack, NAME)` bound to the
 * function): SST sets SST_Secret_value_<NAME>=__FETCH_FROM_SSM__ and stores the value in SSM
 * under /sst/<app>/<stage>/Secret/<NAME>/value (or the app's .fallback stage). Offline and in
 * tests the value is a plain environment variable <NAME>.
 *
 * Unlike `sst/node/config`, this resolves lazily (no top-level await, no SST_APP required), so
 * the offline stack and tests can set variables at any time. Values are cached per container.
 */
const cache = new Map<string, Promise<string>>();
let ssm: SSMClient | undefined;

export function secret(name: string): Promise<string> {
  const direct = optionalEnv(name);
  if (direct !== undefined) return Promise.resolve(direct);
  const sst = optionalEnv(`SST_Secret_value_${name}`);
  if (sst !== undefined && sst !== "__FETCH_FROM_SSM__") return Promise.resolve(sst);
  if (sst === undefined) {
    return Promise.reject(new Error(`Missing secret ${name}: set the environment variable ${name} (offline) or bind the SST Secret ${name} (AWS)`));
  }
  let pending = cache.get(name);
  if (!pending) {
    pending = fetchFromSsm(name);
    pending.catch(() => cache.delete(name));
    cache.set(name, pending);
  }
  return pending;
}

async function fetchFromSsm(name: string): Promise<string> {
  const app = optionalEnv("SST_APP");
  const stage = optionalEnv("SST_STAGE");
  ssm ??= new SSMClient({ region: optionalEnv("SST_REGION") ?? optionalEnv("AWS_REGION"), ...awsClientConfig() });
  const paths = [`/sst/${app}/${stage}/Secret/${name}/value`, `/sst/${app}/.fallback/Secret/${name}/value`];
  const { Parameters = [] } = await ssm.send(new GetParametersCommand({ Names: paths, WithDecryption: true }));
  for (const path of paths) {
    const value = Parameters.find((parameter) => parameter.Name === path)?.Value;
    if (value !== undefined) return value;
  }
  throw new Error(`SST Secret ${name} is not set for stage ${stage}: run \`npx sst secrets set ${name} <value> --stage ${stage}\``);
}
