/**
 * Reward components (Chemeleon2's `src/rl_module/components.py`, same class names): each maps a
 * generated set to one raw reward per structure; {@link ReinforceReward} normalises, weights
 * and sums them.
 *
 * A component sees a {@link RewardContext}: the generated structures (`null` where decoding
 * failed), the generated batch if the caller has it, and a shared {@link MetricsCache} so that
 * expensive metrics (uniqueness, novelty, e_above_hull, MMD features) are computed once per
 * set however many components need them.
 *
 * Invalid (null) structures never produce NaN: each component gives them its worst value —
 * stated per class below. Where a component has no fixed worst value, a null slot gets the
 * lowest reward of the valid structures in the set (0 if there is none).
 */
import { RewardError } from "../crystal/errors.ts";
import { amdDistance, averageMinimumDistance } from "../crystal/amd.ts";
import type { Structure } from "../crystal/structure.ts";
import type { VaeLike } from "../metrics/featurizers.ts";
import type { MetricName, MetricsCache } from "../metrics/metrics.ts";
import { getNormalizer } from "./normalize.ts";

/** What a component's `compute` receives. */
export interface RewardContext {
  /** Generated structures; null where the decoder produced no valid crystal. */
  readonly structures: readonly (Structure | null)[];
  /** The generated CrystalBatch (or anything the caller passes), for components that want tensors. */
  readonly batchGen?: unknown;
  /** Shared, memoised metrics of this generated set. */
  readonly metrics: MetricsCache;
  /**
   * The VAE that decoded the structures (RL: the LDM's frozen VAE), when the caller has one.
   * ReinforceReward.context hands it to the metrics, so the diversity rewards use the seed's
   * VAE features; without it they use the descriptor featurisers (logged once).
   */
  readonly vae?: VaeLike;
}

/** Constructor options shared by all components (camelCase; `normalize_fn` also accepted). */
export interface RewardComponentOptions {
  /** Multiplier of the normalised reward; 0 = computed and logged only. Default 1. */
  weight?: number;
  /** "std" | "norm" | "subtract_mean" | "clip" | a registered normaliser | null (default). */
  normalizeFn?: string | null;
  /** Alias of normalizeFn with the seed's YAML spelling. */
  normalize_fn?: string | null;
  /** eps of the normaliser; default 1e-4. */
  eps?: number;
  /** Label in logs and tables; default the class's snake_case name. */
  name?: string;
}

/** Base class of reward components: options, validation and null-slot handling. */
export abstract class RewardComponent {
  weight: number;
  normalizeFn: string | null;
  eps: number;
  name: string;
  /** Metrics this component reads from the context (prefetched and timed by ReinforceReward). */
  readonly requiredMetrics: readonly MetricName[] = [];

  constructor(options: RewardComponentOptions = {}, defaultName = "reward") {
    if (options === null || typeof options !== "object") throw new RewardError(`${new.target.name}: options must be an object, got ${options}`);
    this.weight = options.weight ?? 1;
    if (typeof this.weight !== "number" || !Number.isFinite(this.weight)) {
      throw new RewardError(`${new.target.name}: weight must be a finite number, got ${String(options.weight)}`);
    }
    const fn = options.normalizeFn !== undefined ? options.normalizeFn : (options.normalize_fn ?? null);
    if (fn !== null) getNormalizer(fn); // throws RewardError listing the valid names
    this.normalizeFn = fn;
    this.eps = options.eps ?? 1e-4;
    if (!(this.eps >= 0)) throw new RewardError(`${new.target.name}: eps must be ≥ 0, got ${options.eps}`);
    this.name = options.name ?? defaultName;
  }

  /** Raw reward per structure (same length as ctx.structures, finite). */
  abstract compute(ctx: RewardContext): Promise<number[]> | number[];
}

/** Values for valid slots spread over all slots; null slots get `invalid` or the lowest valid value. */
export function fillInvalid(structures: readonly (Structure | null)[], validValues: readonly number[], invalid?: number): number[] {
  const fallback = invalid ?? (validValues.length ? Math.min(...validValues) : 0);
  let k = 0;
  return structures.map((s) => (s ? validValues[k++] : fallback));
}

function validOf(structures: readonly (Structure | null)[]): Structure[] {
  return structures.filter((s): s is Structure => s !== null);
}

/** A plain reward function over the valid structures. */
export type RewardFunction = (structures: Structure[], ctx: RewardContext) => number[] | Promise<number[]>;

