/**
 * Figures of the GRPO loss and of training runs: per-diffusion-timestep loss terms
 * (ratio with its clip band, KL, entropy term, loss, clip fraction) and training curves from
 * the `metrics.jsonl` a training run writes (one JSON object per logged step).
 */
import { readFileSync } from "node:fs";
import { FigureError } from "../crystal/errors.ts";
import { componentColor, isKnownComponent, seriesColor } from "./colors.ts";
import { baseLayout, cellAxes, cellTitle, subplotGrid } from "./figure_layout.ts";
import type { Figure, Trace } from "./plotly_types.ts";
import { axisTitle } from "./units.ts";

/** Per-timestep series, each one value per diffusion step in sampling order (all optional). */
export interface PerTimestepSeries {
  ratio?: readonly number[];
  kl?: readonly number[];
  entropy?: readonly number[];
  loss?: readonly number[];
  clipFrac?: readonly number[];
}

export interface PerTimestepOptions {
  /** PPO clip ε: draws the band [1 − ε, 1 + ε] on the ratio panel. */
  clipRatio?: number;
  /** Diffusion timestep of each entry (default: 0, 1, ... in sampling order). */
  timesteps?: readonly number[];
  title?: string;
}

const PANELS: { key: keyof PerTimestepSeries; title: string; y: string }[] = [
  { key: "ratio", title: "probability ratio π_new / π_old", y: "ratio" },
  { key: "kl", title: "KL (k3 estimator)", y: "KL (nats)" },
  { key: "entropy", title: "entropy term −log p", y: "−log p (nats)" },
  { key: "loss", title: "loss per step", y: "loss" },
  { key: "clipFrac", title: "clipped fraction", y: "fraction" },
];

/** Horizontal reference line on one cell (paper-free: uses the cell's own axes). */
function hline(cell: { x: string; y: string }, x: number[], y: number, name: string, showlegend: boolean): Trace {
  return { type: "scatter", mode: "lines", x: [Math.min(...x), Math.max(...x)], y: [y, y], line: { color: "#999", dash: "dot", width: 1 }, name, showlegend, xaxis: cell.x, yaxis: cell.y, hoverinfo: "skip", legendgroup: name };
}

/**
 * Loss terms per diffusion timestep, one stacked panel per provided series.
 * @throws FigureError when no series is given or series lengths differ.
 */
export function perTimestepFigure(series: PerTimestepSeries, options: PerTimestepOptions = {}): Figure {
  const panels = PANELS.filter((p) => series[p.key] !== undefined);
  if (panels.length === 0) throw new FigureError("perTimestepFigure needs at least one of ratio, kl, entropy, loss, clipFrac.");
  const n = series[panels[0].key]!.length;
  for (const p of panels)
    if (series[p.key]!.length !== n) throw new FigureError(`perTimestepFigure: ${p.key} has ${series[p.key]!.length} values but ${panels[0].key} has ${n}; give one value per timestep.`);
  const x = options.timesteps ? Array.from(options.timesteps) : Array.from({ length: n }, (_, i) => i);
  if (x.length !== n) throw new FigureError(`timesteps has ${x.length} entries but the series have ${n}.`);
  const cells = subplotGrid(panels.length, 1, { vgap: 0.3 / panels.length }).map((r) => r[0]);
  const data: Trace[] = panels.map((p, i) => ({
    type: "scatter", mode: "lines+markers", name: p.key, x, y: Array.from(series[p.key]!), marker: { size: 4, color: seriesColor(i) }, line: { color: seriesColor(i) }, xaxis: cells[i].x, yaxis: cells[i].y, showlegend: false,
  }));
  const ratioAt = panels.findIndex((p) => p.key === "ratio");
  if (ratioAt >= 0 && options.clipRatio !== undefined) {
    const eps = options.clipRatio;
    data.push(hline(cells[ratioAt], x, 1 + eps, `clip band 1 ± ${eps}`, true), hline(cells[ratioAt], x, 1 - eps, `clip band 1 ± ${eps}`, false));
  }
  const xTitle = options.timesteps ? "diffusion timestep t (sampling runs left to right)" : "sampling step (0 = first, noisiest)";
  // dtick 1 only on step indices: on diffusion timesteps (0..1000) it would draw ~1000 ticks per
  // axis (unreadable, and slow enough to stall a browser). Timesteps run high → low while
  // sampling, so that axis is reversed to keep sampling order left to right.
  const xAxis = options.timesteps ? { autorange: "reversed" } : { dtick: n <= 20 ? 1 : undefined };
  const axes = Object.assign({}, ...panels.map((p, i) => cellAxes(cells[i], i === panels.length - 1 ? xTitle : "", p.y, { x: { matches: i ? "x" : undefined, ...xAxis } })));
  return {
    data,
    layout: baseLayout(options.title ?? "GRPO loss terms per diffusion step", { height: 170 * panels.length + 120, width: 900, ...axes, annotations: panels.map((p, i) => cellTitle(cells[i], p.title)) }),
  };
}

