/**
 * Reward normalisation, exactly the seed's formulas (Chemeleon2 `standardize`, `normalize`,
 * Dr.-GRPO mean subtraction, clipping), applied to the whole batch, to consecutive groups of
 * `groupSize` (GRPO: one group per prompt), or to groups given by explicit ids.
 *
 * Per group x of n values, with eps (default 1e-4):
 * - "std":           zeros if s < eps, else (x − mean) / (s + eps), s the unbiased (n − 1)
 *                    standard deviation like torch.std. A singleton group (n = 1, where torch
 *                    would give NaN) returns 0: one sample carries no relative signal.
 * - "norm":          zeros if max − min < eps, else (x − min) / (max − min + eps) clamped to [0, 1].
 * - "subtract_mean": x − mean.
 * - "clip":          x clamped to [−1, 1].
 * - null:            x unchanged.
 *
 * The maths runs in float64 on the host: rewards are a few hundred scalars computed on the
 * CPU anyway, and float64 avoids float32 cancellation in x − mean; tensors in, tensors
 * (float32) out. Normalisers live in a registry (verl style) so a config can name a custom one.
 */
import { RewardError } from "../crystal/errors.ts";
import { tf } from "../nn/tf.ts";

/** A normaliser maps one group's values (length ≥ 1, all finite) to as many normalised values. */
export type Normalizer = (values: Float64Array, eps: number) => Float64Array;

/** Names of the seed's normalisers. */
export type NormalizeFnName = "std" | "norm" | "subtract_mean" | "clip";

/** How values are grouped: one of `groupSize` (consecutive) or `groupIds` (labels); neither = one group. */
export interface GroupOptions {
  groupSize?: number;
  groupIds?: readonly number[];
}

function mean(x: Float64Array): number {
  let s = 0;
  for (const v of x) s += v;
  return s / x.length;
}

/** Unbiased (n − 1) standard deviation; 0 for a single value (no spread to measure). */
export function unbiasedStd(x: Float64Array): number {
  if (x.length < 2) return 0;
  const m = mean(x);
  let ss = 0;
  for (const v of x) ss += (v - m) * (v - m);
  return Math.sqrt(ss / (x.length - 1));
}

const standardize: Normalizer = (x, eps) => {
  const s = unbiasedStd(x);
  if (x.length < 2 || s < eps) return new Float64Array(x.length);
  const m = mean(x);
  return x.map((v) => (v - m) / (s + eps));
};

const minMax: Normalizer = (x, eps) => {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of x) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (hi - lo < eps) return new Float64Array(x.length);
  return x.map((v) => Math.min(1, Math.max(0, (v - lo) / (hi - lo + eps))));
};

const subtractMean: Normalizer = (x) => {
  const m = mean(x);
  return x.map((v) => v - m);
};

const clip: Normalizer = (x) => x.map((v) => Math.min(1, Math.max(-1, v)));

const registry = new Map<string, Normalizer>([
  ["std", standardize],
  ["norm", minMax],
  ["subtract_mean", subtractMean],
  ["clip", clip],
]);
const BUILT_IN = new Set(registry.keys());

/** The normaliser registry by name (built-ins plus anything registered). Read-only view. */
export const NORMALIZERS: ReadonlyMap<string, Normalizer> = registry;

/**
 * Registers a custom normaliser under `name` (usable as `normalize_fn: name` in configs).
 * Built-in names cannot be replaced; re-registering a custom name needs `{ replace: true }`.
 */
export function registerNormalizer(name: string, fn: Normalizer, options: { replace?: boolean } = {}): void {
  if (typeof name !== "string" || name.length === 0) throw new RewardError("registerNormalizer: name must be a non-empty string");
  if (typeof fn !== "function") throw new RewardError(`registerNormalizer("${name}"): fn must be a function (values, eps) => values`);
  if (BUILT_IN.has(name)) throw new RewardError(`registerNormalizer: "${name}" is a built-in normaliser and cannot be replaced; pick another name`);
  if (registry.has(name) && !options.replace) {
    throw new RewardError(`registerNormalizer: "${name}" is already registered; pass { replace: true } to replace it`);
  }
  registry.set(name, fn);
}

/** The normaliser called `name`; an unknown name is an error listing the valid ones. */
export function getNormalizer(name: string): Normalizer {
  const fn = registry.get(name);
  if (!fn) {
    throw new RewardError(
      `unknown normalize_fn "${name}"; valid: ${[...registry.keys()].map((k) => `"${k}"`).join(", ")} or null`,
    );
  }
  return fn;
}

/**
 * Index lists of the groups described by `options` over `n` values, in first-seen order.
 * Errors name the offending numbers: a groupSize that does not divide n, ids of the wrong length.
 */