/**
 * User-defined reward. Two ways to use it: pass `compute: (structures, ctx) => number[]` (it
 * receives the valid structures only; null slots get the lowest valid value), or subclass and
 * override `compute(ctx)`. Without either it is the seed's template and returns zeros.
 */
export class CustomReward extends RewardComponent {
  private readonly fn?: RewardFunction;

  constructor(options: RewardComponentOptions & { compute?: RewardFunction } = {}) {
    super(options, "custom");
    if (options.compute !== undefined && typeof options.compute !== "function") {
      throw new RewardError(`CustomReward: compute must be a function (structures) => number[], got ${typeof options.compute}`);
    }
    this.fn = options.compute;
  }

  async compute(ctx: RewardContext): Promise<number[]> {
    if (!this.fn) return ctx.structures.map(() => 0);
    const valid = validOf(ctx.structures);
    const values = await this.fn(valid, ctx);
    if (!Array.isArray(values) && !ArrayBuffer.isView(values)) throw new RewardError(`reward "${this.name}": the function returned ${typeof values}, expected number[]`);
    if (values.length !== valid.length) {
      throw new RewardError(`reward "${this.name}": the function returned ${values.length} values for ${valid.length} structures; return one per structure`);
    }
    return fillInvalid(ctx.structures, Array.from(values as ArrayLike<number>));
  }
}

/** A property model: predictions per structure, for one or several named targets. */
export interface Predictor {
  readonly targetNames: readonly string[];
  predict(structures: Structure[]): Promise<number[] | Record<string, number[]>> | number[] | Record<string, number[]>;
}

export interface PredictorRewardOptions extends RewardComponentOptions {
  predictor: Predictor;
  targetName: string;
  /** With a target: reward −(pred − target)²; without: reward = pred. */
  targetValue?: number | null;
  clipMin?: number | null;
  clipMax?: number | null;
}

/**
 * Reward from a property predictor (seed semantics): prediction clamped to
 * [clipMin, clipMax]; reward −(pred − targetValue)² with a target, else the prediction.
 * Null slots get the lowest valid reward.
 */
export class PredictorReward extends RewardComponent {
  readonly predictor: Predictor;
  readonly targetName: string;
  readonly targetValue: number | null;
  readonly clipMin: number | null;
  readonly clipMax: number | null;

  constructor(options: PredictorRewardOptions) {
    super(options, `predictor_${options?.targetName ?? ""}`);
    const { predictor, targetName } = options;
    if (!predictor || typeof predictor.predict !== "function") throw new RewardError("PredictorReward: `predictor` must have predict(structures) and targetNames");
    if (!predictor.targetNames?.includes(targetName)) {
      throw new RewardError(`PredictorReward: target_name "${targetName}" is not predicted by this model; it predicts ${JSON.stringify(predictor.targetNames)}`);
    }
    this.predictor = predictor;
    this.targetName = targetName;
    this.targetValue = options.targetValue ?? null;
    this.clipMin = options.clipMin ?? null;
    this.clipMax = options.clipMax ?? null;
    if (this.clipMin !== null && this.clipMax !== null && this.clipMin > this.clipMax) {
      throw new RewardError(`PredictorReward: clip_min ${this.clipMin} > clip_max ${this.clipMax}`);
    }
  }

  async compute(ctx: RewardContext): Promise<number[]> {
    const valid = validOf(ctx.structures);
    if (valid.length === 0) return ctx.structures.map(() => 0);
    const out = await this.predictor.predict(valid);
    const preds = Array.isArray(out) ? out : out[this.targetName];
    if (!preds || preds.length !== valid.length) {
      throw new RewardError(`PredictorReward "${this.name}": the predictor returned ${preds?.length ?? "no"} "${this.targetName}" values for ${valid.length} structures`);
    }
    const rewards = preds.map((p) => this.rewardOf(p));
    return fillInvalid(ctx.structures, rewards);
  }

  private rewardOf(pred: number): number {
    let p = pred;
    if (this.clipMin !== null) p = Math.max(this.clipMin, p);
    if (this.clipMax !== null) p = Math.min(this.clipMax, p);
    return this.targetValue === null ? p : -((p - this.targetValue) ** 2);
  }
}

