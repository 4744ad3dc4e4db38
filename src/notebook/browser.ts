/**
 * Headless Chromium that turns plotly figures into PNG / SVG / PDF, offline: Debian's
 * `chromium` driven by playwright-core with plotly.js injected from node_modules. One browser
 * and one plotly page serve every figure of a process (start ≈2 s, then ≈50 ms per PNG).
 *
 * Lifetime: inside a Jupyter kernel the browser lives as long as the kernel. In scripts and
 * tests an open browser would keep Node running, so it closes itself after IDLE_CLOSE_MS
 * without renders; call `closeBrowser()` to end it at once.
 */
import { existsSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { BrowserNotFoundError, FigureError } from "../crystal/errors.ts";
import { inTslabKernel } from "./kernel.ts";
import { plotlySource } from "./plotly_source.ts";
import type { Figure } from "./plotly_types.ts";
import { scriptJson } from "./figure_html.ts";

/** Where Debian (and most Linux distributions) put Chromium. */
const DEFAULT_PATHS = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/** Flags for a quiet, offline, sandbox-free headless start (containers have no user namespaces). */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
  // WebGL (plotly 3-D scenes) on the software rasteriser when there is no GPU.
  "--enable-unsafe-swiftshader",
];

const IDLE_CLOSE_MS = 1500;

/** Static image size and pixel ratio (scale 2 = retina-sharp PNG). */
export interface ImageSize {
  width: number;
  height: number;
  scale?: number;
}

interface Session {
  browser: Browser;
  page: Page;
}

let session: Promise<Session> | undefined;
let idleTimer: NodeJS.Timeout | undefined;
let busy = 0;

/**
 * Path of the Chromium executable: $CHROMIUM_PATH, else the first of DEFAULT_PATHS that exists.
 * @throws BrowserNotFoundError naming `apt-get install chromium` and CHROMIUM_PATH.
 */
export function chromiumPath(): string {
  const env = process.env.CHROMIUM_PATH;
  if (env) {
    if (existsSync(env)) return env;
    throw new BrowserNotFoundError(`CHROMIUM_PATH=${env} does not exist: point it at a Chromium/Chrome binary, or unset it to use /usr/bin/chromium.`);
  }
  const found = DEFAULT_PATHS.find((p) => existsSync(p));
  if (found) return found;
  throw new BrowserNotFoundError(
    `No headless Chromium found for static figure export (looked in ${DEFAULT_PATHS.join(", ")}). ` +
      `Install it with \`sudo apt-get install chromium\`, or set CHROMIUM_PATH to a Chromium/Chrome binary.`,
  );
}

/** True when a Chromium binary is available (static PNG fallbacks and saveFigure work). */
export function hasChromium(): boolean {
  try {
    chromiumPath();
    return true;
  } catch {
    return false;
  }
}

async function startSession(): Promise<Session> {
  const executablePath = chromiumPath();
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
  const page = await browser.newPage();
  await page.setContent("<!doctype html><html><head><meta charset='utf-8'></head><body></body></html>");
  await page.addScriptTag({ content: plotlySource() });
  if (!(await page.evaluate(() => typeof (globalThis as { Plotly?: unknown }).Plotly === "object")))
    throw new FigureError("plotly.js did not load in headless Chromium (node_modules/plotly.js-dist damaged?): reinstall with npm ci.");
  return { browser, page };
}

/** The shared session, started on first use; a failed start is not cached, so a retry can succeed. */
function getSession(): Promise<Session> {
  if (idleTimer) clearTimeout(idleTimer);
  session ??= startSession().catch((err: unknown) => {
    session = undefined;
    throw err;
  });
  return session;
}

/** Runs `fn` on the plotly page, then re-arms the idle close (outside a kernel). */
async function withPage<T>(fn: (page: Page, browser: Browser) => Promise<T>): Promise<T> {
  busy++;
  try {
    const { page, browser } = await getSession();
    return await fn(page, browser);
  } finally {
    busy--;
    if (busy === 0 && !inTslabKernel()) idleTimer = setTimeout(() => void closeBrowser(), IDLE_CLOSE_MS);
  }
}

/** Closes the shared browser now (idempotent). The next render starts a fresh one. */
export async function closeBrowser(): Promise<void> {
  if (idleTimer) clearTimeout(idleTimer);
  const s = session;
  session = undefined;
  if (s) await (await s.catch(() => undefined))?.browser.close();
}

function checkSize(size: ImageSize): Required<ImageSize> {
  const scale = size.scale ?? 1;
  for (const [k, v] of Object.entries({ width: size.width, height: size.height, scale }))
    if (!(Number.isFinite(v) && v > 0)) throw new FigureError(`Figure export ${k} must be a positive number, got ${v}.`);
  return { width: size.width, height: size.height, scale };
}

/** Plotly.toImage inside the page; returns the data URL. Plotly errors become FigureError. */
async function toDataUrl(page: Page, fig: Figure, format: "png" | "svg", size: Required<ImageSize>): Promise<string> {
  const figJson = scriptJson(fig);
  try {
    return await page.evaluate(
      ([json, opts]) => (globalThis as unknown as { Plotly: { toImage(f: unknown, o: unknown): Promise<string> } }).Plotly.toImage(JSON.parse(json), opts),
      [figJson, { format, ...size }] as const,
    );
  } catch (err) {
    throw new FigureError(`Plotly could not render the figure as ${format}: ${(err as Error).message.split("\n")[0]}`);
  }
}

/** PNG bytes of a figure. */
export async function renderPng(fig: Figure, size: ImageSize): Promise<Uint8Array> {
  const s = checkSize(size);
  const url = await withPage((page) => toDataUrl(page, fig, "png", s));
  return new Uint8Array(Buffer.from(url.slice(url.indexOf(",") + 1), "base64"));
}

/** SVG text of a figure (vector; 3-D scenes are embedded as a raster image by plotly). */
export async function renderSvg(fig: Figure, size: ImageSize): Promise<string> {
  const s = checkSize(size);
  const url = await withPage((page) => toDataUrl(page, fig, "svg", s));
  const body = url.slice(url.indexOf(",") + 1);
  return url.slice(0, url.indexOf(",")).endsWith(";base64") ? Buffer.from(body, "base64").toString("utf8") : decodeURIComponent(body);
}

/** Single-page vector PDF: the figure's SVG printed by Chromium at the figure's size. */
export async function renderPdf(fig: Figure, size: ImageSize): Promise<Uint8Array> {
  const s = checkSize(size);
  const svg = await renderSvg(fig, s);
  return withPage(async (_page, browser) => {
    const page = await browser.newPage();
    try {
      await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
      const pdf = await page.pdf({ width: `${s.width}px`, height: `${s.height}px`, printBackground: true, pageRanges: "1" });
      return new Uint8Array(pdf);
    } finally {
      await page.close();
    }
  });
}
