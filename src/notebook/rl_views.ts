/**
 * Notebook views of one GRPO step, on the library's own result objects: the reward
 * decomposition per component and stage (raw → normalised → weighted), the normalisers side by
 * side on the same rewards (per group or over the batch), and the latent trajectory of a
 * rollout (how z_t shrinks from noise to a crystal's latent). Tables are plain row objects
 * (give them to showTable or a danfo DataFrame); figures are plotly JSON for showFigure /
 * saveFigure. Component colours come from componentColor, like every other figure.
 */
import { FigureError } from "../crystal/errors.ts";
import { tf } from "../nn/tf.ts";
import type { RewardDecomposition } from "../rl_module/reward.ts";
import type { DecodedStructure } from "../vae_module/decode_structures.ts";
import type { LossResult, RLModule } from "../rl_module/rl_module.ts";
import type { Trajectory } from "../rl_module/trajectory.ts";
import type { PerTimestepSeries } from "./training_figures.ts";
import { normalizeArray, resolveGroups, unbiasedStd, zeroVarianceFraction, type GroupOptions } from "../rl_module/normalize.ts";
import { componentColor, seriesColor } from "./colors.ts";
import { AXIS_STYLE, baseLayout, cellAxes, cellTitle, subplotGrid } from "./figure_layout.ts";
import type { Figure, Trace } from "./plotly_types.ts";
import { axisTitle } from "./units.ts";

/** The three values every component has per structure. */
export type RewardStage = "raw" | "normalized" | "weighted";
const STAGES: readonly RewardStage[] = ["raw", "normalized", "weighted"];

/**
 * Label of a decomposition row: "NaCl #3" (or "invalid #3" for a decode failure). Figures
 * pass `maxFormula` so that long generated formulas do not crowd a category axis.
 */
export function structureLabel(formula: string | null, index: number, maxFormula = Infinity): string {
  return `${shorten(formula ?? "invalid", maxFormula)} #${index}`;
}

/** Formula length on figure axes (tables keep the full formula). */
const AXIS_FORMULA = 14;

function componentNames(d: RewardDecomposition): string[] {
  return d.components.map((c) => c.name);
}

function checkComponent(d: RewardDecomposition, name: string): void {
  if (!componentNames(d).includes(name)) {
    throw new FigureError(`reward component "${name}" is not in this decomposition; it has ${componentNames(d).join(", ")}.`);
  }
}

/**
 * One row per structure with every component's value at `stage`, shaped for
 * rewardDecompositionFigure and showTable: { label, <component>: value, ... }.
 * `labelLength` shortens long formulas in the labels (e.g. 14 for a figure axis).
 */
export function componentStageRows(d: RewardDecomposition, stage: RewardStage, options: { labelLength?: number } = {}): Record<string, string | number>[] {
  if (!STAGES.includes(stage)) throw new FigureError(`stage must be one of ${STAGES.join(", ")}, got ${JSON.stringify(stage)}.`);
  return d.rows.map((r) => ({
    label: structureLabel(r.formula, r.index, options.labelLength),
    ...Object.fromEntries(Object.entries(r.components).map(([name, v]) => [name, v[stage]])),
  }));
}

/** One component's raw / normalised / weighted value per structure (a table per component). */
export function componentTable(d: RewardDecomposition, name: string): Record<string, string | number>[] {
  checkComponent(d, name);
  return d.rows.map((r) => {
    const v = r.components[name];
    return { structure: structureLabel(r.formula, r.index), raw: v.raw, normalized: v.normalized, weighted: v.weighted };
  });
}

