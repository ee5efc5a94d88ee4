import type { DashboardState } from "./state";
import { UPLOT_SCRIPT_PATH, uplotCss } from "./vendor";

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
 * script at UPLOT_SCRIPT_PATH, its CSS inlined here); the restock timeline is plain DOM.
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
  :root {
    --bg: #f6f4f0; --card: #ffffff; --ink: #1f2328; --muted: #6b6f76; --line: #e6e2da;
    --ok: #1a7f37; --ok-bg: #dafbe1; --warn: #9a6700; --warn-bg: #fff8c5; --bad: #cf222e; --bad-bg: #ffebe9;
    --info: #0969da; --info-bg: #ddf4ff; --idle: #57606a; --idle-bg: #eaeef2; --accent: #d9480f;
  }
  @media (prefers-color-scheme: dark) {
    :root {
      --bg: #111418; --card: #1a1f26; --ink: #e6edf3; --muted: #8b949e; --line: #2d333b;
      --ok: #3fb950; --ok-bg: #12261a; --warn: #d29922; --warn-bg: #2b2111; --bad: #f85149; --bad-bg: #2d1416;
      --info: #58a6ff; --info-bg: #10243a; --idle: #8b949e; --idle-bg: #22272e; --accent: #ff8a4c;
    }
  }
  * { box-sizing: border-box; }
  body { margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans KR", sans-serif; }
  header { display: flex; align-items: center; gap: 16px; padding: 16px 24px; border-bottom: 1px solid var(--line); background: var(--card); }
  header h1 { font-size: 18px; margin: 0; font-weight: 650; }
  header h1 span { color: var(--accent); }
  header .spacer { flex: 1; }
  .meta { color: var(--muted); font-size: 12px; }
  .conn { font-size: 12px; color: var(--bad); }
  main { display: grid; gap: 16px; padding: 20px 24px 32px; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); max-width: 1400px; margin: 0 auto; }
  @media (max-width: 900px) { main { grid-template-columns: minmax(0, 1fr); } header { flex-wrap: wrap; } }
  section { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px; min-width: 0; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 0 0 12px; font-weight: 600; }
  table { width: 100%; border-collapse: collapse; }
  th { text-align: left; font-size: 12px; font-weight: 600; color: var(--muted); padding: 4px 8px 6px 0; border-bottom: 1px solid var(--line); }
  td { padding: 7px 8px 7px 0; border-bottom: 1px solid var(--line); vertical-align: middle; }
  tr:last-child td { border-bottom: 0; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  td.mono, .mono { white-space: nowrap; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
  .stock { font-size: 18px; font-weight: 650; font-variant-numeric: tabular-nums; }
  .bar { height: 6px; border-radius: 3px; background: var(--idle-bg); overflow: hidden; min-width: 80px; }
  .bar > i { display: block; height: 100%; background: var(--ok); transition: width .4s ease; }
  .bar.low > i { background: var(--warn); } .bar.empty > i { background: var(--bad); }
  .chip { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; white-space: nowrap; background: var(--idle-bg); color: var(--idle); }
  .chip.pending, .chip.requested { background: var(--info-bg); color: var(--info); }
  .chip.fulfilled, .chip.OK { background: var(--ok-bg); color: var(--ok); }
  .chip.failed, .chip.ALARM { background: var(--bad-bg); color: var(--bad); }
  .chip.cancelled { background: var(--idle-bg); color: var(--idle); }
  .alarm { font-size: 13px; padding: 4px 12px; }
  .tiles { display: grid; grid-template-columns: repeat(3, 1fr); gap: 12px; }
  .tile { border: 1px solid var(--line); border-radius: 8px; padding: 12px; }
  .tile .label { font-size: 12px; color: var(--muted); }
  .tile .value { font-size: 30px; font-weight: 700; font-variant-numeric: tabular-nums; line-height: 1.2; }
  .tile .sub { font-size: 12px; color: var(--muted); }
  .tile.bad { border-color: var(--bad); background: var(--bad-bg); } .tile.bad .value { color: var(--bad); }
  .tile.warn { border-color: var(--warn); background: var(--warn-bg); }
  .counts { display: flex; flex-wrap: wrap; gap: 8px; margin-bottom: 12px; }
  .counts .chip { font-size: 13px; padding: 3px 10px; }
  .empty-note { color: var(--muted); font-style: italic; padding: 6px 0; }
  .error { color: var(--bad); font-size: 12px; margin: 0 0 8px; }
  .err-text { color: var(--muted); font-size: 12px; max-width: 280px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .flash { animation: flash 1.2s ease-out; }
  @keyframes flash { from { background: var(--warn-bg); } to { background: transparent; } }
  footer { text-align: center; color: var(--muted); font-size: 12px; padding: 0 24px 24px; }
  ${uplotCss}
  .charts { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 20px; }
  @media (max-width: 900px) { .charts { grid-template-columns: minmax(0, 1fr); } }
  figure { margin: 0; min-width: 0; }
  figcaption { font-size: 12px; color: var(--muted); margin-bottom: 6px; }
  .chart { min-height: 220px; }
  .uplot, .u-legend { color: var(--ink); font-family: inherit; }
  .tl-row { display: grid; grid-template-columns: 250px minmax(0, 1fr); align-items: center; gap: 10px; padding: 4px 0; }
  .tl-label { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .track { position: relative; height: 14px; background: var(--idle-bg); border-radius: 4px; }
  .seg { position: absolute; top: 2px; height: 10px; border-radius: 3px; min-width: 3px; }
  .seg.pending { background: var(--warn); } .seg.requested { background: var(--info); }
  .mark { position: absolute; top: -2px; width: 4px; height: 18px; margin-left: -2px; border-radius: 2px; }
  .mark.fulfilled { background: var(--ok); } .mark.failed { background: var(--bad); }
  .tl-axis { display: grid; grid-template-columns: 250px minmax(0, 1fr); gap: 10px; font-size: 11px; color: var(--muted); }
  .tl-axis div { display: flex; justify-content: space-between; }
  .legend { display: flex; gap: 14px; font-size: 12px; color: var(--muted); margin-bottom: 8px; }
  .legend i { display: inline-block; width: 12px; height: 8px; border-radius: 2px; margin-right: 4px; vertical-align: middle; }
  .legend .pending { background: var(--warn); } .legend .requested { background: var(--info); } .legend .fulfilled { background: var(--ok); } .legend .failed { background: var(--bad); }
  code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; background: var(--idle-bg); padding: 1px 5px; border-radius: 4px; }
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
"use strict";
const POLL_MS = ${Number(pollMs)};
const STATUSES = ["pending", "requested", "fulfilled", "failed", "cancelled"];
const $ = (id) => document.getElementById(id);

function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === "text") node.textContent = String(value);
    else if (key === "class") node.className = value;
    else node.setAttribute(key, String(value));
  }
  for (const child of children) node.append(child);
  return node;
}

