/**
 * ReinforceReward (Chemeleon2's `src/rl_module/reward.py`): the weighted sum of reward
 * components, and the normaliser that turns summed rewards into GRPO advantages.
 *
 * One function, {@link ReinforceReward.decompose}, computes every component and the total;
 * `compute`, `advantages` and the logging tables all read its output, so the numbers a
 * notebook shows are the numbers the policy gradient uses.
 *
 * Aggregation:
 *  - "normalize_then_sum" (the seed): each component's raw values are normalised with its own
 *    `normalizeFn` over the whole rollout batch, multiplied by its weight, and summed;
 *  - "sum_then_normalize": weighted raw values are summed and per-component normalisers are
 *    NOT applied (the `normalized` column equals `raw`); only the advantage normaliser runs
 *    (TRL / Flow-GRPO style).
 * Advantages (`normalize`) apply this object's `normalizeFn` to the totals, per group when
 * group ids or a group size are given (seed: group-wise when `group_reward_norm`), else over
 * the batch.
 *
 * Components with weight 0 are still computed and logged ("log-only"). Any non-finite raw
 * value is a RewardError naming the component and the structure index.
 */
import { RewardError } from "../crystal/errors.ts";
import type { Structure } from "../crystal/structure.ts";
import type { VaeLike } from "../metrics/featurizers.ts";
import { Metrics, type MetricsCache, type MetricsOptions } from "../metrics/metrics.ts";
import { RewardComponent, type RewardContext } from "./components.ts";
import { getNormalizer, normalizeArray, zeroVarianceFraction, type GroupOptions } from "./normalize.ts";

export type Aggregation = "normalize_then_sum" | "sum_then_normalize";

export interface ReinforceRewardOptions {
  components: RewardComponent[];
  /** Advantage normaliser (seed default "std"). */
  normalizeFn?: string | null;
  normalize_fn?: string | null;
  eps?: number;
  /** Reference data set of the metrics (seed "mp-20"); ignored when `metrics` is given. */
  referenceDataset?: string;
  reference_dataset?: string;
  aggregation?: Aggregation;
  /** A Metrics instance (shared back-ends) or options for one. */
  metrics?: Metrics | MetricsOptions;
}

/** One component's values for one structure. */
export interface ComponentValue {
  raw: number;
  normalized: number;
  weighted: number;
}

/** One structure's row of the decomposition. */
export interface DecompositionRow {
  index: number;
  formula: string | null;
  components: Record<string, ComponentValue>;
  total: number;
}

/** Per-component summary of a decomposition. */
export interface ComponentSummary {
  name: string;
  weight: number;
  /** Normaliser actually applied (null in sum_then_normalize). */
  normalizeFn: string | null;
  logOnly: boolean;
  seconds: number;
  /** Fraction of groups whose raw values have std < eps (NaN without groups). */
  zeroVarianceFraction: number;
}

export interface RewardDecomposition {
  rows: DecompositionRow[];
  components: ComponentSummary[];
  /** Weighted total per structure (what `compute` returns). */
  total: number[];
  /** Zero-variance group fraction of the totals (NaN without groups). */
  zeroVarianceFraction: number;
  /** Seconds per metric prefetched for the components. */
  metricSeconds: Record<string, number>;
}

const AGGREGATIONS: readonly Aggregation[] = ["normalize_then_sum", "sum_then_normalize"];

export class ReinforceReward {
  readonly components: RewardComponent[];
  readonly normalizeFn: string | null;
  readonly eps: number;
  readonly aggregation: Aggregation;
  readonly metrics: Metrics;

  constructor(options: ReinforceRewardOptions) {
    if (!options || !Array.isArray(options.components) || options.components.length === 0) {
      throw new RewardError("ReinforceReward needs a non-empty `components` list of RewardComponent instances");
    }
    options.components.forEach((c, i) => {
      if (!(c instanceof RewardComponent)) throw new RewardError(`components[${i}] is not a RewardComponent (got ${describe(c)}); build it with new EnergyReward(...) or registerReward`);
    });
    this.components = uniqueNames(options.components);
    const fn = options.normalizeFn !== undefined ? options.normalizeFn : (options.normalize_fn ?? null);
    if (fn !== null) getNormalizer(fn);
    this.normalizeFn = fn;
    this.eps = options.eps ?? 1e-4;
    if (!(this.eps >= 0)) throw new RewardError(`ReinforceReward: eps must be ≥ 0, got ${options.eps}`);
    this.aggregation = options.aggregation ?? "normalize_then_sum";
    if (!AGGREGATIONS.includes(this.aggregation)) {
      throw new RewardError(`ReinforceReward: unknown aggregation "${this.aggregation}"; use "normalize_then_sum" or "sum_then_normalize"`);
    }
    const dataset = options.referenceDataset ?? options.reference_dataset;
    this.metrics = options.metrics instanceof Metrics ? options.metrics : new Metrics({ referenceDataset: dataset, ...options.metrics });
  }

  /**
   * A context over generated structures (null = decode failure) with a fresh metrics cache.
   * With `vae` (the VAE that decoded them, e.g. `ldm.vae`), the metrics switch to the seed's
   * VAE featurisers for the diversity rewards (unless featurisers were given explicitly).
   */
  context(structures: readonly (Structure | null)[], batchGen?: unknown, options: { vae?: VaeLike } = {}): RewardContext {
    if (!Array.isArray(structures) || structures.length === 0) {
      throw new RewardError("reward input is empty: pass at least one generated structure (null for a decode failure)");
    }
    if (options.vae) this.metrics.useVae(options.vae);
    return { structures, batchGen, metrics: this.metrics.cache(structures), ...(options.vae ? { vae: options.vae } : {}) };
  }

