/**
 * The admin API client: every request SigV4-signed (service execute-api) with the standard
 * AWS credential chain for a deployed stage (AWS_PROFILE, SSO, environment, instance role...),
 * or with the offline stack's fixed credentials, which its gateway checks the same way API
 * Gateway's AWS_IAM authorizer does. Answers come back as JSON; errors keep the API's
 * `{ error: { code, message } }` and become OpsErrors the CLI prints.
 */
import { Sha256 } from "@aws-crypto/sha256-js";
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import { EXIT, OpsError } from "./output";

export interface AdminApi {
  /** For messages: where requests go. */
  readonly baseUrl: string;
  request<T>(
    method: "GET" | "POST" | "PUT" | "PATCH",
    path: string,
    options?: { query?: Record<string, string | undefined>; body?: unknown },
  ): Promise<T>;
}

export interface AdminApiOptions {
  baseUrl: string;
  region: string;
  /** Fixed credentials (offline) or a provider; default: the SDK's standard chain. */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Hint for messages when a request is refused (which credentials to check). */
  target: string;
  timeoutMs?: number;
}

export function createAdminApi({ baseUrl, region, credentials, target, timeoutMs = 30_000 }: AdminApiOptions): AdminApi {
  const signer = new SignatureV4({
    credentials: credentials ?? fromNodeProviderChain(),
    region,
    service: "execute-api",
    sha256: Sha256,
    applyChecksum: false,
  });
  const base = new URL(baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);

  return {
    baseUrl: base.origin + base.pathname.replace(/\/$/, ""),
    async request<T>(
      method: string,
      path: string,
      { query = {}, body }: { query?: Record<string, string | undefined>; body?: unknown } = {},
    ) {
      const url = new URL(path.replace(/^\//, ""), base);
      for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, value);
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string> = { host: url.host, accept: "application/json" };
      if (payload !== undefined) headers["content-type"] = "application/json";
      let signed: Awaited<ReturnType<typeof signer.sign>>;
      try {
        signed = await signer.sign({
          method,
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port ? Number(url.port) : undefined,
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          headers,
          body: payload,
        });
      } catch (error) {
        throw new OpsError(
          `No AWS credentials to sign the request for ${target} (${(error as Error).message}). Set AWS_PROFILE, or log in with \`aws sso login\`.`,
          EXIT.failed,
          "AWS_AUTH",
        );
      }
      // fetch sets Host itself, from the URL: the same value that was signed.
      const { host: _host, ...sendHeaders } = signed.headers as Record<string, string>;
      let response: Response;
      try {
        response = await fetch(url, { method, headers: sendHeaders, body: payload, signal: AbortSignal.timeout(timeoutMs) });
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        throw new OpsError(
          `Cannot reach the admin API at ${url.origin} (${cause?.code ?? (error as Error).name}: ${cause?.message ?? (error as Error).message}). ` +
            (target.startsWith("offline")
              ? "Is the offline stack running (`npm start`)?"
              : "Check --api-url / API_URL (the stack output ApiUrl)."),
          EXIT.failed,
          "API_UNAVAILABLE",
        );
      }
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      if (response.ok) return parsed as T;
      throw apiError(response.status, parsed, text, target);
    },
  };
}

function apiError(status: number, parsed: unknown, text: string, target: string): OpsError {
  const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
  if (error?.message) return new OpsError(error.message, EXIT.failed, error.code ?? `HTTP_${status}`);
  // API Gateway's own answers ({"message": "Forbidden"}, signature errors) have no error object.
  const message = (parsed as { message?: string } | undefined)?.message ?? (text.slice(0, 200) || `HTTP ${status}`);
  if (status === 403) {
    return new OpsError(
      `The admin API refused the request (403: ${message}). Check the AWS credentials for ${target} and that their IAM policy allows execute-api:Invoke on the admin routes (docs/runbook.md, "Access to the admin API").`,
      EXIT.failed,
      "FORBIDDEN",
    );
  }
  return new OpsError(`The admin API answered ${status}: ${message}`, EXIT.failed, `HTTP_${status}`);
}
