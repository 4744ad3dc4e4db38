/**
 * Static export through headless Chromium. Needs Debian's chromium (apt-get install chromium);
 * without it the rendering tests are skipped with a printed notice (the error path still runs).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BrowserNotFoundError } from "../../src/crystal/errors.ts";
import { chromiumPath, closeBrowser, hasChromium } from "../../src/notebook/browser.ts";
import { saveFigure } from "../../src/notebook/save_figure.ts";
import { figureBundle } from "../../src/notebook/show_figure.ts";
import type { Figure } from "../../src/notebook/plotly_types.ts";

const dir = mkdtempSync(join(tmpdir(), "save-figure-"));
const fig: Figure = {
  data: [{ type: "scatter", mode: "lines+markers", name: "energy-trace-7319", x: [1, 2, 3], y: [0.25, -1.5, 0.75] }],
  layout: { title: { text: "export test" }, showlegend: true, xaxis: { title: { text: "step" } }, yaxis: { title: { text: "E (eV/atom)" } } },
};

/** Width and height from a PNG's IHDR chunk (after the 8-byte signature and the chunk header). */
function pngSize(buf: Buffer): { width: number; height: number } {
  assert.equal([...buf.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], "PNG signature");
  assert.is(buf.subarray(12, 16).toString("ascii"), "IHDR");
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

test("chromiumPath names the apt package and CHROMIUM_PATH when the browser is missing", () => {
  const saved = process.env.CHROMIUM_PATH;
  process.env.CHROMIUM_PATH = "/nonexistent/chromium";
  try {
    assert.throws(() => chromiumPath(), (e: unknown) => e instanceof BrowserNotFoundError && /CHROMIUM_PATH=\/nonexistent\/chromium/.test((e as Error).message));
    assert.is(hasChromium(), false);
  } finally {
    if (saved === undefined) delete process.env.CHROMIUM_PATH;
    else process.env.CHROMIUM_PATH = saved;
  }
});

const chromium = hasChromium();
if (!chromium) console.log("NOTICE: no Chromium (apt-get install chromium): skipping PNG/SVG/PDF rendering tests");

test("saveFigure writes a decodable PNG of the requested size × scale", async () => {
  if (!chromium) return;
  const path = await saveFigure(fig, join(dir, "sub", "fig.png"), { width: 640, height: 400, scale: 2 });
  const buf = readFileSync(path);
  assert.ok(buf.length > 1000);
  assert.equal(pngSize(buf), { width: 1280, height: 800 });
});

test("saveFigure writes an SVG that contains the trace's data and axis titles", async () => {
  if (!chromium) return;
  const path = await saveFigure(fig, join(dir, "fig.svg"), { width: 500, height: 300 });
  const svg = readFileSync(path, "utf8");
  assert.match(svg, /^<svg[^>]*width="500"[^>]*height="300"/);
  assert.match(svg, "energy-trace-7319"); // legend entry of the trace
  assert.match(svg, "E (eV/atom)");
  assert.match(svg, /class="scatterlayer/);
  assert.is((svg.match(/class="point"/g) ?? []).length, 3); // one marker per data point
});

test("saveFigure writes a one-page PDF; no temp files are left behind", async () => {
  if (!chromium) return;
  const path = await saveFigure(fig, join(dir, "fig.pdf"));
  const pdf = readFileSync(path);
  assert.is(pdf.subarray(0, 5).toString("ascii"), "%PDF-");
  assert.is((pdf.toString("latin1").match(/\/Type\s*\/Page[^s]/g) ?? []).length, 1);
  assert.ok(statSync(path).size > 1000);
});

test("figureBundle: HTML + PNG + text; plotly.js embedded only in the first bundle", async () => {
  if (!chromium) return;
  const first = await figureBundle(fig);
  const second = await figureBundle(fig, { png: false });
  assert.equal(Object.keys(first).sort(), ["image/png", "text/html", "text/plain"]);
  assert.match(first["text/html"] as string, "__cgPlotlyReady=new Response");
  assert.not.match(second["text/html"] as string, "__cgPlotlyReady=new Response");
  assert.is(second["image/png"], undefined);
  assert.equal(pngSize(Buffer.from(first["image/png"] as Uint8Array)), { width: 800, height: 500 });
  assert.match(first["text/plain"] as string, '"export test": 1 trace(s) [scatter]');
});

test.after(async () => {
  await closeBrowser();
  rmSync(dir, { recursive: true, force: true });
});

test.run();
