import { uplotCss } from "./vendor";

/** The dashboard page's CSS (inlined, under the page's nonce), light and dark, with uPlot's own. */
export const dashboardStyle = `  :root {
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
  code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; background: var(--idle-bg); padding: 1px 5px; border-radius: 4px; }`;