/**
 * Creativity (seed semantics, k = 100 AMD neighbours, L∞ distance): 1 if unique and novel,
 * 0 if neither; otherwise the smallest non-zero AMD distance between the structure and the
 * reference + other generated structures with the same reduced formula.
 * Defined where the seed fails: when no same-formula structure is at a non-zero distance,
 * the value is 0 if an identical copy exists (all distances 0: nothing new) and 1 if there is
 * no same-formula structure at all (nothing similar). Null slots get 0.
 */
export class CreativityReward extends RewardComponent {
  override readonly requiredMetrics: readonly MetricName[] = ["unique", "novel"];
  /** AMD neighbours; default 100 as the seed. */
  readonly k: number;
  private readonly amdCache = new WeakMap<Structure, Float64Array>();

  constructor(options: RewardComponentOptions & { k?: number } = {}) {
    super(options, "creativity");
    this.k = options.k ?? 100;
  }

  async compute(ctx: RewardContext): Promise<number[]> {
    const unique = await ctx.metrics.booleans("unique");
    const novel = await ctx.metrics.booleans("novel");
    const refs = await ctx.metrics.metrics.referenceByFormula();
    const byFormula = new Map<string, number[]>();
    ctx.structures.forEach((s, i) => s && byFormula.set(s.composition.reducedFormula, [...(byFormula.get(s.composition.reducedFormula) ?? []), i]));
    return ctx.structures.map((s, i) => {
      if (!s) return 0;
      if (unique[i] && novel[i]) return 1;
      if (!unique[i] && !novel[i]) return 0;
      const formula = s.composition.reducedFormula;
      const others = [...(refs.get(formula) ?? []), ...(byFormula.get(formula) ?? []).filter((j) => j !== i).map((j) => ctx.structures[j]!)];
      return this.smallestPositiveDistance(s, others);
    });
  }

  private smallestPositiveDistance(s: Structure, others: readonly Structure[]): number {
    if (others.length === 0) return 1;
    const mine = this.amd(s);
    let best = Infinity;
    for (const o of others) {
      const d = amdDistance(mine, this.amd(o));
      if (d > 0 && d < best) best = d;
    }
    return best === Infinity ? 0 : best;
  }

  private amd(s: Structure): Float64Array {
    let v = this.amdCache.get(s);
    if (!v) this.amdCache.set(s, (v = averageMinimumDistance(s, this.k)));
    return v;
  }
}

/**
 * Energy reward (seed semantics): −clamp(e_above_hull, 0, 1), with a NaN energy (model gave
 * none) treated as 1 before clamping. Null slots: −1, the worst value.
 */
export class EnergyReward extends RewardComponent {
  override readonly requiredMetrics: readonly MetricName[] = ["e_above_hull"];

  constructor(options: RewardComponentOptions = {}) {
    super(options, "energy");
  }

  async compute(ctx: RewardContext): Promise<number[]> {
    const e = await ctx.metrics.numbers("e_above_hull");
    return e.map((v, i) => (ctx.structures[i] === null ? -1 : -Math.min(1, Math.max(0, Number.isNaN(v) ? 1 : v))));
  }
}

/** Shared body of the two MMD diversity rewards. */
abstract class DiversityReward extends RewardComponent {
  protected abstract readonly kind: "structure" | "composition";

  async compute(ctx: RewardContext): Promise<number[]> {
    const { rIndiv } = await ctx.metrics.diversity(this.kind);
    const valid = rIndiv.filter((_, i) => ctx.structures[i] !== null);
    // Fewer than 3 valid structures: leave-one-out MMD is undefined, no diversity signal.
    if (valid.some(Number.isNaN)) return ctx.structures.map(() => 0);
    return fillInvalid(ctx.structures, valid);
  }
}

/**
 * Structure diversity: each structure's leave-one-out MMD contribution (cubic polynomial
 * kernel) between the generated and reference structure features. Null slots get the lowest
 * valid value; with fewer than 3 valid structures every value is 0.
 */
export class StructureDiversityReward extends DiversityReward {
  override readonly requiredMetrics: readonly MetricName[] = ["structure_diversity"];
  protected readonly kind = "structure";

  constructor(options: RewardComponentOptions = {}) {
    super(options, "structure_diversity");
  }
}

/** Composition diversity: as {@link StructureDiversityReward} on composition features. */
export class CompositionDiversityReward extends DiversityReward {
  override readonly requiredMetrics: readonly MetricName[] = ["composition_diversity"];
  protected readonly kind = "composition";

  constructor(options: RewardComponentOptions = {}) {
    super(options, "composition_diversity");
  }
}
