/**
 * A sampled diffusion trajectory as GRPO sees it, and the small helpers around it: repeating
 * prompts into groups, scoring every step's log-probability, splitting into inner
 * mini-batches, freeing tensors.
 *
 * Shapes (T sampling steps, B samples, N atom slots, C latent channels):
 *   zs [T+1, B, N, C]    zs[0] = x_T, zs[T] = x_0
 *   means, stds [T, B, N, C]    step i: zs[i+1] ~ N(means[i], stds[i]²)
 *   logProbs [T, B]      log-prob of step i (0 where the step is deterministic)
 */
import { tf } from "../nn/tf.ts";
import { RLError } from "../crystal/errors.ts";
import type { CrystalBatch } from "../data/batch.ts";
import type { LDMModule } from "../ldm_module/ldm_module.ts";
import { calculateLogProb } from "./grpo.ts";

export interface Trajectory {
  zs: tf.Tensor4D;
  means: tf.Tensor4D;
  stds: tf.Tensor4D;
  /** [T, B] log-prob of each step under the rollout policy (constant). */
  logProbs: tf.Tensor2D;
  /** [B, N] atom mask. */
  mask: tf.Tensor2D;
  /** The condition the samples were drawn with (null: unconditional). */
  y: tf.Tensor | null;
  /** Step indices into the sampling diffusion, in sampling order (T − 1 … 0). */
  timesteps: Int32Array;
  /** Per step: true when it is stochastic (std > 0) and enters the loss. */
  active: boolean[];
}

/** A prompt batch (its sizes, and condition) or explicit sizes, repeated G times per prompt. */
export type RolloutInput = CrystalBatch | { numAtoms: readonly number[]; y?: tf.Tensor | readonly number[] | null };

function isBatch(input: RolloutInput): input is CrystalBatch {
  return (input as CrystalBatch).atomTypes instanceof tf.Tensor;
}

/**
 * Each prompt repeated `groupSize` times in a row (torch's repeat_interleave), so group g is
 * samples [g·G, (g+1)·G): site counts, and the condition rows for a conditional LDM.
 */
export function repeatPrompts(ldm: LDMModule, input: RolloutInput, groupSize: number): { numAtoms: number[]; y: tf.Tensor | null } {
  const numAtoms = isBatch(input) ? Array.from(input.numAtoms.dataSync()) : [...input.numAtoms];
  if (numAtoms.length === 0) throw new RLError("rollout: the prompt batch is empty; pass at least one prompt.");
  const rows = numAtoms.flatMap((_, i) => new Array<number>(groupSize).fill(i));
  const y0 = isBatch(input) ? ldm.conditionOf(input) : toCondition(input.y);
  const y = y0 ? tf.tidy(() => tf.gather(y0, rows)) : null;
  y0?.dispose();
  return { numAtoms: rows.map((i) => numAtoms[i]), y };
}

function toCondition(y: tf.Tensor | readonly number[] | null | undefined): tf.Tensor | null {
  if (y === null || y === undefined) return null;
  return y instanceof tf.Tensor ? y.clone() : tf.tensor1d([...y], "float32");
}

/** Step i of a [T, …] stack: [T, B, N, C] → [B, N, C], [T, B] → [B] (a new tensor). */
export function stepOf(t: tf.Tensor4D, i: number): tf.Tensor3D;
export function stepOf(t: tf.Tensor2D, i: number): tf.Tensor1D;
export function stepOf(t: tf.Tensor, i: number): tf.Tensor {
  return tf.gather(t, i);
}

/** Several trajectory steps as one batch (see {@link stackSteps}). */
export interface StackedSteps {
  x: tf.Tensor3D;
  next: tf.Tensor3D;
  mask: tf.Tensor2D;
  y: tf.Tensor | null;
  timesteps: Int32Array;
}

