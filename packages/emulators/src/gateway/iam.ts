/**
 * API Gateway's AWS_IAM authorizer, offline: a request to an IAM-protected route must carry a
 * SigV4 signature (service execute-api, the stack's region) made with the offline credentials.
 * The signature is recomputed with the same library the AWS SDK signs with (@smithy/signature-v4)
 * over the headers the caller says it signed, the path, the query and a hash of the body actually
 * received; anything missing, stale, for another key or not matching gets API Gateway's 403.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import type { APIGatewayEventRequestContextIAMAuthorizer } from "aws-lambda";

export interface IamCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  accountId: string;
}

export interface SignedRequestParts {
  method: string;
  /** The path exactly as received (still percent-encoded). */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export type IamVerdict = { ok: true; identity: APIGatewayEventRequestContextIAMAuthorizer["iam"] } | { ok: false; message: string };

/** What AWS answers (403) for each way a signature can be wrong. */
export const IAM_REFUSALS = {
  missing: "Forbidden",
  unknownKey: "The security token included in the request is invalid.",
  mismatch:
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
  stale: "Signature expired: the request's X-Amz-Date is more than 15 minutes from the server's time.",
} as const;

const SERVICE = "execute-api";
const MAX_SKEW_MS = 15 * 60_000;
const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

const headerValue = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(",") : value);

/** `20261202T130405Z` -> Date, or undefined. */
function parseAmzDate(text: string | undefined): Date | undefined {
  const parts = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text ?? "");
  if (!parts) return undefined;
  const [, year, month, day, hour, minute, second] = parts.map(Number);
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second));
}

export function createIamVerifier({
  credentials,
  region,
  now = () => new Date(),
}: {
  credentials: IamCredentials;
  region: string;
  now?: () => Date;
}) {
  const signer = new SignatureV4({
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    region,
    service: SERVICE,
    sha256: Sha256,
    applyChecksum: false,
  });

  return async function verify(request: SignedRequestParts): Promise<IamVerdict> {
    const authorization = headerValue(request.headers.authorization);
    if (!authorization) return { ok: false, message: IAM_REFUSALS.missing };
    const parsed = AUTHORIZATION.exec(authorization);
    if (!parsed) return { ok: false, message: IAM_REFUSALS.mismatch };
    const [, accessKeyId, scopeDate, scopeRegion, scopeService, signedHeaderList, signature] = parsed;
    if (accessKeyId !== credentials.accessKeyId) return { ok: false, message: IAM_REFUSALS.unknownKey };
    const signedAt = parseAmzDate(headerValue(request.headers["x-amz-date"]));
    if (
      !signedAt ||
      scopeRegion !== region ||
      scopeService !== SERVICE ||
      !signedAt.toISOString().replace(/-/g, "").startsWith(scopeDate)
    ) {
      return { ok: false, message: IAM_REFUSALS.mismatch };
    }
    if (Math.abs(now().getTime() - signedAt.getTime()) > MAX_SKEW_MS) return { ok: false, message: IAM_REFUSALS.stale };

    const signedHeaders = signedHeaderList.split(";");
    if (!signedHeaders.includes("host")) return { ok: false, message: IAM_REFUSALS.mismatch };
    // A claimed body hash must be the hash of the body that arrived (the signer would trust it).
    const claimedHash = headerValue(request.headers["x-amz-content-sha256"]);
    if (claimedHash !== undefined && claimedHash !== createHash("sha256").update(request.body).digest("hex")) {
      return { ok: false, message: IAM_REFUSALS.mismatch };
    }
    const headers: Record<string, string> = {};
    for (const name of signedHeaders) {
      const value = headerValue(request.headers[name]);
      if (value === undefined) return { ok: false, message: IAM_REFUSALS.mismatch };
      headers[name] = value;
    }
    const query: Record<string, string | string[]> = {};
    for (const key of new Set(request.query.keys())) {
      const values = request.query.getAll(key);
      query[key] = values.length === 1 ? values[0] : values;
    }
    const expected = await signer.sign(
      { method: request.method, protocol: "http:", hostname: headers.host, path: request.path, query, headers, body: request.body },
      { signingDate: signedAt, signableHeaders: new Set(signedHeaders) },
    );
    const expectedAuthorization = String(expected.headers.authorization ?? "");
    const expectedSignature = /Signature=([0-9a-f]{64})$/.exec(expectedAuthorization)?.[1] ?? "";
    const expectedSignedHeaders = /SignedHeaders=([^,]+),/.exec(expectedAuthorization)?.[1];
    const same = expectedSignature.length === signature.length && timingSafeEqual(Buffer.from(expectedSignature), Buffer.from(signature));
    if (!same || expectedSignedHeaders !== signedHeaderList) return { ok: false, message: IAM_REFUSALS.mismatch };

    const userArn = `arn:aws:iam::${credentials.accountId}:user/${accessKeyId}`;
    return {
      ok: true,
      identity: {
        accessKey: accessKeyId,
        accountId: credentials.accountId,
        callerId: accessKeyId,
        cognitoIdentity: null,
        principalOrgId: "",
        userArn,
        userId: accessKeyId,
      },
    };
  };
}

export type IamVerifier = ReturnType<typeof createIamVerifier>;
