/**
 * The offline gateway's AWS_IAM authorizer: only requests SigV4-signed with the offline
 * credentials reach an IAM route's function, and the function sees who signed; everything
 * else gets API Gateway's 403 before any function runs. Public routes are not affected.
 */

import path from "node:path";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIamVerifier, IAM_REFUSALS } from "./iam";
import { type Gateway, startGateway } from "./server";

const REGION = "ap-northeast-2";
/** What the gateway accepts: fixed offline credentials, as a stack's configuration would give them. */
const offlineCredentials = { accessKeyId: "local", secretAccessKey: "local", accountId: "000000000000" } as const;
const ECHO = "testing/echo-handler.handler";
let gateway: Gateway;

beforeAll(async () => {
  gateway = await startGateway({
    routes: { "POST /admin/things/{id}": ECHO, "GET /admin/things": ECHO, "GET /public": ECHO },
    iam: {
      routes: ["POST /admin/things/{id}", "GET /admin/things"],
      verify: createIamVerifier({ credentials: offlineCredentials, region: REGION }),
    },
    handlers: { root: path.resolve(import.meta.dirname, "..") },
    port: 0,
  });
});
afterAll(async () => {
  await gateway?.close();
});

interface Signing {
  secretAccessKey?: string;
  accessKeyId?: string;
  region?: string;
  service?: string;
  signingDate?: Date;
}

/** Sign like the ops CLI does (host, content-type; body hashed into the signature). */
async function signed(method: string, path: string, body?: string, options: Signing = {}) {
  const url = new URL(path, gateway.url);
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: options.accessKeyId ?? offlineCredentials.accessKeyId,
      secretAccessKey: options.secretAccessKey ?? offlineCredentials.secretAccessKey,
    },
    region: options.region ?? REGION,
    service: options.service ?? "execute-api",
    sha256: Sha256,
  });
  const request = await signer.sign(
    {
      method,
      protocol: "http:",
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { host: url.host, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body,
    },
    { signingDate: options.signingDate },
  );
  const { host: _host, ...headers } = request.headers;
  return { url, headers, body };
}

async function send({ url, headers, body }: { url: URL; headers: Record<string, string>; body?: string }, method = "POST") {
  const response = await fetch(url, { method, headers, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("the offline AWS_IAM authorizer", () => {
  it("passes a request signed with the offline credentials, with the caller in the event", async () => {
    const answer = await send(await signed("POST", "/admin/things/a%20b?x=1&y=two%20words", '{"n":1}'));
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      authorizer: {
        iam: expect.objectContaining({
          accessKey: "local",
          accountId: offlineCredentials.accountId,
          userArn: "arn:aws:iam::000000000000:user/local",
        }),
      },
      body: '{"n":1}',
      query: "x=1&y=two%20words",
    });
    const get = await send(await signed("GET", "/admin/things?status=failed"), "GET");
    expect(get.status).toBe(200);
  });

  it("refuses an unsigned request with API Gateway's 403", async () => {
    const answer = await send({
      url: new URL("/admin/things/1", gateway.url),
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(answer).toEqual({ status: 403, body: { message: IAM_REFUSALS.missing } });
  });

  it("refuses a wrong secret, another key, another region or service, a stale date", async () => {
    const cases: Array<[Signing, string]> = [
      [{ secretAccessKey: "not-the-secret" }, IAM_REFUSALS.mismatch],
      [{ accessKeyId: "AKIAOTHER" }, IAM_REFUSALS.unknownKey],
      [{ region: "us-east-1" }, IAM_REFUSALS.mismatch],
      [{ service: "lambda" }, IAM_REFUSALS.mismatch],
      [{ signingDate: new Date(Date.now() - 20 * 60_000) }, IAM_REFUSALS.stale],
    ];
    for (const [options, message] of cases) {
      expect(await send(await signed("POST", "/admin/things/1", "{}", options)), JSON.stringify(options)).toEqual({
        status: 403,
        body: { message },
      });
    }
  });

  it("refuses a signed request whose body, path or query was changed after signing", async () => {
    const original = await signed("POST", "/admin/things/1?x=1", '{"stock":1}');
    expect((await send({ ...original, body: '{"stock":9}' })).status).toBe(403);
    expect((await send({ ...original, url: new URL("/admin/things/2?x=1", gateway.url) })).status).toBe(403);
    expect((await send({ ...original, url: new URL("/admin/things/1?x=2", gateway.url) })).status).toBe(403);
    expect((await send(original)).status).toBe(200);
  });

  it("leaves public routes open", async () => {
    const response = await fetch(new URL("/public", gateway.url));
    expect(response.status).toBe(200);
    expect(((await response.json()) as { authorizer: unknown }).authorizer).toBeNull();
  });
});
