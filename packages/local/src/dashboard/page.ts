import { dashboardScript } from "./page-script";
import { dashboardStyle } from "./page-style";
import type { DashboardState } from "./state";
import { UPLOT_SCRIPT_PATH } from "./vendor";

/**
 * The dashboard page: one HTML document, inline CSS and vanilla JS, no build step. It polls
 * /api/state every second and redraws; every value goes into the DOM through textContent
 * (e-mail subjects and error messages are data, never markup). The nonce ties the inline
 * script and style to the Content-Security-Policy the server sends with it.
 *
 * `initial`, the snapshot at the time of the request, travels inside the page and is drawn
 * before the first poll: a first look (or a screenshot, or a slow client) sees data at once.
 *
 * The charts over the last hour are uPlot, served by the dashboard from node_modules (its
 * script at UPLOT_SCRIPT_PATH, its CSS inlined with ours, page-style.ts); the restock timeline
 * is plain DOM (page-script.ts).
 */
export function dashboardPage(nonce: string, pollMs = 1000, initial?: DashboardState): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Donut-States · operations</title>
<link rel="icon" href="data:,">
<style nonce="${nonce}">
${dashboardStyle}
</style>
</head>
<body>
<header>
  <h1>Donut-States <span>·</span> operations</h1>
  <span class="chip alarm" id="alarm" data-testid="alarm-state" title="DLQ alarm">…</span>
  <span class="spacer"></span>
  <span class="conn" id="conn" hidden>connection lost, retrying…</span>
  <span class="meta">updated <span id="updated" data-testid="updated-at">never</span></span>
</header>
<main>
  <section>
    <h2>Stock</h2>
    <p class="error" id="db-error" hidden></p>
    <table>
      <thead><tr><th>SKU</th><th>Product</th><th class="num">Stock</th><th></th><th>Restock</th></tr></thead>
      <tbody id="stock"></tbody>
    </table>
  </section>
  <section>
    <h2>Queues</h2>
    <p class="error" id="queue-error" hidden></p>
    <div class="tiles">
      <div class="tile" id="factory-tile"><div class="label">Factory queue</div><div class="value" id="factory-depth" data-testid="factory-depth">–</div><div class="sub" id="factory-sub">waiting</div></div>
      <div class="tile" id="dlq-tile"><div class="label">Dead-letter queue</div><div class="value" id="dlq-depth" data-testid="dlq-depth">–</div><div class="sub" id="dlq-sub">waiting</div></div>
      <div class="tile" id="outbox-tile"><div class="label">Outbox backlog</div><div class="value" id="outbox-pending" data-testid="outbox-pending">–</div><div class="sub" id="outbox-sub">unpublished events</div></div>
    </div>
  </section>
  <section class="wide">
    <h2>Over the last hour</h2>
    <p class="error" id="chart-error" hidden></p>
    <div class="charts">
      <figure><figcaption>Orders per minute (confirmed)</figcaption><div class="chart" id="orders-chart" data-testid="orders-chart"></div></figure>
      <figure><figcaption>Stock per SKU (the lowest level each minute's orders left, then now)</figcaption><div class="chart" id="stock-chart" data-testid="stock-chart"></div></figure>
    </div>
  </section>
  <section class="wide">
    <h2>Restock timeline</h2>
    <div class="legend"><span><i class="pending"></i>opened, event on its way</span><span><i class="requested"></i>requested, factory producing</span><span><i class="fulfilled"></i>fulfilled</span><span><i class="failed"></i>failed</span></div>
    <div id="timeline" data-testid="restock-timeline"></div>
    <div class="tl-axis"><span></span><div><span>60 min ago</span><span>30 min ago</span><span>now</span></div></div>
  </section>
  <section class="wide">
    <h2>Restock requests</h2>
    <div class="counts" id="restock-counts"></div>
    <table>
      <thead><tr><th>Id</th><th>SKU</th><th>Status</th><th class="num">Qty</th><th class="num">Factory calls</th><th>Updated</th><th>Last error</th></tr></thead>
      <tbody id="restock-recent"></tbody>
    </table>
  </section>
  <section class="wide">
    <h2>Alert e-mails</h2>
    <p class="error" id="mail-error" hidden></p>
    <table>
      <thead><tr><th>Received</th><th>Subject</th><th>To</th></tr></thead>
      <tbody id="alerts" data-testid="alert-list"></tbody>
    </table>
  </section>
</main>
<footer>
  DLQ not empty? <code>npm run ops -- dlq peek</code> · fix the cause · <code>npm run ops -- dlq redrive</code> — see <code>docs/runbook.md</code>
</footer>
<script nonce="${nonce}" src="${UPLOT_SCRIPT_PATH}"></script>
${initial ? `<script type="application/json" id="initial-state">${jsonForScript(initial)}</script>\n` : ""}<script nonce="${nonce}">
${dashboardScript(pollMs)}
</script>
</body>
</html>
`;
}

/** JSON that cannot end the <script> element it sits in: no "<", ">" or "&" survives unescaped. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026");
}