export function resolveGroups(n: number, options: GroupOptions = {}): number[][] {
  const { groupSize, groupIds } = options;
  if (groupSize !== undefined && groupIds !== undefined) {
    throw new RewardError("give either groupSize or groupIds, not both");
  }
  if (groupIds !== undefined) return groupsFromIds(n, groupIds);
  if (groupSize === undefined) return [Array.from({ length: n }, (_, i) => i)];
  if (!Number.isInteger(groupSize) || groupSize < 1) {
    throw new RewardError(`groupSize must be a positive integer, got ${groupSize}`);
  }
  if (n % groupSize !== 0) {
    throw new RewardError(
      `groupSize ${groupSize} does not divide the number of rewards ${n}; ` +
        `use a batch of prompts × ${groupSize} samples, or pass groupIds for uneven groups`,
    );
  }
  return Array.from({ length: n / groupSize }, (_, g) => Array.from({ length: groupSize }, (_, k) => g * groupSize + k));
}

function groupsFromIds(n: number, ids: readonly number[]): number[][] {
  if (!Array.isArray(ids) || ids.length !== n) {
    throw new RewardError(`groupIds has ${Array.isArray(ids) ? ids.length : "no"} entries for ${n} rewards; give one id per reward`);
  }
  const groups = new Map<number, number[]>();
  ids.forEach((id, i) => {
    if (!Number.isFinite(id)) throw new RewardError(`groupIds[${i}] is ${id}; group ids must be finite numbers`);
    const list = groups.get(id);
    if (list) list.push(i);
    else groups.set(id, [i]);
  });
  return [...groups.values()];
}

function toFloat64(values: ArrayLike<number>, what: string): Float64Array {
  const out = Float64Array.from(values);
  const bad = out.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new RewardError(`${what}[${bad}] is ${out[bad]}; rewards must be finite (check the reward component that produced it)`);
  return out;
}

/** Normalises float64 values group by group with the named normaliser (null: copy). */
function normalizeGroups(x: Float64Array, fn: string | null, eps: number, options: GroupOptions): Float64Array {
  if (!(eps >= 0)) throw new RewardError(`eps must be a non-negative number, got ${eps}`);
  const groups = resolveGroups(x.length, options);
  if (fn === null) return x.slice();
  const normalizer = getNormalizer(fn);
  const out = new Float64Array(x.length);
  for (const idx of groups) {
    const result = normalizer(Float64Array.from(idx, (i) => x[i]), eps);
    if (result.length !== idx.length) {
      throw new RewardError(`normaliser "${fn}" returned ${result.length} values for a group of ${idx.length}`);
    }
    idx.forEach((i, k) => (out[i] = result[k]));
  }
  return out;
}

/** Plain-array variant of {@link normalizeRewards} (float64 throughout), used for logging tables. */
export function normalizeArray(
  values: ArrayLike<number>,
  fn: NormalizeFnName | string | null,
  eps = 1e-4,
  options: GroupOptions = {},
): number[] {
  return Array.from(normalizeGroups(toFloat64(values, "values"), fn, eps, options));
}

/**
 * Normalises a rank-1 reward tensor with the seed's formulas, over the whole batch or per
 * group (`groupSize` consecutive values, or explicit `groupIds`). Returns a new float32
 * tensor; the caller owns (disposes) it.
 */
export function normalizeRewards(
  values: tf.Tensor1D,
  fn: NormalizeFnName | string | null,
  eps = 1e-4,
  options: GroupOptions = {},
): tf.Tensor1D {
  if (!(values instanceof tf.Tensor) || values.rank !== 1) {
    throw new RewardError(`normalizeRewards expects a rank-1 tensor of rewards, got ${describeTensor(values)}`);
  }
  const out = normalizeGroups(toFloat64(values.dataSync(), "rewards"), fn, eps, options);
  return tf.tensor1d(Float32Array.from(out), "float32");
}

function describeTensor(v: unknown): string {
  return v instanceof tf.Tensor ? `shape [${v.shape.join(", ")}]` : typeof v;
}

/**
 * Fraction of groups whose rewards have (unbiased) standard deviation below eps, i.e. groups
 * whose std-normalised advantages are all zero and give GRPO no learning signal. Singleton
 * groups count as zero-variance.
 */
export function zeroVarianceFraction(
  values: ArrayLike<number> | tf.Tensor1D,
  groups: number | GroupOptions,
  eps = 1e-4,
): number {
  const raw = values instanceof tf.Tensor ? values.dataSync() : values;
  const x = toFloat64(raw, "values");
  const idx = resolveGroups(x.length, typeof groups === "number" ? { groupSize: groups } : groups);
  if (idx.length === 0) return 0;
  const flat = idx.filter((g) => g.length < 2 || unbiasedStd(Float64Array.from(g, (i) => x[i])) < eps);
  return flat.length / idx.length;
}
