/**
 * uPlot (a small, dependency-free charting library) served by the dashboard itself from
 * node_modules: the page fetches nothing from the internet.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
const dist = path.dirname(require.resolve("uplot/dist/uPlot.iife.min.js"));

/** Where the page loads the script from (same origin, so the page's CSP admits it with its nonce). */
export const UPLOT_SCRIPT_PATH = "/vendor/uPlot.iife.min.js";
export const uplotScript = readFileSync(path.join(dist, "uPlot.iife.min.js"));
/** Inlined into the page's own (nonce'd) style element. */
export const uplotCss = readFileSync(path.join(dist, "uPlot.min.css"), "utf8");
