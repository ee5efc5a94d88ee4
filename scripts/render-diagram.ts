/// <reference lib="dom" />
/**
 * `npm run diagram [-- <file.mmd>]`: render a Mermaid diagram (default docs/architecture.mmd)
 * to <name>.svg and <name>.png next to it, with the installed `mermaid` package inside headless
 * Chromium (playwright-core). No browser is downloaded: CHROMIUM_PATH, default /usr/bin/chromium.
 *
 * Labels are rendered as plain SVG text (flowchart.htmlLabels = false), so the .svg displays
 * the same in browsers, GitHub and image viewers (no <foreignObject>).
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CHROMIUM_PATH, launchChromium } from "@donut-states/local/browser";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const MERMAID = path.join(ROOT, "node_modules/mermaid/dist/mermaid.min.js");

export async function renderDiagram(input: string): Promise<{ svg: string; png: string }> {
  for (const [file, hint] of [
    [input, "the diagram source"],
    [MERMAID, "the mermaid package (npm install)"],
    [CHROMIUM_PATH, "Chromium (apt-get install chromium, or set CHROMIUM_PATH)"],
  ]) {
    if (!existsSync(file)) throw new Error(`Not found: ${file} (${hint})`);
  }
  const source = await readFile(input, "utf8");
  const base = input.replace(/\.mmd$/, "");
  const { browser, close } = await launchChromium({ viewport: { width: 2400, height: 1200 }, deviceScaleFactor: 2 });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.setContent(
      `<!doctype html><html><head><meta charset="utf-8"></head><body style="margin:0;background:#fff"><div id="diagram" style="display:inline-block;padding:16px;background:#fff"></div></body></html>`,
    );
    await page.addScriptTag({ path: MERMAID });
    const svg = await page.evaluate(async (text) => {
      // biome-ignore lint/suspicious/noExplicitAny: mermaid's browser bundle sets an untyped global.
      const mermaid = (globalThis as any).mermaid;
      mermaid.initialize({
        startOnLoad: false,
        securityLevel: "strict",
        theme: "default",
        htmlLabels: false,
        fontFamily: "Helvetica, Arial, sans-serif",
        flowchart: { htmlLabels: false, curve: "basis", nodeSpacing: 40, rankSpacing: 50, padding: 12, wrappingWidth: 320 },
      });
      const { svg: rendered } = await mermaid.render("architecture", text);
      const container = document.getElementById("diagram")!;
      container.innerHTML = rendered;
      // Mermaid sizes the SVG width="100%" with a max-width; give it its natural size instead,
      // so the PNG is not squeezed and the .svg file opens at 1:1 in any viewer.
      const element = container.querySelector("svg")!;
      const [, , width, height] = (element.getAttribute("viewBox") ?? "0 0 0 0").split(/\s+/).map(Number);
      element.setAttribute("width", String(Math.ceil(width)));
      element.setAttribute("height", String(Math.ceil(height)));
      element.style.removeProperty("max-width");
      return element.outerHTML;
    }, source);
    if (errors.length) throw new Error(`Mermaid failed: ${errors.join("; ")}`);
    if (!/^<svg[\s>]/.test(svg.trim())) throw new Error("Mermaid returned no SVG");

    const svgFile = `${base}.svg`;
    const pngFile = `${base}.png`;
    await writeFile(svgFile, `<?xml version="1.0" encoding="UTF-8"?>\n${svg}\n`);
    await page.locator("#diagram").screenshot({ path: pngFile });
    return { svg: svgFile, png: pngFile };
  } finally {
    await close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const input = path.resolve(process.argv[2] ?? path.join(ROOT, "docs/architecture.mmd"));
  try {
    const { svg, png } = await renderDiagram(input);
    console.log(`wrote ${path.relative(process.cwd(), svg)} and ${path.relative(process.cwd(), png)}`);
  } catch (error) {
    console.error(`render-diagram: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