  /** Weighted total reward per structure (the `total` of {@link decompose}). */
  async compute(input: RewardContext | readonly (Structure | null)[]): Promise<number[]> {
    return (await this.decompose(input)).total;
  }

  /**
   * Every component's raw / normalised / weighted value per structure and the totals.
   * `groups` only feeds the zero-variance fractions (components are normalised over the batch).
   */
  async decompose(input: RewardContext | readonly (Structure | null)[], groups: GroupOptions = {}): Promise<RewardDecomposition> {
    const ctx = Array.isArray(input) ? this.context(input) : (input as RewardContext);
    if (ctx.structures.length === 0) throw new RewardError("reward input is empty: pass at least one generated structure");
    if (ctx.vae) ctx.metrics.metrics.useVae(ctx.vae); // a hand-built context may carry the VAE too
    const hasGroups = groups.groupSize !== undefined || groups.groupIds !== undefined;
    const metricSeconds = await prefetchMetrics(ctx.metrics, this.components);
    const n = ctx.structures.length;
    const total = new Array<number>(n).fill(0);
    const summaries: ComponentSummary[] = [];
    const columns: Record<string, ComponentValue[]> = {};
    for (const c of this.components) {
      const t0 = performance.now();
      const raw = checkRaw(c, await c.compute(ctx), n);
      const seconds = (performance.now() - t0) / 1000;
      const applied = this.aggregation === "normalize_then_sum" ? c.normalizeFn : null;
      const normalized = normalizeArray(raw, applied, c.eps);
      columns[c.name] = raw.map((r, i) => ({ raw: r, normalized: normalized[i], weighted: c.weight * normalized[i] }));
      columns[c.name].forEach((v, i) => (total[i] += v.weighted));
      const zv = hasGroups ? zeroVarianceFraction(raw, groups, c.eps) : NaN;
      summaries.push({ name: c.name, weight: c.weight, normalizeFn: applied, logOnly: c.weight === 0, seconds, zeroVarianceFraction: zv });
    }
    const rows = ctx.structures.map((s, i) => ({
      index: i,
      formula: s ? s.composition.reducedFormula : null,
      components: Object.fromEntries(this.components.map((c) => [c.name, columns[c.name][i]])),
      total: total[i],
    }));
    const zvTotal = hasGroups ? zeroVarianceFraction(total, groups, this.eps) : NaN;
    return { rows, components: summaries, total, zeroVarianceFraction: zvTotal, metricSeconds };
  }

  /** Advantages from totals: this reward's normaliser over the batch or per group. */
  normalize(rewards: readonly number[], groups: GroupOptions = {}): number[] {
    if (rewards.length === 0) throw new RewardError("normalize: no rewards given");
    return normalizeArray(rewards, this.normalizeFn, this.eps, groups);
  }

  /** Decomposition and advantages in one call: advantages = normalize(decomposition.total). */
  async advantages(input: RewardContext | readonly (Structure | null)[], groups: GroupOptions = {}): Promise<{ decomposition: RewardDecomposition; advantages: number[] }> {
    const decomposition = await this.decompose(input, groups);
    return { decomposition, advantages: this.normalize(decomposition.total, groups) };
  }
}

function describe(x: unknown): string {
  return x !== null && typeof x === "object" ? (x.constructor?.name ?? "object") : typeof x;
}

/** Computes every metric the components need, timing each (components then read the cache). */
async function prefetchMetrics(cache: MetricsCache, components: readonly RewardComponent[]): Promise<Record<string, number>> {
  const names = [...new Set(components.flatMap((c) => c.requiredMetrics))];
  for (const name of names) await cache.get(name);
  return { ...cache.seconds };
}

function checkRaw(c: RewardComponent, values: unknown, n: number): number[] {
  if (!Array.isArray(values) && !ArrayBuffer.isView(values)) {
    throw new RewardError(`reward component "${c.name}" returned ${typeof values}, expected an array of ${n} numbers`);
  }
  const raw = Array.from(values as ArrayLike<number>);
  if (raw.length !== n) throw new RewardError(`reward component "${c.name}" returned ${raw.length} values for ${n} structures`);
  const bad = raw.findIndex((v) => typeof v !== "number" || !Number.isFinite(v));
  if (bad >= 0) throw new RewardError(`reward component "${c.name}" gave ${raw[bad]} for structure ${bad}; rewards must be finite numbers`);
  return raw;
}

/** Components with duplicate names get "#2", "#3" suffixes so table columns stay distinct. */
function uniqueNames(components: RewardComponent[]): RewardComponent[] {
  const seen = new Map<string, number>();
  for (const c of components) {
    const k = (seen.get(c.name) ?? 0) + 1;
    seen.set(c.name, k);
    if (k > 1) c.name = `${c.name}#${k}`;
  }
  return components;
}

/** Flat rows for tables/CSV: index, formula, `<component>.raw|normalized|weighted`, total. */
export function decompositionTable(d: RewardDecomposition): Record<string, number | string | null>[] {
  return d.rows.map((r) => {
    const out: Record<string, number | string | null> = { index: r.index, formula: r.formula };
    for (const [name, v] of Object.entries(r.components)) {
      out[`${name}.raw`] = v.raw;
      out[`${name}.normalized`] = v.normalized;
      out[`${name}.weighted`] = v.weighted;
    }
    out.total = r.total;
    return out;
  });
}

/** Rows of weighted contributions, shaped for `rewardDecompositionFigure` ({ label, <component>: weighted }). */
export function weightedRows(d: RewardDecomposition): Record<string, number | string>[] {
  return d.rows.map((r) => ({
    label: `${r.formula ?? "invalid"} #${r.index}`,
    ...Object.fromEntries(Object.entries(r.components).map(([name, v]) => [name, v.weighted])),
  }));
}