/** Per component: weight, normaliser, batch mean/std of each stage and the time it took. */
export function componentSummaryTable(d: RewardDecomposition): Record<string, string | number>[] {
  return d.components.map((c) => {
    const stage = (s: RewardStage) => d.rows.map((r) => r.components[c.name][s]);
    const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;
    return {
      component: c.name,
      weight: c.weight,
      normalize_fn: c.normalizeFn ?? "none",
      "raw mean": mean(stage("raw")),
      "raw std": unbiasedStd(Float64Array.from(stage("raw"))),
      // 0 means the component cannot tell the samples apart in this batch: no learning signal.
      "raw max − min": Math.max(...stage("raw")) - Math.min(...stage("raw")),
      "normalized mean": mean(stage("normalized")),
      "weighted mean": mean(stage("weighted")),
      "time (s)": c.seconds,
    };
  });
}

/**
 * One component through the three stages: raw value per structure (left), normalised and
 * weighted (right, the weighted bars in the component colour, normalised as an outline).
 * @param unit unit of the raw value (e.g. "eV/atom"); normalised values are dimensionless.
 */
export function componentStagesFigure(d: RewardDecomposition, name: string, options: { unit?: string; title?: string } = {}): Figure {
  checkComponent(d, name);
  const color = componentColor(name);
  const x = d.rows.map((r) => structureLabel(r.formula, r.index, AXIS_FORMULA));
  const val = (s: RewardStage) => d.rows.map((r) => r.components[name][s]);
  const summary = d.components.find((c) => c.name === name)!;
  const [[left, right]] = subplotGrid(1, 2, { hgap: 0.1 });
  const data: Trace[] = [
    { type: "bar", name: "raw", x, y: val("raw"), marker: { color, opacity: 0.55 }, xaxis: left.x, yaxis: left.y },
    { type: "bar", name: `normalised (${summary.normalizeFn ?? "none"})`, x, y: val("normalized"), marker: { color: "white", line: { color, width: 1.5 } }, xaxis: right.x, yaxis: right.y },
    { type: "bar", name: `weighted (× ${summary.weight})`, x, y: val("weighted"), marker: { color }, xaxis: right.x, yaxis: right.y },
  ];
  const tick = { tickangle: -45, tickfont: { size: 10 } };
  const layout = baseLayout(options.title ?? `Reward component "${name}": raw → normalised → weighted`, {
    height: 460, width: 1000, barmode: "group", bargap: 0.2,
    // Legend above the subplot titles, not over them.
    legend: { orientation: "h", x: 0, y: 1.13, yanchor: "bottom", bgcolor: "rgba(255,255,255,0)" },
    margin: { l: 70, r: 30, t: 120, b: 110 },
    ...cellAxes(left, "", axisTitle(`${name} raw`, options.unit), { x: tick }),
    ...cellAxes(right, "", "value (dimensionless)", { x: tick }),
    annotations: [cellTitle(left, "raw"), cellTitle(right, "normalised and weighted")],
  });
  return { data, layout };
}

/**
 * The same values through several normalisers: { "<fn>": normalised values }. With groups,
 * each group is normalised on its own (GRPO); without, the whole batch is one group.
 */
export function normalizeByStrategy(values: readonly number[], fns: readonly (string | null)[], groups: GroupOptions = {}, eps = 1e-4): Record<string, number[]> {
  if (fns.length === 0) throw new FigureError("normalizeByStrategy needs at least one normaliser name, e.g. ['std', 'norm'].");
  return Object.fromEntries(fns.map((fn) => [fn ?? "none", normalizeArray(values, fn, eps, groups)]));
}

/**
 * What each normaliser did, one row per strategy: batch mean / std / min / max of the
 * normalised values, the largest within-group mean (0 when the strategy centres each group),
 * and the fraction of groups that end up all equal (no learning signal).
 */
