import { createHash } from "node:crypto";
import type { AppError } from "@donut-states/core/util/error";
import escapeHtml from "escape-html";
import type { ApiResult } from "./http";

/**
 * The small HTML pages the links in customer mails open. Every value is escaped; there is no
 * script at all, and the Content-Security-Policy allows nothing but the one style block below
 * (by its hash) and a form posting back to this API.
 */

const STYLE =
  "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5}button{font-size:1rem;padding:.5rem 1rem}";
const STYLE_HASH = createHash("sha256").update(STYLE).digest("base64");

export const PAGE_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
  // The token is in the URL: no other site gets it as a Referer, and no cache keeps the page.
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
} as const;

/** A form posting back to `action` (a path on this API) with the given fields, behind one button. */
export interface PageForm {
  action: string;
  fields: Record<string, string>;
  button: string;
}

/** An HTML page: a heading, paragraphs of text, and at most one form. */
export function page(statusCode: number, title: string, paragraphs: string[], form?: PageForm): ApiResult {
  const formHtml = form
    ? `<form method="post" action="${escapeHtml(form.action)}">${Object.entries(form.fields)
        .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
        .join("")}<button type="submit">${escapeHtml(form.button)}</button></form>`
    : "";
  const body = [
    "<!doctype html>",
    '<html lang="en">',
    `<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>`,
    `<body><h1>${escapeHtml(title)}</h1>${paragraphs.map((text) => `<p>${escapeHtml(text)}</p>`).join("")}${formHtml}</body>`,
    "</html>",
    "",
  ].join("\n");
  return { statusCode, headers: { ...PAGE_HEADERS }, body };
}

/** An error as a page (the routes a browser opens): its message, nothing of our internals. */
export function errorPage(error: AppError): ApiResult {
  const page503: Record<string, string> = error.status === 503 ? { "retry-after": error.headers["retry-after"] ?? "2" } : {};
  const result = page(error.status, error.status >= 500 ? "Please try again shortly" : "This did not work", [error.message]);
  return { ...result, headers: { ...result.headers, ...page503 } };
}
