/**
 * Layout helpers shared by the ready-made figures: a subplot grid (plotly.js has no
 * make_subplots, so each cell gets its own x/y axis pair with a paper-space domain), axis
 * titles, subplot titles and one house style (white background, light grid, readable fonts).
 */
import type { Layout } from "./plotly_types.ts";

/** One subplot: the trace-side axis ids ("x2") and the layout keys ("xaxis2"). */
export interface SubplotCell {
  x: string;
  y: string;
  xKey: string;
  yKey: string;
  xDomain: [number, number];
  yDomain: [number, number];
}

export interface GridOptions {
  /** Horizontal gap between columns, as a fraction of the width. */
  hgap?: number;
  /** Vertical gap between rows, as a fraction of the height. */
  vgap?: number;
  /** Relative row heights (top row first); default equal. */
  rowWeights?: number[];
}

/** Splits [0, 1] into n spans separated by `gap`, sized by `weights`. */
function spans(n: number, gap: number, weights: number[]): [number, number][] {
  const total = weights.reduce((a, b) => a + b, 0);
  const free = 1 - gap * (n - 1);
  const out: [number, number][] = [];
  let start = 0;
  for (let i = 0; i < n; i++) {
    const len = (free * weights[i]) / total;
    out.push([start, Math.min(1, start + len)]);
    start += len + gap;
  }
  return out;
}

/** rows × cols subplot cells, row-major from the top-left; cell [0][0] uses axes x/y. */
export function subplotGrid(rows: number, cols: number, options: GridOptions = {}): SubplotCell[][] {
  const xs = spans(cols, options.hgap ?? 0.08, Array(cols).fill(1));
  // Plotly's y runs bottom-up, so the top row gets the highest span.
  const ys = spans(rows, options.vgap ?? 0.12, [...(options.rowWeights ?? Array(rows).fill(1))].reverse()).reverse();
  return ys.map((yDomain, r) =>
    xs.map((xDomain, c) => {
      const n = r * cols + c + 1;
      const suffix = n === 1 ? "" : String(n);
      return { x: `x${suffix}`, y: `y${suffix}`, xKey: `xaxis${suffix}`, yKey: `yaxis${suffix}`, xDomain, yDomain };
    }),
  );
}

/**
 * Tick style of every axis: small numbers as 5×10⁻⁷, not plotly's default SI suffixes
 * ("500n", "20µ"), which read as units (nano-what?) on a dimensionless KL or loss.
 */
export const AXIS_STYLE = { gridcolor: "#eee", zerolinecolor: "#bbb", exponentformat: "power", automargin: true } as const;

/** Layout entries for one cell's axes, with titles (units in parentheses, e.g. "E_hull (eV/atom)"). */
export function cellAxes(cell: SubplotCell, xTitle: string, yTitle: string, extra: { x?: object; y?: object } = {}): Layout {
  return {
    [cell.xKey]: { domain: cell.xDomain, anchor: cell.y, title: { text: xTitle }, ...AXIS_STYLE, ...extra.x },
    [cell.yKey]: { domain: cell.yDomain, anchor: cell.x, title: { text: yTitle }, ...AXIS_STYLE, ...extra.y },
  };
}

/** A bold subplot title centred above a cell. */
export function cellTitle(cell: SubplotCell, text: string): Record<string, unknown> {
  return {
    text: `<b>${text}</b>`,
    xref: "paper",
    yref: "paper",
    x: (cell.xDomain[0] + cell.xDomain[1]) / 2,
    y: cell.yDomain[1],
    xanchor: "center",
    yanchor: "bottom",
    showarrow: false,
    font: { size: 13 },
  };
}

/** House style: title, white background, legend on the right, margins that fit axis titles. */
export function baseLayout(title: string, extra: Layout = {}): Layout {
  return {
    title: { text: title, x: 0.02, xanchor: "left", font: { size: 16 } },
    font: { family: "Helvetica, Arial, sans-serif", size: 12, color: "#222" },
    paper_bgcolor: "white",
    plot_bgcolor: "white",
    margin: { l: 70, r: 30, t: 70, b: 60 },
    legend: { bgcolor: "rgba(255,255,255,0.8)" },
    ...extra,
  };
}