export function normalizationSummary(byStrategy: Record<string, readonly number[]>, groups: GroupOptions = {}, eps = 1e-4): Record<string, string | number>[] {
  return Object.entries(byStrategy).map(([name, v]) => {
    const x = Float64Array.from(v);
    const idx = resolveGroups(x.length, groups);
    const groupMeans = idx.map((g) => g.reduce((s, i) => s + x[i], 0) / g.length);
    return {
      strategy: name,
      mean: x.reduce((a, b) => a + b, 0) / x.length,
      std: unbiasedStd(x),
      min: Math.min(...x),
      max: Math.max(...x),
      "max |group mean|": Math.max(...groupMeans.map(Math.abs)),
      "flat groups": zeroVarianceFraction(x, groups, eps),
    };
  });
}

/** Per-step statistics of a latent trajectory (plain arrays, safe to keep after disposing tensors). */
export interface LatentTrajectory {
  /** rms[b][t]: root-mean-square of sample b's real-atom latents at trajectory entry t (x_T first). */
  rms: number[][];
  /** channels[c][t]: channel `channelsShown[c]` of atom 0 of sample 0 at entry t. */
  channels: number[][];
  channelsShown: number[];
}

/**
 * Summarises zs [T+1, B, N, C] (x_T first, x₀ last) with its atom mask [B, N]: the RMS of each
 * sample's masked latents per entry (≈ 1 for unit noise; padding excluded) and a few channels
 * of one atom, to watch the sampler denoise.
 */
export function latentTrajectory(zs: tf.Tensor, mask: tf.Tensor, channelsShown: readonly number[] = [0, 1, 2, 3]): LatentTrajectory {
  if (zs.rank !== 4 || mask.rank !== 2 || mask.shape[0] !== zs.shape[1] || mask.shape[1] !== zs.shape[2]) {
    throw new FigureError(`latentTrajectory needs zs [T+1, B, N, C] and mask [B, N]; got zs [${zs.shape}] and mask [${mask.shape}] (pass collect_trajectory: true when sampling).`);
  }
  const [T1, , , C] = zs.shape as number[];
  const bad = channelsShown.find((c) => !Number.isInteger(c) || c < 0 || c >= C);
  if (bad !== undefined) throw new FigureError(`channel ${bad} does not exist: latents have channels 0..${C - 1}.`);
  const [rms, picked] = tf.tidy(() => {
    const m = tf.expandDims(tf.expandDims(mask, 0), -1);
    const ss = tf.sum(tf.mul(tf.square(zs), m), [2, 3]);
    const count = tf.mul(tf.sum(mask, 1), C);
    const r = tf.sqrt(tf.div(ss, tf.maximum(count, 1)));
    const atom = tf.slice(zs, [0, 0, 0, 0], [-1, 1, 1, -1]).reshape([T1, C]);
    return [tf.transpose(r), tf.transpose(tf.gather(atom, Array.from(channelsShown), 1))];
  });
  const out = { rms: rms.arraySync() as number[][], channels: picked.arraySync() as number[][], channelsShown: [...channelsShown] };
  tf.dispose([rms, picked]);
  return out;
}

/**
 * Two panels over the sampling steps: the RMS of every sample's latents (noise at ≈ 1 moving
 * to the data scale), coloured by group, and a few channels of one atom settling on their
 * final values.
 * @param groupSize samples per prompt (default: all samples one group)
 */
