/**
 * Shared types of the diffusion maths: the denoiser signature, noise generators, timestep
 * arguments and the per-step results the samplers return.
 */
import type { tf } from "../../nn/tf.ts";

/**
 * Extra denoiser inputs (ADM's `model_kwargs`): the atom mask, a condition `y`, anything the
 * model needs. The diffusion adds `mask` when one is given to it.
 */
export interface DenoiserExtra {
  /** [B, N] float, 1 for a real atom, 0 for padding. */
  mask?: tf.Tensor2D;
  [key: string]: unknown;
}

/**
 * The denoiser: latents xₜ [B, N, C] and the *original* (un-respaced) timesteps [B] int32 →
 * [B, N, 2C] (ε then the variance interpolation v, for learned variance) or [B, N, C].
 */
export type Denoiser = (x: tf.Tensor3D, t: tf.Tensor1D, extra: DenoiserExtra) => tf.Tensor3D;

/**
 * A source of standard normal noise of a given shape, e.g. `(s) => rng.tensorNormal(s)` with
 * the run's seeded `Rng` (src/nn/rng.ts). The diffusion disposes what it returns.
 */
export type NoiseFn = (shape: number[]) => tf.Tensor;

/** Timesteps of a batch: one index per sample, as a Tensor1D or plain numbers. */
export type Timesteps = tf.Tensor1D | ArrayLike<number>;

/** What the model predicts: the noise ε (the seed), or x₀ directly. */
export type ModelMeanType = "epsilon" | "start_x";

/**
 * The reverse-step variance: `learned_range` interpolates log β and log β̃ with the model's v
 * (the seed); `learned` takes the model's output as the log-variance; `fixed_small` uses β̃ₜ;
 * `fixed_large` uses βₜ (with β̃₁ at t = 0).
 */
export type ModelVarType = "learned_range" | "learned" | "fixed_small" | "fixed_large";

/**
 * `mse` / `rescaled_mse`: MSE on the prediction, plus the variational bound term for learned
 * variance (rescaled: × T/1000). `kl` / `rescaled_kl`: the variational bound alone (rescaled: × T).
 */
export type LossType = "mse" | "rescaled_mse" | "kl" | "rescaled_kl";

/**
 * Likelihood of x₀ under the last reverse step (the vb term at t = 0): ADM/DiT's
 * `discretized` 256-bin likelihood for data in [−1, 1] (what the seed trains with), or the
 * continuous `gaussian` density, which suits unbounded latents (in bits, can be negative).
 */
export type DecoderNll = "discretized" | "gaussian";

/** Options shared by every call that evaluates the model. */
export interface ModelCallOptions {
  /** [B, N] atom mask; passed to the model as `extra.mask` and used for masked loss means. */
  mask?: tf.Tensor2D;
  /** Clamp the predicted x₀ to [−1, 1] (ADM's `clip_denoised`; default false, latents are unbounded). */
  clipDenoised?: boolean;
  /** Further model inputs (condition `y`, ...). */
  modelKwargs?: Record<string, unknown>;
}

/** One reverse step's Gaussian: xₜ₋₁ ~ N(mean, std²), elementwise; shapes [B, N, C]. */
export interface StepMeanStd {
  mean: tf.Tensor3D;
  std: tf.Tensor3D;
  /** The model's x₀ estimate at this step. */
  predXstart: tf.Tensor3D;
}

/** A sampled reverse step: `sample` = mean + std·noise. */
export interface StepSample extends StepMeanStd {
  sample: tf.Tensor3D;
}
