/**
 * The dashboard page's script (inlined, under the page's nonce), plain browser JS: polls
 * /api/state every `pollMs` and redraws; every value goes into the DOM through textContent.
 */
export function dashboardScript(pollMs: number): string {
  return `"use strict";
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
}`;
}
