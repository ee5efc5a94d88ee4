import { createHmac, timingSafeEqual } from "node:crypto";
import { subscriptionPolicy } from "../topology";
import { requiredEnv } from "../util/config";
import { signingKeys } from "../util/signing-keys";

/**
 * The links in customer mails carry their own proof: `<subscription id>.<expiry>.<HMAC>`, the HMAC
 * (SHA-256, keyed by SUBSCRIPTION_TOKEN_SECRET) over what the link is for, the subscription and the
 * expiry. A confirm link cannot unsubscribe, nor the other way round; changing any part breaks the
 * HMAC; nothing about the token is stored.
 */
export type LinkPurpose = "confirm" | "unsubscribe";

/** How long a link works after it is made. */
export const LINK_LIFETIME_SECONDS: Record<LinkPurpose, number> = {
  confirm: subscriptionPolicy.pendingSeconds,
  unsubscribe: subscriptionPolicy.unsubscribeLinkDays * 24 * 60 * 60,
};

/** Where each link points, under PUBLIC_API_URL (the routes of the `functions` table). */
export const LINK_PATHS: Record<LinkPurpose, string> = {
  confirm: "subscriptions/confirm",
  unsubscribe: "subscriptions/unsubscribe",
};

const keys = signingKeys("SUBSCRIPTION_TOKEN_SECRET", "SUBSCRIPTION_TOKEN_SECRET_PREVIOUS", { minBytes: 32 });

/** A ULID, a whole number of seconds since the epoch in base 36, and a base64url SHA-256. */
const TOKEN = /^([0-9A-HJKMNP-TV-Z]{26})\.([0-9a-z]{1,10})\.([A-Za-z0-9_-]{43})$/;
/** Longer than any token we make: a query parameter beyond it is not read at all. */
export const MAX_TOKEN_LENGTH = 100;

function mac(key: string, purpose: LinkPurpose, id: string, expires: string): string {
  return createHmac("sha256", key).update(`subscription-${purpose}:${id}:${expires}`).digest("base64url");
}

/** A token for `purpose` on subscription `id`, valid until `expiresAt` (whole seconds since the epoch). */
export function signToken(purpose: LinkPurpose, id: string, key: string, expiresAt: number): string {
  const expires = Math.floor(expiresAt).toString(36);
  return `${id}.${expires}.${mac(key, purpose, id, expires)}`;
}

/** What a token says, once checked: the subscription it is for, or why it is refused. */
export type TokenCheck =
  | { ok: true; id: string }
  /** malformed: not the shape of a token (truncated, padded, another link's query); forged: not signed by us for this; expired: ours, too old. */
  | { ok: false; reason: "malformed" | "forged" | "expired" };

/**
 * Is `token` a link we made for `purpose`, still valid at `now`? The HMAC is compared in constant
 * time, and before the expiry is believed: an altered expiry is a forgery, not an expired link.
 */
export async function checkToken(purpose: LinkPurpose, token: string | undefined, now = Date.now()): Promise<TokenCheck> {
  const parts = token !== undefined && token.length <= MAX_TOKEN_LENGTH ? TOKEN.exec(token) : null;
  if (!parts) return { ok: false, reason: "malformed" };
  const [, id, expires, given] = parts;
  const givenBytes = Buffer.from(given);
  const authentic = await keys.verify((key) => {
    const expected = Buffer.from(mac(key, purpose, id, expires));
    return expected.length === givenBytes.length && timingSafeEqual(expected, givenBytes);
  });
  if (!authentic) return { ok: false, reason: "forged" };
  if (Number.parseInt(expires, 36) * 1000 <= now) return { ok: false, reason: "expired" };
  return { ok: true, id };
}

/** The absolute URL of a link for `purpose` on subscription `id`, made now. */
export async function link(purpose: LinkPurpose, id: string, now = Date.now()): Promise<string> {
  const token = signToken(purpose, id, await keys.current(), now / 1000 + LINK_LIFETIME_SECONDS[purpose]);
  const base = requiredEnv("PUBLIC_API_URL");
  const url = new URL(LINK_PATHS[purpose], base.endsWith("/") ? base : `${base}/`);
  url.searchParams.set("token", token);
  return url.toString();
}

/** The link in the confirmation mail. */
export const confirmLink = (id: string) => link("confirm", id);
/** The link in every mail to a subscriber, and its `List-Unsubscribe` header. */
export const unsubscribeLink = (id: string) => link("unsubscribe", id);
