/**
 * Static export of plotly figures for reports: PNG, SVG or PDF, rendered offline in headless
 * Chromium (see browser.ts). Files are written atomically (temp file + rename), so a failed
 * export never leaves a half-written figure behind.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, extname, resolve } from "node:path";
import { FigureError } from "../crystal/errors.ts";
import { renderPdf, renderPng, renderSvg } from "./browser.ts";
import { assertFigure } from "./figure_html.ts";
import { figureSize, type Figure } from "./plotly_types.ts";

export interface SaveFigureOptions {
  /** Width in CSS px (default: layout.width, else 800). */
  width?: number;
  /** Height in CSS px (default: layout.height, else 500). */
  height?: number;
  /** Pixel ratio of PNGs (2 for print-sharp images); ignored by vector formats. Default 1. */
  scale?: number;
}

export type FigureFormat = "png" | "svg" | "pdf";

/** Export format from the file extension; FigureError names the supported ones. */
export function figureFormat(path: string): FigureFormat {
  const ext = extname(path).toLowerCase().slice(1);
  if (ext === "png" || ext === "svg" || ext === "pdf") return ext;
  throw new FigureError(`Cannot export a figure to "${path}": use a .png, .svg or .pdf file name.`);
}

/** Writes `data` to `path` via a temp file in the same directory and a rename. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/**
 * Renders `fig` and writes it to `path` (format from the extension). Returns the absolute path.
 * @throws FigureError for an unsupported extension, bad size or a figure plotly cannot draw;
 *   BrowserNotFoundError when no Chromium is installed (`apt-get install chromium`).
 */
export async function saveFigure(fig: Figure, path: string, options: SaveFigureOptions = {}): Promise<string> {
  assertFigure(fig);
  const format = figureFormat(path);
  const size = { ...figureSize(fig, options), scale: options.scale ?? 1 };
  const data = format === "png" ? await renderPng(fig, size) : format === "svg" ? await renderSvg(fig, size) : await renderPdf(fig, size);
  const abs = resolve(path);
  writeFileAtomic(abs, data);
  return abs;
}
