/**
 * showFigure: the notebook display of a plotly figure. One output carries three MIME types —
 * interactive HTML (plotly.js embedded once per kernel session), a static PNG (what GitHub,
 * nbconvert without JS and image-only viewers show) and a text/plain summary — so the saved
 * notebook reads everywhere.
 */
import { randomBytes } from "node:crypto";
import { hasChromium, renderPng } from "./browser.ts";
import { assertFigure, figureToHtml } from "./figure_html.ts";
import { displayBundle, type MimeBundle } from "./kernel.ts";
import { plotlyLoaderHtml } from "./plotly_source.ts";
import { figureSize, type Figure } from "./plotly_types.ts";

export interface ShowFigureOptions {
  /** Static PNG size in px (default: the layout's, else 800×500). */
  width?: number;
  height?: number;
  /** Skip the static PNG (faster; the saved notebook then shows nothing without JS). */
  png?: boolean;
}

/** Whether this process already sent plotly.js to the notebook (once per kernel session). */
let loaderSent = false;

/** Forces the next showFigure to embed plotly.js again (e.g. after clearing all outputs). */
export function resetPlotlyLoader(): void {
  loaderSent = false;
}

/** One-line description of a figure for text/plain. */
export function describeFigure(fig: Figure): string {
  const title = typeof fig.layout?.title === "string" ? fig.layout.title : (fig.layout?.title?.text ?? "untitled");
  const types = [...new Set(fig.data.map((t) => t.type ?? "scatter"))].join(", ");
  return `<plotly figure "${title}": ${fig.data.length} trace(s) [${types}]>`;
}

/** Builds the MIME bundle of a figure (rendering the PNG when Chromium is available). */
export async function figureBundle(fig: Figure, options: ShowFigureOptions = {}): Promise<MimeBundle> {
  assertFigure(fig);
  let png: Uint8Array | undefined;
  let note = "";
  if (options.png !== false && hasChromium()) png = await renderPng(fig, { ...figureSize(fig, options), scale: 1 });
  else if (options.png !== false) note = "\n(static PNG fallback skipped: no Chromium; install it with `apt-get install chromium`)";
  const id = `cg-fig-${randomBytes(6).toString("hex")}`;
  const loader = loaderSent ? "" : plotlyLoaderHtml();
  loaderSent = true;
  const bundle: MimeBundle = { "text/html": loader + figureToHtml(fig, { id, fallbackPng: png }) };
  if (png) bundle["image/png"] = png;
  bundle["text/plain"] = describeFigure(fig) + note;
  return bundle;
}

/** Displays a plotly figure in the notebook (interactive HTML + static PNG + text). */
export async function showFigure(fig: Figure, options: ShowFigureOptions = {}): Promise<void> {
  displayBundle(await figureBundle(fig, options));
}
