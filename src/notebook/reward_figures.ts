/**
 * Ready-made figures of the GRPO reward path, built on plain arrays so they work on any
 * rollout: reward decomposition per structure and component, normalisation strategies
 * side by side, and advantages per group. Component colours come from componentColor, so a
 * component looks the same in every figure.
 */
import { FigureError } from "../crystal/errors.ts";
import { componentColor, seriesColor } from "./colors.ts";
import { baseLayout, cellAxes, cellTitle, subplotGrid } from "./figure_layout.ts";
import type { Figure, Trace } from "./plotly_types.ts";
import { axisTitle } from "./units.ts";

export interface RewardDecompositionOptions {
  /** Row key holding the structure label (default: "label", else "structure", else "formula", else the row number). */
  labelKey?: string;
  /** Component columns to plot (default: every numeric column except the label). */
  components?: string[];
  /** Unit per component, e.g. { energy: "eV/atom" } (default: looked up from the name). */
  units?: Record<string, string>;
  title?: string;
}

function finiteArray(values: readonly number[], what: string): number[] {
  if (!Array.isArray(values) && !ArrayBuffer.isView(values)) throw new FigureError(`${what} must be an array of numbers.`);
  const arr = Array.from(values);
  const bad = arr.findIndex((v) => typeof v !== "number" || Number.isNaN(v));
  if (bad >= 0) throw new FigureError(`${what}[${bad}] is ${String(arr[bad])}, not a number: drop or fill missing values first.`);
  return arr;
}

function rowLabels(rows: readonly Record<string, unknown>[], labelKey?: string): { key?: string; labels: string[] } {
  const key = labelKey ?? ["label", "structure", "formula"].find((k) => rows.every((r) => k in r));
  if (labelKey && !rows.every((r) => labelKey in r)) throw new FigureError(`labelKey "${labelKey}" is missing from some reward rows.`);
  return { key, labels: rows.map((r, i) => (key ? `${String(r[key])}` : `#${i}`)) };
}

/** Numeric columns of the rows, in first-seen order. */
function numericKeys(rows: readonly Record<string, unknown>[], exclude?: string): string[] {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return keys.filter((k) => k !== exclude && rows.every((r) => typeof r[k] === "number"));
}

/**
 * Reward decomposition: stacked bars of each component per structure (negative parts stack
 * below zero, a black diamond marks the total) over one histogram per component.
 * @param rows one object per structure, e.g. { label: "NaCl #3", creativity: 1, energy: -0.12 }
 */
export function rewardDecompositionFigure(rows: readonly Record<string, unknown>[], options: RewardDecompositionOptions = {}): Figure {
  if (!Array.isArray(rows) || rows.length === 0) throw new FigureError("rewardDecompositionFigure needs a non-empty array of reward rows.");
  const { key, labels } = rowLabels(rows, options.labelKey);
  const components = options.components ?? numericKeys(rows, key);
  if (components.length === 0) throw new FigureError("Reward rows have no numeric component columns: pass rows like { label, creativity: 1, energy: -0.1 }.");
  const values = components.map((c) => finiteArray(rows.map((r) => r[c] as number), `component "${c}"`));
  // Duplicate labels would merge bars on a category axis; suffix them to keep one bar per row.
  const x = labels.map((l, i) => (labels.indexOf(l) === i ? l : `${l} (${i})`));
  // Bars span the full width; the histogram row is split into one cell per component.
  const grid = { rowWeights: [3, 2], vgap: 0.2 };
  const top = subplotGrid(2, 1, grid)[0][0];
  const bottom = subplotGrid(2, components.length, { ...grid, hgap: 0.06 })[1];
  const bars: Trace[] = components.map((c, j) => ({ type: "bar", name: c, x, y: values[j], marker: { color: componentColor(c) }, xaxis: top.x, yaxis: top.y, legendgroup: c }));
  const totals = x.map((_, i) => values.reduce((s, v) => s + v[i], 0));
  const total: Trace = { type: "scatter", mode: "markers", name: "total", x, y: totals, marker: { symbol: "diamond", color: "#111", size: 9 }, xaxis: top.x, yaxis: top.y };
  const hists: Trace[] = components.map((c, j) => ({
    type: "histogram", name: c, x: values[j], marker: { color: componentColor(c), line: { color: "white", width: 1 } },
    xaxis: bottom[j].x, yaxis: bottom[j].y, showlegend: false, legendgroup: c, hovertemplate: `${c}: %{x}<br>count: %{y}<extra></extra>`,
  }));
  const axes = Object.assign(
    {},
    cellAxes(top, "structure", "weighted reward", { x: { tickangle: -40 } }),
    ...components.map((c, j) => cellAxes(bottom[j], axisTitle(c, options.units?.[c]), j === 0 ? "count" : "")),
  );
  const layout = baseLayout(options.title ?? "Reward decomposition per structure", {
    barmode: "relative", height: 720, width: Math.max(800, 220 * components.length), bargap: 0.15, ...axes,
  });
  return { data: [...bars, total, ...hists], layout };
}

export interface NormalizationOptions {
  /** Name of the raw quantity (default "raw reward"). */
  rawName?: string;
  title?: string;
}