const previous = new Map();
/** Set a number's text; flash it when it changed since the last poll. */
function setValue(node, key, value) {
  const text = value === null || value === undefined ? "–" : String(value);
  if (previous.has(key) && previous.get(key) !== text) {
    node.classList.remove("flash");
    void node.offsetWidth;
    node.classList.add("flash");
  }
  previous.set(key, text);
  node.textContent = text;
}

function ago(iso) {
  if (!iso) return "–";
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 90) return seconds + " s ago";
  if (seconds < 5400) return Math.round(seconds / 60) + " min ago";
  if (seconds < 129600) return Math.round(seconds / 3600) + " h ago";
  return new Date(iso).toLocaleString();
}

function showError(id, text) {
  const node = $(id);
  node.hidden = !text;
  node.textContent = text ? "Cannot read: " + text : "";
}

function renderStock(products) {
  const body = $("stock");
  const rows = products.map((product) => {
    const scale = Math.max(product.restockQuantity, product.stock, 1);
    const fill = el("i");
    // Through the CSSOM: a style="" attribute would be refused by the page's CSP.
    fill.style.width = Math.min(100, Math.round((product.stock / scale) * 100)) + "%";
    const bar = el("div", { class: "bar" + (product.stock === 0 ? " empty" : product.stock <= product.reorderPoint + Math.ceil(product.restockQuantity / 5) ? " low" : "") }, [fill]);
    const stock = el("span", { class: "stock", "data-testid": "stock-" + product.sku });
    setValue(stock, "stock:" + product.sku, product.stock);
    const restock = product.restock
      ? el("span", { class: "chip " + product.restock.status, title: product.restock.id, text: product.restock.status })
      : el("span", { class: "meta", text: "–" });
    return el("tr", {}, [
      el("td", { class: "mono", text: product.sku }),
      el("td", { text: product.name }),
      el("td", { class: "num" }, [stock]),
      el("td", {}, [bar]),
      el("td", {}, [restock]),
    ]);
  });
  body.replaceChildren(...(rows.length ? rows : [el("tr", {}, [el("td", { colspan: 5, class: "empty-note", text: "No products." })])]));
}

