import escapeHtml from "escape-html";
import { subscriptionPolicy } from "../topology";

/**
 * The mails we send customers, as text and HTML. Every one carries RFC 8058's one-click
 * unsubscribe headers, so a mail client can end the subscription without opening a page.
 */
export interface CustomerMail {
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
}

/** `List-Unsubscribe` and `List-Unsubscribe-Post` (RFC 2369, RFC 8058) for a subscription's unsubscribe link. */
export function unsubscribeHeaders(unsubscribeLink: string): Record<string, string> {
  return { "List-Unsubscribe": `<${unsubscribeLink}>`, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" };
}

/** A plain HTML mail body: paragraphs of escaped text, links as given. */
function htmlMail(title: string, paragraphs: Array<string | { text: string; href: string }>): string {
  const body = paragraphs
    .map((part) =>
      typeof part === "string" ? `<p>${escapeHtml(part)}</p>` : `<p><a href="${escapeHtml(part.href)}">${escapeHtml(part.text)}</a></p>`,
    )
    .join("\n");
  return `<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>\n<body>\n${body}\n</body>\n</html>\n`;
}

export interface ConfirmationFacts {
  sku: string;
  productName: string;
  confirmLink: string;
  unsubscribeLink: string;
}

/** The double opt-in: nothing else reaches the address until its owner follows `confirmLink`. */
export function confirmationMail({ sku, productName, confirmLink, unsubscribeLink }: ConfirmationFacts): CustomerMail {
  const hours = subscriptionPolicy.pendingSeconds / 3600;
  const subject = `Confirm: tell me when ${productName} is back`;
  const asked = `Someone, we hope you, asked us to e-mail this address once when ${productName} (${sku}) is back in stock.`;
  const confirm = `To confirm, open this link within ${hours} hours:`;
  const ignore = `If it was not you, ignore this mail: nothing more will come, and we forget this address ${hours} hours from now.`;
  const stop = "To withdraw the request now:";
  return {
    subject,
    text: [asked, "", confirm, confirmLink, "", ignore, "", stop, unsubscribeLink, "", "Donut-States"].join("\n"),
    html: htmlMail(subject, [
      asked,
      confirm,
      { text: "Yes, e-mail me once when it is back", href: confirmLink },
      ignore,
      stop,
      { text: "Withdraw this request", href: unsubscribeLink },
      "Donut-States",
    ]),
    headers: unsubscribeHeaders(unsubscribeLink),
  };
}