/**
 * Normalisation strategies side by side: raw distribution, normalised distribution per
 * strategy, and the raw → normalised mapping (which shows what each strategy does: shift,
 * rescale, clip).
 * @param before raw values of one batch
 * @param afterByStrategy normalised values per strategy (same length and order as `before`)
 */
export function normalizationFigure(before: readonly number[], afterByStrategy: Record<string, readonly number[]>, options: NormalizationOptions = {}): Figure {
  const raw = finiteArray(before, "before");
  const names = Object.keys(afterByStrategy);
  if (names.length === 0) throw new FigureError("normalizationFigure needs at least one strategy in afterByStrategy, e.g. { std: [...] }.");
  const after = names.map((n) => finiteArray(afterByStrategy[n], `afterByStrategy.${n}`));
  after.forEach((a, k) => {
    if (a.length !== raw.length) throw new FigureError(`afterByStrategy.${names[k]} has ${a.length} values but before has ${raw.length}: they must match one to one.`);
  });
  const rawName = options.rawName ?? "raw reward";
  const [[c0, c1, c2]] = subplotGrid(1, 3, { hgap: 0.09 });
  const box = (y: number[], name: string, color: string, cell: typeof c0): Trace => ({
    type: "box", y, name, boxpoints: "all", jitter: 0.4, pointpos: 0, marker: { color, size: 4 }, line: { color }, xaxis: cell.x, yaxis: cell.y, showlegend: false,
  });
  const order = raw.map((_, i) => i).sort((a, b) => raw[a] - raw[b]);
  const maps: Trace[] = names.map((n, k) => ({
    type: "scatter", mode: "lines+markers", name: n, x: order.map((i) => raw[i]), y: order.map((i) => after[k][i]),
    marker: { color: seriesColor(k), size: 5 }, line: { color: seriesColor(k) }, xaxis: c2.x, yaxis: c2.y, legendgroup: n,
  }));
  const layout = baseLayout(options.title ?? "Normalisation strategies", {
    height: 450, width: 1050, ...cellAxes(c0, "", rawName), ...cellAxes(c1, "strategy", "normalised value"), ...cellAxes(c2, rawName, "normalised value"),
    annotations: [cellTitle(c0, "before"), cellTitle(c1, "after, per strategy"), cellTitle(c2, "mapping raw → normalised")],
  });
  return { data: [box(raw, rawName, "#666", c0), ...names.map((n, k) => box(after[k], n, seriesColor(k), c1)), ...maps], layout };
}

export interface AdvantagesOptions {
  title?: string;
  /** Name of the plotted quantity (default "advantage"). */
  valueName?: string;
}

/**
 * Advantages per group (GRPO compares samples only within their group): one bar per sample,
 * coloured by group, with the group's mean as a dashed line, over a box per group.
 * @param adv advantages in rollout order (group-major: group 0's samples first)
 */
export function advantagesByGroupFigure(adv: readonly number[], groupSize: number, options: AdvantagesOptions = {}): Figure {
  const a = finiteArray(adv, "adv");
  if (!Number.isInteger(groupSize) || groupSize < 1) throw new FigureError(`groupSize must be a positive integer, got ${groupSize}.`);
  if (a.length === 0 || a.length % groupSize !== 0)
    throw new FigureError(`adv has ${a.length} values, not a positive multiple of groupSize ${groupSize}: pass all num_group_samples of every group.`);
  const groups = Array.from({ length: a.length / groupSize }, (_, g) => a.slice(g * groupSize, (g + 1) * groupSize));
  const [[top], [bottom]] = subplotGrid(2, 1, { rowWeights: [3, 2] });
  const name = options.valueName ?? "advantage";
  const bars: Trace[] = groups.map((vals, g) => ({
    type: "bar", name: `group ${g}`, x: vals.map((_, i) => g * groupSize + i), y: vals, marker: { color: seriesColor(g) }, xaxis: top.x, yaxis: top.y, legendgroup: `g${g}`,
  }));
  const means: Trace[] = groups.map((vals, g) => ({
    type: "scatter", mode: "lines", x: [g * groupSize - 0.45, (g + 1) * groupSize - 0.55], y: [0, 0].map(() => vals.reduce((s, v) => s + v, 0) / vals.length),
    line: { color: "#111", dash: "dash", width: 1.5 }, xaxis: top.x, yaxis: top.y, showlegend: g === 0, name: "group mean", legendgroup: "mean",
  }));
  const boxes: Trace[] = groups.map((vals, g) => ({
    type: "box", y: vals, name: `group ${g}`, boxpoints: "all", jitter: 0.3, pointpos: 0, marker: { color: seriesColor(g), size: 4 }, xaxis: bottom.x, yaxis: bottom.y, showlegend: false, legendgroup: `g${g}`,
  }));
  const layout = baseLayout(options.title ?? `${name[0].toUpperCase()}${name.slice(1)}s per group (group size ${groupSize})`, {
    height: 650, width: 900, bargap: 0.1, ...cellAxes(top, "sample (group-major order)", name), ...cellAxes(bottom, "group", name),
  });
  return { data: [...bars, ...means, ...boxes], layout };
}