function renderQueues(queues, outbox) {
  for (const [name, depth] of [["factory", queues.factory], ["dlq", queues.dlq]]) {
    setValue($(name + "-depth"), name, depth ? depth.visible : null);
    $(name + "-sub").textContent = depth ? "waiting · " + depth.inFlight + " in flight" : "unavailable";
  }
  $("dlq-tile").className = "tile" + (queues.dlq && queues.dlq.visible + queues.dlq.inFlight > 0 ? " bad" : "");
  $("factory-tile").className = "tile" + (queues.factory && queues.factory.visible > 50 ? " warn" : "");
  setValue($("outbox-pending"), "outbox", outbox.pending);
  $("outbox-sub").textContent = outbox.pending ? "oldest " + ago(outbox.oldestPendingAt) : "all events published";
  $("outbox-tile").className = "tile" + (outbox.pending > 0 && Date.now() - Date.parse(outbox.oldestPendingAt) > 60000 ? " warn" : "");
}

function renderRestock(restock) {
  $("restock-counts").replaceChildren(
    ...STATUSES.map((status) => {
      const count = el("b", { "data-testid": "restock-count-" + status });
      setValue(count, "count:" + status, restock.counts[status] || 0);
      return el("span", { class: "chip " + status }, [status + " ", count]);
    }),
  );
  const rows = restock.recent.map((request) =>
    el("tr", {}, [
      el("td", { class: "mono", text: request.id }),
      el("td", { class: "mono", text: request.sku }),
      el("td", {}, [el("span", { class: "chip " + request.status, text: request.status })]),
      el("td", { class: "num", text: request.quantity }),
      el("td", { class: "num", text: request.attempts }),
      el("td", { text: ago(request.updatedAt), title: request.updatedAt }),
      el("td", {}, [el("div", { class: "err-text", text: request.lastError || "", title: request.lastError || "" })]),
    ]),
  );
  $("restock-recent").replaceChildren(...(rows.length ? rows : [el("tr", {}, [el("td", { colspan: 7, class: "empty-note", text: "No restock requests yet." })])]));
}

function renderAlerts(alerts) {
  const rows = alerts.map((mail) =>
    el("tr", {}, [
      el("td", { text: ago(mail.date), title: mail.date }),
      el("td", { text: mail.subject }),
      el("td", { class: "mono", text: mail.to.join(", ") }),
    ]),
  );
  $("alerts").replaceChildren(...(rows.length ? rows : [el("tr", {}, [el("td", { colspan: 3, class: "empty-note", text: "No alert e-mails." })])]));
}

const PALETTE = ["#d9480f", "#1971c2", "#2f9e44", "#9c36b5", "#e67700", "#0c8599", "#c2255c", "#5c940d"];
const cssVar = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
let ordersPlot;
let stockPlot;
let stockKeys = "";
let windowRange = [0, 1];

function chartAxes() {
  const grid = { stroke: cssVar("--line"), width: 1 };
  // Orders and units are whole numbers: no 0.5 ticks.
  const whole = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];
  return [{ stroke: cssVar("--muted"), grid, ticks: grid }, { stroke: cssVar("--muted"), grid, ticks: grid, size: 52, incrs: whole }];
}
function chartOptions(id, series, legend) {
  return {
    width: Math.max(280, $(id).clientWidth),
    height: 200,
    legend: { show: legend },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true, range: () => windowRange }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
    axes: chartAxes(),
    series: [{}, ...series],
  };
}