/** Exponential moving average (TensorBoard-style smoothing, weight in [0, 1)). */
export function ema(values: readonly number[], weight: number): number[] {
  const out: number[] = [];
  let last: number | undefined;
  for (const v of values) {
    last = last === undefined ? v : weight * last + (1 - weight) * v;
    out.push(last);
  }
  return out;
}

export interface TrainingCurvesOptions {
  /** Record key of the x axis (default "step"; records without it use their position). */
  x?: string;
  /** EMA smoothing weight drawn over the raw curve (default 0.6; 0 = none). */
  smoothing?: number;
  /** Unit per key, overriding the name lookup. */
  units?: Record<string, string>;
  title?: string;
}

/** Reads a metrics.jsonl file (one JSON object per line; blank lines skipped). */
export function readMetricsJsonl(path: string): Record<string, unknown>[] {
  const text = readFileSync(path, "utf8");
  return text.split("\n").flatMap((line, i) => {
    if (!line.trim()) return [];
    try {
      const rec = JSON.parse(line) as unknown;
      if (typeof rec !== "object" || rec === null || Array.isArray(rec)) throw new Error("not an object");
      return [rec as Record<string, unknown>];
    } catch (err) {
      throw new FigureError(`${path}: line ${i + 1} is not a JSON object (${(err as Error).message}); metrics.jsonl needs one {"step": ..., ...} per line.`);
    }
  });
}

/** Points (x, y) of one metric, skipping records where it is missing or not finite. */
function metricPoints(records: readonly Record<string, unknown>[], key: string, xKey: string): { x: number[]; y: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  records.forEach((r, i) => {
    const v = r[key];
    if (typeof v !== "number" || !Number.isFinite(v)) return;
    x.push(typeof r[xKey] === "number" ? (r[xKey] as number) : i);
    y.push(v);
  });
  return { x, y };
}

/**
 * Colour of one curve: a reward component keeps its colour; a total reward ("train/reward",
 * "val/reward_raw", ...) gets the decomposition figures' total colour, so it never borrows a
 * series hue that looks like a component's (the second series colour is creativity-orange).
 */
function curveColor(key: string, i: number): string {
  if (isKnownComponent(key)) return componentColor(key);
  return /(^|\/)reward(_raw)?$/.test(key) ? componentColor("total") : seriesColor(i);
}

/**
 * Training curves: one panel per key (two columns), raw values faint with an EMA on top.
 * Reward-component keys use their component colour.
 */
export function trainingCurvesFigure(records: readonly Record<string, unknown>[], keys: readonly string[], options: TrainingCurvesOptions = {}): Figure {
  if (!Array.isArray(records) || records.length === 0) throw new FigureError("trainingCurvesFigure needs a non-empty array of metric records (see readMetricsJsonl).");
  if (keys.length === 0) throw new FigureError("trainingCurvesFigure needs at least one metric key, e.g. ['loss', 'reward_mean'].");
  const xKey = options.x ?? "step";
  const smoothing = options.smoothing ?? 0.6;
  if (!(smoothing >= 0 && smoothing < 1)) throw new FigureError(`smoothing must be in [0, 1), got ${smoothing}.`);
  const cols = keys.length === 1 ? 1 : 2;
  const rows = Math.ceil(keys.length / cols);
  const cells = subplotGrid(rows, cols, { vgap: 0.35 / rows, hgap: 0.1 }).flat();
  const data: Trace[] = keys.flatMap((k, i) => {
    const { x, y } = metricPoints(records, k, xKey);
    if (y.length === 0) throw new FigureError(`Metric "${k}" has no finite values in the records: check the key name (have: ${Object.keys(records[0]).join(", ")}).`);
    const color = curveColor(k, i);
    // Without smoothing the raw curve is the only one: draw it at full weight, with markers
    // (validation records are few, and each point is a measurement).
    const raw: Trace = smoothing
      ? { type: "scatter", mode: "lines", name: k, x, y, line: { color, width: 1 }, opacity: 0.35, xaxis: cells[i].x, yaxis: cells[i].y, showlegend: false }
      : { type: "scatter", mode: "lines+markers", name: k, x, y, line: { color, width: 2 }, marker: { size: 6, color }, xaxis: cells[i].x, yaxis: cells[i].y, showlegend: false };
    return smoothing ? [raw, { ...raw, y: ema(y, smoothing), opacity: 1, line: { color, width: 2 }, name: `${k} (EMA ${smoothing})` }] : [raw];
  });
  // The panel title already names the full key; the y title gives the last segment and its unit
  // ("energy (−E_hull, eV/atom)"), short enough not to be clipped at the panel's height.
  const axes = Object.assign({}, ...keys.map((k, i) => cellAxes(cells[i], xKey, axisTitle(k.split("/").pop()!, options.units?.[k]))));
  return {
    data,
    layout: baseLayout(options.title ?? "Training curves", { height: 260 * rows + 100, width: 1000, ...axes, annotations: keys.map((k, i) => cellTitle(cells[i], k)) }),
  };
}