/**
 * Steps `steps` of `t` stacked along the batch axis, step-major (row k·B + b is sample b at
 * step steps[k]), so one model call replays them all: inputs x = zs[i], targets zs[i + 1],
 * the mask and condition repeated per step, and every row's sampling-diffusion step index.
 * Tensors are new (the caller disposes them, or calls this inside tf.tidy).
 */
export function stackSteps(t: Trajectory, steps: readonly number[]): StackedSteps {
  const [, B, N, C] = t.zs.shape;
  const K = steps.length;
  const rows = (offset: number) => tf.tidy(() => tf.reshape(tf.gather(t.zs, steps.map((i) => i + offset)), [K * B, N, C]) as tf.Tensor3D);
  const repeat = (x: tf.Tensor) => tf.tile(x, [K, ...new Array<number>(x.rank - 1).fill(1)]);
  return {
    x: rows(0),
    next: rows(1),
    mask: repeat(t.mask) as tf.Tensor2D,
    y: t.y ? repeat(t.y) : null,
    timesteps: Int32Array.from({ length: K * B }, (_, r) => t.timesteps[steps[Math.floor(r / B)]]),
  };
}

/** Log-probs [T, B] of every step, and which steps are stochastic (std not all zero). */
export function trajectoryLogProbs(zs: tf.Tensor4D, means: tf.Tensor4D, stds: tf.Tensor4D, mask: tf.Tensor2D): { logProbs: tf.Tensor2D; active: boolean[] } {
  const T = means.shape[0];
  const maxStd = tf.tidy(() => tf.max(stds, [1, 2, 3]));
  const active = Array.from(maxStd.dataSync(), (s) => s > 0);
  maxStd.dispose();
  const logProbs = tf.tidy(() => {
    const rows = Array.from({ length: T }, (_, i) => {
      if (!active[i]) return tf.zeros([means.shape[1]]);
      return calculateLogProb(stepOf(zs, i + 1), stepOf(means, i), stepOf(stds, i), mask);
    });
    return tf.stack(rows) as tf.Tensor2D;
  });
  checkFinite(logProbs, "rollout log-probabilities");
  return { logProbs, active };
}

/** Throws an RLError when a tensor holds NaN/Inf (a diverged model), before any update uses it. */
export function checkFinite(t: tf.Tensor, what: string): void {
  const bad = Array.from(t.dataSync()).findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new RLError(`${what} contain a non-finite value (${t.dataSync()[bad]} at flat index ${bad}); the model or its inputs have diverged — lower the learning rate or restart from a checkpoint.`);
}

/** Rows of the inner mini-batches: `k` consecutive chunks of ⌈B/k⌉ (torch.chunk; fewer when B < k). */
export function innerBatches(batchSize: number, k: number): number[][] {
  const size = Math.ceil(batchSize / k);
  const out: number[][] = [];
  for (let start = 0; start < batchSize; start += size) {
    out.push(Array.from({ length: Math.min(size, batchSize - start) }, (_, j) => start + j));
  }
  return out;
}

/** The sub-trajectory of samples `rows` (new tensors; the caller disposes with disposeTrajectory). */
export function selectTrajectoryRows(t: Trajectory, rows: readonly number[]): Trajectory {
  const idx = tf.tensor1d(rows as number[], "int32");
  const pick = <R extends tf.Tensor>(x: R, axis: number): R => tf.gather(x, idx, axis) as R;
  const out: Trajectory = {
    zs: pick(t.zs, 1),
    means: pick(t.means, 1),
    stds: pick(t.stds, 1),
    logProbs: pick(t.logProbs, 1),
    mask: pick(t.mask, 0),
    y: t.y ? pick(t.y, 0) : null,
    timesteps: t.timesteps,
    active: t.active,
  };
  idx.dispose();
  return out;
}

/** Frees a trajectory's tensors (each once). */
export function disposeTrajectory(t: Trajectory): void {
  const ts = [t.zs, t.means, t.stds, t.logProbs, t.mask, t.y].filter((x): x is tf.Tensor => !!x && !x.isDisposed);
  tf.dispose([...new Set(ts)]);
}