/** Orders per minute as bars, stock per SKU as steps, both over the same hour. */
function renderCharts(history) {
  if (!history) return;
  if (typeof uPlot === "undefined") {
    showError("chart-error", "the charting library did not load");
    return;
  }
  windowRange = [history.from / 1000, history.to / 1000];
  const minutes = history.ordersPerMinute.map((point) => point.minute / 1000);
  const orders = history.ordersPerMinute.map((point) => point.orders);
  if (!ordersPlot) {
    const bars = { label: "orders", stroke: cssVar("--accent"), fill: cssVar("--accent"), paths: uPlot.paths.bars({ size: [0.7, 20] }), points: { show: false } };
    ordersPlot = new uPlot(chartOptions("orders-chart", [bars], false), [minutes, orders], $("orders-chart"));
  } else {
    ordersPlot.setData([minutes, orders]);
  }
  $("orders-chart").dataset.orders = String(orders.reduce((sum, value) => sum + value, 0));

  const skus = Object.keys(history.stock).sort();
  const times = [...new Set(skus.flatMap((sku) => history.stock[sku].map((point) => point.at / 1000)))].sort((a, b) => a - b);
  const columns = skus.map((sku) => {
    const at = new Map(history.stock[sku].map((point) => [point.at / 1000, point.stock]));
    return times.map((time) => (at.has(time) ? at.get(time) : null));
  });
  if (stockPlot && stockKeys !== skus.join()) {
    stockPlot.destroy();
    stockPlot = undefined;
  }
  if (!stockPlot) {
    stockKeys = skus.join();
    const series = skus.map((sku, index) => ({
      label: sku,
      stroke: PALETTE[index % PALETTE.length],
      width: 2,
      spanGaps: true,
      paths: uPlot.paths.stepped({ align: 1 }),
      points: { show: true, size: 4 },
    }));
    stockPlot = new uPlot(chartOptions("stock-chart", series, true), [times, ...columns], $("stock-chart"));
  } else {
    stockPlot.setData([times, ...columns]);
  }
  $("stock-chart").dataset.series = String(skus.length);
}

/** One row per recent restock request: opened -> requested -> fulfilled or failed, on the hour's scale. */
function renderTimeline(history) {
  if (!history) return;
  const span = history.to - history.from;
  const now = new Date(history.to).toISOString();
  const at = (iso) => Math.max(0, Math.min(100, ((Date.parse(iso) - history.from) / span) * 100));
  const segment = (kind, from, to, title) => {
    const node = el("i", { class: "seg " + kind, title });
    node.style.left = at(from) + "%";
    node.style.width = Math.max(0, at(to) - at(from)) + "%";
    return node;
  };
  const rows = history.restocks.map((request) => {
    const closedAt = request.fulfilledAt || request.failedAt;
    const track = el("div", { class: "track" });
    track.append(segment("pending", request.openedAt, request.requestedAt || closedAt || now, "opened " + new Date(request.openedAt).toLocaleTimeString()));
    if (request.requestedAt) track.append(segment("requested", request.requestedAt, closedAt || now, "requested " + new Date(request.requestedAt).toLocaleTimeString()));
    if (closedAt) {
      const mark = el("b", { class: "mark " + (request.fulfilledAt ? "fulfilled" : "failed"), title: (request.fulfilledAt ? "fulfilled " : "failed ") + new Date(closedAt).toLocaleTimeString() });
      mark.style.left = at(closedAt) + "%";
      track.append(mark);
    }
    const label = el("div", { class: "tl-label", title: request.id }, [
      el("span", { class: "mono", text: request.sku + " ×" + request.quantity + " " }),
      el("span", { class: "chip " + request.status, text: request.status }),
    ]);
    return el("div", { class: "tl-row", "data-testid": "timeline-row" }, [label, track]);
  });
  $("timeline").replaceChildren(...(rows.length ? rows : [el("div", { class: "empty-note", text: "No restock requests yet." })]));
}

function render(state) {
  const alarm = $("alarm");
  alarm.className = "chip alarm " + state.alarm.state;
  alarm.textContent = "DLQ alarm: " + state.alarm.state + (state.alarm.source === "derived" ? " (from DLQ depth)" : "");
  renderStock(state.products);
  renderQueues(state.queues, state.outbox);
  renderRestock(state.restock);
  renderAlerts(state.alerts);
  try {
    renderCharts(state.history);
    renderTimeline(state.history);
  } catch (error) {
    showError("chart-error", String(error && error.message));
  }
  showError("db-error", state.errors.database);
  showError("queue-error", state.errors.queues);
  showError("mail-error", state.errors.mail);
  $("updated").textContent = new Date(state.generatedAt).toLocaleTimeString();
  document.body.dataset.generatedAt = state.generatedAt;
}

async function poll() {
  try {
    const response = await fetch("/api/state", { cache: "no-store" });
    if (!response.ok) throw new Error("HTTP " + response.status);
    render(await response.json());
    $("conn").hidden = true;
  } catch (error) {
    $("conn").hidden = false;
  } finally {
    setTimeout(poll, POLL_MS);
  }
}
const initialState = $("initial-state");
if (initialState) {
  try {
    render(JSON.parse(initialState.textContent));
  } catch (error) {
    $("conn").hidden = false;
  }
  setTimeout(poll, POLL_MS);
} else {
  poll();
}
</script>
</body>
</html>
`;
}

/** JSON that cannot end the <script> element it sits in: no "<", ">" or "&" survives unescaped. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026");
}
