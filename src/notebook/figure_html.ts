/**
 * Plotly figure → HTML fragment for a notebook output: a div holding the static PNG fallback
 * (what GitHub and script-less viewers show) and a script that swaps it for the interactive
 * plot once plotly.js (see plotly_source.ts) is loaded on the page.
 */
import { FigureError } from "../crystal/errors.ts";
import { figureSize, type Figure } from "./plotly_types.ts";

export interface FigureHtmlOptions {
  /** DOM id of the figure div (unique per output). */
  id: string;
  /** Static PNG of the same figure, shown until (or instead of) the interactive plot. */
  fallbackPng?: Uint8Array;
}

/** JSON that is safe inside a <script> element; typed arrays become plain arrays. */
export function scriptJson(value: unknown): string {
  const json = JSON.stringify(value, (_k, v: unknown) => (ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as unknown as ArrayLike<number>) : v));
  if (json === undefined) throw new FigureError("Figure is not JSON-serialisable: pass plain { data, layout } objects.");
  return json.replace(/<\//g, "<\\/").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/** Throws FigureError unless `fig` looks like a plotly figure ({ data: Trace[] }). */
export function assertFigure(fig: unknown): asserts fig is Figure {
  if (typeof fig !== "object" || fig === null || !Array.isArray((fig as Figure).data))
    throw new FigureError(`Expected a plotly figure { data: [...traces], layout }, got ${fig === null ? "null" : typeof fig}.`);
}

/** The figure as an HTML fragment (div + script); pure, so it can be tested and reused. */
export function figureToHtml(fig: Figure, options: FigureHtmlOptions): string {
  assertFigure(fig);
  if (!/^[A-Za-z][\w-]*$/.test(options.id)) throw new FigureError(`Figure id "${options.id}" is not a valid HTML id.`);
  const { height } = figureSize(fig);
  const width = fig.layout?.width ? `${fig.layout.width}px` : "100%";
  const img = options.fallbackPng
    ? `<img alt="plotly figure (static)" style="max-width:100%" src="data:image/png;base64,${Buffer.from(options.fallbackPng).toString("base64")}">`
    : "";
  const missing = options.fallbackPng ? "" : `else el.textContent="plotly.js is not loaded on this page: run the notebook from the top.";`;
  return (
    `<div id="${options.id}" class="cg-figure" style="width:${width};min-height:${height}px">${img}</div>\n` +
    `<script>(function(){var el=document.getElementById("${options.id}");if(!el)return;var fig=${scriptJson(fig)};` +
    `function run(P){el.innerHTML="";P.newPlot(el,fig.data,fig.layout||{},Object.assign({responsive:true,displaylogo:false},fig.config||{}))}` +
    `if(window.Plotly)run(window.Plotly);else if(window.__cgPlotlyReady)window.__cgPlotlyReady.then(run);${missing}})();</script>`
  );
}
