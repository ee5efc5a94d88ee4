import * as Subscription from "@donut-states/core/subscription";
import { AppError } from "@donut-states/core/util/error";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { apiHandler, header, MAX_BODY_BYTES } from "./http";
import { errorPage, page } from "./page";

/**
 * The links in customer mails, answered with small HTML pages (page.ts): the confirmation link,
 * and the unsubscribe link, which a browser GETs (a page whose button POSTs back) and a mail
 * client POSTs (RFC 8058 one-click). A link that is not ours, incomplete or too old is refused
 * with a 4xx page and changes nothing.
 */

const refusals: Record<Exclude<Subscription.TokenCheck, { ok: true }>["reason"], AppError> = {
  malformed: new AppError(
    400,
    "TOKEN_MALFORMED",
    "This link is incomplete. Open it exactly as it is in the mail (some mail programs cut long links).",
  ),
  forged: new AppError(403, "TOKEN_INVALID", "This link is not one of ours, or it was changed on the way."),
  expired: new AppError(410, "TOKEN_EXPIRED", "This link has expired. Ask again on the product's page if you still want to hear from us."),
};

/** The subscription a link is for, or the refusal as an error page's error. */
async function subscriptionOf(event: APIGatewayProxyEventV2, purpose: Subscription.LinkPurpose): Promise<string> {
  const checked = await Subscription.checkToken(purpose, event.queryStringParameters?.token);
  if (!checked.ok) throw refusals[checked.reason];
  return checked.id;
}

const named = (subscription?: { sku: string; productName: string }) =>
  subscription ? `${subscription.productName} (${subscription.sku})` : "this product";

/** GET /subscriptions/confirm?token=…: confirms (idempotent). */
export const confirm = apiHandler(async (event) => {
  const { outcome, subscription } = await Subscription.confirm(await subscriptionOf(event, "confirm"));
  if (outcome === "confirmed") {
    return page(200, "Confirmed", [
      `We will e-mail you once when ${named(subscription)} is back in stock. That one mail ends your subscription.`,
      "Every mail from us has a link to unsubscribe.",
    ]);
  }
  return page(410, "This subscription has ended", [
    `Your request about ${named(subscription)} was withdrawn, was not confirmed in time, or was already answered. Ask again on the product's page if you still want to hear from us.`,
  ]);
}, errorPage);

/** GET /subscriptions/unsubscribe?token=…: a page whose button POSTs to the same URL; changes nothing. */
export const unsubscribePage = apiHandler(async (event) => {
  const id = await subscriptionOf(event, "unsubscribe");
  const subscription = await Subscription.byId(id);
  if (subscription?.status !== "pending" && subscription?.status !== "confirmed") {
    return page(200, "You are not subscribed", [`No mail about ${named(subscription)} will come from us.`]);
  }
  return page(200, "Unsubscribe?", [`Stop waiting for ${named(subscription)}: no mail about it will come from us.`], {
    action: `${event.rawPath}?token=${encodeURIComponent(event.queryStringParameters?.token ?? "")}`,
    fields: { "List-Unsubscribe": "One-Click" },
    button: "Unsubscribe",
  });
}, errorPage);

/** POST /subscriptions/unsubscribe?token=… with List-Unsubscribe=One-Click (RFC 8058): ends it (idempotent). */
export const unsubscribe = apiHandler(async (event) => {
  const id = await subscriptionOf(event, "unsubscribe");
  await requireOneClick(event);
  const { subscription } = await Subscription.unsubscribe(id);
  return page(200, "You are unsubscribed", [`No mail about ${named(subscription)} will come from us.`]);
}, errorPage);

const FORM_TYPES = /^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i;

/**
 * The one-click body RFC 8058 prescribes, `List-Unsubscribe=One-Click`, form-encoded
 * (urlencoded or multipart): parsed by the platform's own form reader.
 */
async function requireOneClick(event: APIGatewayProxyEventV2): Promise<void> {
  const raw = event.body ?? "";
  const bytes = event.isBase64Encoded ? Buffer.from(raw, "base64") : Buffer.from(raw, "utf8");
  if (bytes.length > MAX_BODY_BYTES) {
    throw new AppError(413, "PAYLOAD_TOO_LARGE", `Request body is ${bytes.length} bytes; the limit is ${MAX_BODY_BYTES}`);
  }
  const contentType = header(event, "content-type") ?? "application/x-www-form-urlencoded";
  if (!FORM_TYPES.test(contentType.trim())) {
    throw new AppError(415, "UNSUPPORTED_MEDIA_TYPE", "An unsubscribe request is a form: List-Unsubscribe=One-Click");
  }
  const form = await new Response(bytes, { headers: { "content-type": contentType } }).formData().catch(() => undefined);
  if (form?.get("List-Unsubscribe") !== "One-Click") {
    throw new AppError(400, "ONE_CLICK_REQUIRED", "An unsubscribe request carries List-Unsubscribe=One-Click (RFC 8058)");
  }
}
