import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The legacy factory cannot sign its callbacks, so the only secret we can hand it is the URL
 * itself: each restock request's CallbackUrl carries HMAC-SHA256(secret, restockId). Knowing
 * one URL gives nothing about another, and the secret never leaves our side.
 */
export function callbackToken(restockId: string, secret: string): string {
  return createHmac("sha256", secret).update(`restock-callback:${restockId}`).digest("base64url");
}

/** Constant-time check, so response timing does not leak how much of a guess was right. */
export function verifyCallbackToken(restockId: string, token: string, secret: string): boolean {
  const expected = Buffer.from(callbackToken(restockId, secret));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The URL the factory must POST to when production for this request is done. */
export function callbackUrl(apiBaseUrl: string, restockId: string, secret: string): string {
  const url = new URL(`factory/callbacks/${encodeURIComponent(restockId)}`, apiBaseUrl.endsWith("/") ? apiBaseUrl : `${apiBaseUrl}/`);
  url.searchParams.set("token", callbackToken(restockId, secret));
  return url.toString();
}
