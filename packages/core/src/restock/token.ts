import { createHmac, timingSafeEqual } from "node:crypto";
import { signingKeys } from "../util/signing-keys";
import * as z from "../util/zod";

/** The `attempt` query parameter of a callback URL: which factory call it answers (1 for the first). */
export const CallbackAttempt = z.pipe(
  z
    .string({ error: "a callback URL names the factory call it answers: attempt=<n> is required" })
    .check(z.regex(/^[1-9][0-9]{0,5}$/, "attempt must be a whole number from 1 to 999999")),
  z.transform(Number),
);

/**
 * The legacy factory cannot sign its callbacks, so the only secret we can hand it is the URL
 * itself: each factory call's CallbackUrl carries HMAC-SHA256(secret, restockId and attempt).
 * Knowing one URL gives nothing about another (another request, or another call for the same
 * request), and the secret never leaves our side.
 */
export function callbackToken(restockId: string, secret: string, attempt: number): string {
  return createHmac("sha256", secret).update(`restock-callback:${restockId}:${attempt}`).digest("base64url");
}

/** Constant-time check, so response timing does not leak how much of a guess was right. */
export function verifyCallbackToken(restockId: string, token: string, secret: string, attempt: number): boolean {
  const expected = Buffer.from(callbackToken(restockId, secret, attempt));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The URL the factory must POST to when the production asked for by this call is done. */
export function callbackUrl(apiBaseUrl: string, restockId: string, secret: string, attempt: number): string {
  const url = new URL(`factory/callbacks/${encodeURIComponent(restockId)}`, apiBaseUrl.endsWith("/") ? apiBaseUrl : `${apiBaseUrl}/`);
  url.searchParams.set("attempt", String(attempt));
  url.searchParams.set("token", callbackToken(restockId, secret, attempt));
  return url.toString();
}

/** Signs new callback URLs. */
export const CALLBACK_SECRET = "FACTORY_CALLBACK_SECRET";
/**
 * Set only while FACTORY_CALLBACK_SECRET is being rotated: the secret that signed the URLs the
 * factory still holds. Callbacks signed with it are accepted; nothing new is signed with it.
 */
export const PREVIOUS_CALLBACK_SECRET = "FACTORY_CALLBACK_SECRET_PREVIOUS";

const callbackKeys = signingKeys(CALLBACK_SECRET, PREVIOUS_CALLBACK_SECRET);

export function signingSecret(): Promise<string> {
  return callbackKeys.current();
}

/**
 * Is `token` a callback token we issued for `restockId`, with the current secret or, during a
 * rotation, the previous one? A container that cached the secrets before a rotation re-reads
 * them once when a token matches none, so a URL signed with the new secret is not refused.
 */
export function isAuthenticCallback(restockId: string, token: string, attempt: number): Promise<boolean> {
  return callbackKeys.verify((key) => verifyCallbackToken(restockId, token, key, attempt));
}