export function latentDenoisingFigure(traj: LatentTrajectory, options: { groupSize?: number; title?: string } = {}): Figure {
  if (traj.rms.length === 0) throw new FigureError("latentDenoisingFigure: the trajectory has no samples.");
  const groupSize = options.groupSize ?? traj.rms.length;
  if (!Number.isInteger(groupSize) || groupSize < 1) throw new FigureError(`groupSize must be a positive integer, got ${groupSize}.`);
  const steps = traj.rms[0].map((_, t) => t);
  const [[left, right]] = subplotGrid(1, 2, { hgap: 0.1 });
  const perSample: Trace[] = traj.rms.map((y, b) => {
    const g = Math.floor(b / groupSize);
    return {
      type: "scatter", mode: "lines", name: `group ${g}`, text: steps.map(() => `sample ${b}`), x: steps, y, line: { color: seriesColor(g), width: 1.5 },
      xaxis: left.x, yaxis: left.y, legendgroup: `g${g}`, showlegend: b % groupSize === 0, hovertemplate: "%{text}<br>step %{x}: RMS %{y:.3f}<extra></extra>",
    };
  });
  const channels: Trace[] = traj.channels.map((y, k) => ({
    type: "scatter", mode: "lines+markers", name: `channel ${traj.channelsShown[k]}`, x: steps, y, marker: { size: 3 }, line: { color: seriesColor(k + 4), width: 1.5, dash: "dot" }, xaxis: right.x, yaxis: right.y,
  }));
  const xTitle = "sampling step (0 = x_T, pure noise)";
  const layout = baseLayout(options.title ?? "Latents denoising during sampling", {
    height: 450, width: 1050, ...cellAxes(left, xTitle, "RMS of latent z_t (normalised units)"), ...cellAxes(right, xTitle, "latent value (normalised units)"),
    annotations: [cellTitle(left, "‖z_t‖ per sample (RMS over atoms × channels)"), cellTitle(right, "channels of atom 0 of sample 0")],
  });
  return { data: [...perSample, ...channels], layout };
}

/**
 * One row per generated sample: its group (prompt), reduced formula, number of sites, volume
 * per atom (Å³), density (g/cm³), and whether it decoded to a valid crystal (with the
 * decoder's reason when not).
 * @param decoded the rollout's `batchGen.decoded` (group-major order)
 */
export function decodedTable(decoded: readonly DecodedStructure[], groupSize = decoded.length): Record<string, string | number | boolean>[] {
  if (!Number.isInteger(groupSize) || groupSize < 1) throw new FigureError(`groupSize must be a positive integer, got ${groupSize}.`);
  return decoded.map((d, i) => {
    const s = d.structure;
    return {
      sample: i,
      group: Math.floor(i / groupSize),
      formula: s ? s.composition.reducedFormula : "—",
      sites: s ? s.length : NaN,
      "V/atom (Å³)": s ? s.volumePerAtom : NaN,
      "density (g/cm³)": s ? s.density : NaN,
      valid: s !== null,
      // The decoder's reasons list every lattice parameter; the first clause says enough in a table.
      reason: shorten(d.reason ?? "", 70),
    };
  });
}

/** One diffusion step's entry of `LossResult.steps`. */
export type LossStep = LossResult["steps"][number];

/** The per-step terms of `RLModule.calculateLoss` as figure series, with each step's model timestep. */
export function lossSeries(steps: readonly LossStep[]): { series: PerTimestepSeries; timesteps: number[] } {
  if (steps.length === 0) throw new FigureError("lossSeries: no loss steps; pass calculateLoss(...).steps of a stochastic rollout.");
  const pick = (k: keyof LossStep) => steps.map((s) => s[k]);
  return { series: { ratio: pick("ratio"), kl: pick("kl"), entropy: pick("entropy"), loss: pick("loss"), clipFrac: pick("clipFrac") }, timesteps: pick("timestep") };
}

/**
 * Mean log-probability per sample of a recorded trajectory under a policy, over its stochastic
 * steps: `old` = what the rollout recorded, `current` = the same steps re-scored by `rl`'s
 * denoiser now (after an update they differ: that difference is what the ratio measures).
 */
export function trajectoryLogProbShift(rl: RLModule, trajectory: Trajectory): { old: number[]; current: number[] } {
  const active = trajectory.active.flatMap((a, i) => (a ? [i] : []));
  if (active.length === 0) throw new FigureError("the trajectory has no stochastic step (sample with eta > 0).");
  const old = trajectory.logProbs.arraySync() as number[][];
  const B = old[0].length;
  const sumOld = new Array<number>(B).fill(0);
  const sumNew = new Array<number>(B).fill(0);
  for (const i of active) {
    const lp = rl.stepLogProb(rl.ldm.denoiser, trajectory, i);
    const now = lp.arraySync();
    lp.dispose();
    for (let b = 0; b < B; b++) {
      sumOld[b] += old[i][b];
      sumNew[b] += now[b];
    }
  }
  return { old: sumOld.map((v) => v / active.length), current: sumNew.map((v) => v / active.length) };
}

/**
 * Advantage against the change of mean log-probability per sample after an update: GRPO
 * should raise the likelihood of samples with positive advantage and lower it for negative
 * ones (points in the upper-right and lower-left quadrants), coloured by group.
 */
export function logProbShiftFigure(advantages: readonly number[], delta: readonly number[], groupSize: number, options: { title?: string } = {}): Figure {
  if (advantages.length !== delta.length || advantages.length === 0) {
    throw new FigureError(`logProbShiftFigure: ${advantages.length} advantages and ${delta.length} log-prob changes; give one of each per sample.`);
  }
  if (!Number.isInteger(groupSize) || groupSize < 1) throw new FigureError(`groupSize must be a positive integer, got ${groupSize}.`);
  const groups = Math.ceil(advantages.length / groupSize);
  const data: Trace[] = Array.from({ length: groups }, (_, g) => {
    const idx = advantages.map((_, i) => i).filter((i) => Math.floor(i / groupSize) === g);
    return {
      type: "scatter", mode: "markers", name: `group ${g}`, x: idx.map((i) => advantages[i]), y: idx.map((i) => delta[i]), text: idx.map((i) => `sample ${i}`),
      marker: { size: 9, color: seriesColor(g), line: { color: "#333", width: 0.5 } }, hovertemplate: "%{text}<br>A = %{x:.3f}<br>Δ log p = %{y:.3e}<extra></extra>",
    };
  });
  const layout = baseLayout(options.title ?? "Effect of one optimizer step: advantage vs change of log-probability", {
    width: 800, height: 480,
    xaxis: { title: { text: "advantage A" }, gridcolor: "#eee", zerolinecolor: "#888" },
    yaxis: { title: { text: "Δ mean log p per sample (nats/entry)" }, gridcolor: "#eee", zerolinecolor: "#888", exponentformat: "e" },
  });
  return { data, layout };
}

/**
 * One reward component per sample before and after an update (same noise, so the samples are
 * paired), as a scatter against the y = x diagonal in the component's colour.
 * @param name the component (picks the colour); `label` names the plotted quantity (default: name)
 */
export function beforeAfterFigure(before: readonly number[], after: readonly number[], name: string, options: { unit?: string; label?: string; title?: string } = {}): Figure {
  if (before.length !== after.length || before.length === 0) throw new FigureError(`beforeAfterFigure: ${before.length} values before and ${after.length} after; pair them one to one.`);
  const lo = Math.min(...before, ...after);
  const hi = Math.max(...before, ...after);
  const pad = (hi - lo) * 0.05 || 0.05;
  const label = axisTitle(options.label ?? name, options.unit);
  const data: Trace[] = [
    { type: "scatter", mode: "lines", name: "unchanged (y = x)", x: [lo - pad, hi + pad], y: [lo - pad, hi + pad], line: { color: "#aaa", dash: "dot", width: 1 }, hoverinfo: "skip" },
    { type: "scatter", mode: "markers", name, x: Array.from(before), y: Array.from(after), text: before.map((_, i) => `sample ${i}`), marker: { size: 9, color: componentColor(name), line: { color: "#333", width: 0.5 } } },
  ];
  const layout = baseLayout(options.title ?? `"${name}" per sample, before vs after the update`, {
    width: 520, height: 460, showlegend: false,
    xaxis: { title: { text: `${label}, before` }, ...AXIS_STYLE, range: [lo - pad, hi + pad] }, yaxis: { title: { text: `${label}, after` }, ...AXIS_STYLE, range: [lo - pad, hi + pad] },
  });
  return { data, layout };
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
