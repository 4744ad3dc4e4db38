/**
 * Gaussian diffusion over per-atom latents (ADM/DiT's `GaussianDiffusion`, Ho et al. 2020 with
 * the improved-DDPM learned variance of Nichol & Dhariwal 2021): the forward process
 * q(xₜ | x₀), the model's reverse step p(xₜ₋₁ | xₜ), its DDPM and DDIM samplers (each step
 * returning its mean and std, which GRPO needs to score trajectories) and the training loss.
 *
 *     const diffusion = createDiffusion({ timestepRespacing: "" });      // 1000 steps, learned range
 *     const { loss } = diffusion.trainingLosses(model, x0, t, { mask });
 *     const sampler = spacedDiffusion(diffusion, "ddim50");
 *     const { sample, zs, means, stds } = sampler.ddimSampleLoop(model, [B, N, 8], { eta: 1, mask, collectTrajectory: true });
 *
 * Latents are [B, N, C] (batch, atoms, channels); timesteps are indices into *this*
 * diffusion's steps, and `timestepMap` turns them into the original timesteps the model was
 * trained on (identity unless respaced). Schedules are float64; tensors are float32.
 *
 * The vb term at t = 0 uses ADM/DiT's discretised 256-bin decoder likelihood by default, as
 * the seed does, although latents are continuous and unbounded (entries beyond ±0.999 fall
 * into the edge bins); `decoderNll: "gaussian"` uses the continuous density instead. It is one
 * of T terms and trains only the variance, so the choice barely moves training.
 */
import { tf } from "../../nn/tf.ts";
import { DiffusionError } from "./errors.ts";
import { scheduleArrays, type ScheduleArrays } from "./schedule.ts";
import { gaussianKlFromMeanDiff, discretizedGaussianLogLikelihood, gaussianLogLikelihood, maskedMeanFlat, stopGradient } from "./likelihoods.ts";
import { checkLatents, checkMask, checkSameShape, gatherCoefficient, perSample, readTimesteps, resolveNoise, tidy } from "./tensors.ts";
import { sampleLoop, type SampleLoopOptions, type SampleLoopResult } from "./sampling.ts";
import type {
  DecoderNll, Denoiser, LossType, ModelCallOptions, ModelMeanType, ModelVarType, NoiseFn, StepMeanStd, StepSample, Timesteps,
} from "./types.ts";

export interface GaussianDiffusionOptions {
  /** βₜ for t = 0..T−1, each in (0, 1]. */
  betas: ArrayLike<number>;
  /** Default `epsilon` (the seed). */
  modelMeanType?: ModelMeanType;
  /** Default `learned_range` (the seed). */
  modelVarType?: ModelVarType;
  /** Default `rescaled_mse` (equal to `mse` at T = 1000). */
  lossType?: LossType;
  /** Likelihood of the t = 0 vb term; default `discretized` (ADM/DiT, the seed). */
  decoderNll?: DecoderNll;
  /** Original timestep of each step (respacing); default the identity. */
  timestepMap?: ArrayLike<number>;
}

/** The model's reverse-step distribution and predictions at (xₜ, t); all [B, N, C]. */
export interface PMeanVariance {
  mean: tf.Tensor3D;
  variance: tf.Tensor3D;
  logVariance: tf.Tensor3D;
  predXstart: tf.Tensor3D;
  /** The noise estimate (the model's ε, or derived from its x₀ estimate). */
  eps: tf.Tensor3D;
}

/** A Gaussian over latents: mean, variance and log-variance (variance broadcast to the latents' shape). */
export interface GaussianMoments {
  mean: tf.Tensor3D;
  variance: tf.Tensor3D;
  logVariance: tf.Tensor3D;
}

/** Per-sample loss terms [B]; `mse` absent for KL losses, `vb` absent for fixed variance with MSE. */
export interface TrainingLosses {
  loss: tf.Tensor1D;
  mse?: tf.Tensor1D;
  vb?: tf.Tensor1D;
}

export interface TrainingLossOptions extends ModelCallOptions {
  /** The ε of q(xₜ | x₀): a tensor [B, N, C] or a generator; default unseeded normal. */
  noise?: tf.Tensor | NoiseFn;
}

export interface StepOptions extends ModelCallOptions {
  /** Noise for the sample: a tensor [B, N, C] or a generator; default unseeded normal. */
  noise?: tf.Tensor | NoiseFn;
}

export interface DdimOptions extends ModelCallOptions {
  /** 0 = deterministic DDIM, 1 = DDPM-like variance; in [0, 1] (default 0, as ADM). */
  eta?: number;
}

/** The model's outputs split and turned into x₀ and ε estimates. */
interface Predictions {
  varValues: tf.Tensor3D | null;
  predXstart: tf.Tensor3D;
  eps: tf.Tensor3D;
}

const LN2 = Math.log(2);

export class GaussianDiffusion {
  readonly numTimesteps: number;
  readonly modelMeanType: ModelMeanType;
  readonly modelVarType: ModelVarType;
  readonly lossType: LossType;
  readonly decoderNll: DecoderNll;
  /** Original timestep of each step; what the model sees. */
  readonly timestepMap: Int32Array;
  /** All float64 per-timestep coefficients. */
  readonly schedule: ScheduleArrays;
  /** log of the `fixed_large` variance: βₜ, with β̃₁ at t = 0 (a better decoder variance than β₀). */
  private readonly fixedLargeLogVariance: Float64Array;

  constructor(options: GaussianDiffusionOptions) {
    this.schedule = scheduleArrays(options.betas);
    this.numTimesteps = this.schedule.betas.length;
    this.modelMeanType = checkChoice(options.modelMeanType ?? "epsilon", ["epsilon", "start_x"], "modelMeanType");
    this.modelVarType = checkChoice(options.modelVarType ?? "learned_range", ["learned_range", "learned", "fixed_small", "fixed_large"], "modelVarType");
    this.lossType = checkChoice(options.lossType ?? "rescaled_mse", ["mse", "rescaled_mse", "kl", "rescaled_kl"], "lossType");
    this.decoderNll = checkChoice(options.decoderNll ?? "discretized", ["discretized", "gaussian"], "decoderNll");
    this.timestepMap = checkTimestepMap(options.timestepMap, this.numTimesteps);
    const { betas, posteriorVariance } = this.schedule;
    this.fixedLargeLogVariance = Float64Array.from(betas, (b, i) => Math.log(i === 0 && betas.length > 1 ? posteriorVariance[1] : b));
  }

  /** The options this diffusion was built with (for respacing and configs). */
  get options(): Required<GaussianDiffusionOptions> {
    const { modelMeanType, modelVarType, lossType, decoderNll, timestepMap } = this;
    return { betas: this.schedule.betas, modelMeanType, modelVarType, lossType, decoderNll, timestepMap };
  }

  get betas(): Float64Array {
    return this.schedule.betas;
  }

  get alphasCumprod(): Float64Array {
    return this.schedule.alphasCumprod;
  }

  /** Whether the model outputs 2C channels (ε and the variance values). */
  get learnsSigma(): boolean {
    return this.modelVarType === "learned_range" || this.modelVarType === "learned";
  }

  /** Step indices of a batch, validated (a Tensor1D is read back). */
  timestepIndices(t: Timesteps, batch: number): Int32Array {
    return readTimesteps(t, batch, this.numTimesteps);
  }

  /** The model's timesteps [B] int32 for step indices (through `timestepMap`). */
  modelTimesteps(idx: Int32Array): tf.Tensor1D {
    return tf.tensor1d(Int32Array.from(idx, (i) => this.timestepMap[i]), "int32");
  }

  // --- forward process -------------------------------------------------------------------

  /** q(xₜ | x₀) = N(√ᾱₜ·x₀, (1 − ᾱₜ)·I). */
  qMeanVariance(x0: tf.Tensor3D, t: Timesteps): GaussianMoments {
    const idx = this.timestepIndices(t, checkLatents(x0, "x0").shape[0]);
    const s = this.schedule;
    return tidy(() => ({
      mean: tf.mul(gatherCoefficient(s.sqrtAlphasCumprod, idx), x0) as tf.Tensor3D,
      variance: tf.broadcastTo(gatherCoefficient(s.alphasCumprod.map((a) => 1 - a), idx), x0.shape) as tf.Tensor3D,
      logVariance: tf.broadcastTo(gatherCoefficient(s.logOneMinusAlphasCumprod, idx), x0.shape) as tf.Tensor3D,
    }));
  }

  /** A draw from q(xₜ | x₀): √ᾱₜ·x₀ + √(1 − ᾱₜ)·noise. */
  qSample(x0: tf.Tensor3D, t: Timesteps, noise: tf.Tensor): tf.Tensor3D {
    const idx = this.timestepIndices(t, checkLatents(x0, "x0").shape[0]);
    checkSameShape(noise.shape, x0.shape, "noise");
    const s = this.schedule;
    return tf.tidy(() =>
      tf.add(tf.mul(gatherCoefficient(s.sqrtAlphasCumprod, idx), x0), tf.mul(gatherCoefficient(s.sqrtOneMinusAlphasCumprod, idx), noise)),
    ) as tf.Tensor3D;
  }

  /** q(xₜ₋₁ | xₜ, x₀) = N(c₁ₜ·x₀ + c₂ₜ·xₜ, β̃ₜ) (log-variance clipped at t = 0). */
  qPosteriorMeanVariance(x0: tf.Tensor3D, xt: tf.Tensor3D, t: Timesteps): GaussianMoments {
    checkSameShape(xt.shape, checkLatents(x0, "x0").shape, "x_t");
    const idx = this.timestepIndices(t, x0.shape[0]);
    const s = this.schedule;
    return tidy(() => ({
      mean: this.posteriorMean(x0, xt, idx),
      variance: tf.broadcastTo(gatherCoefficient(s.posteriorVariance, idx), x0.shape) as tf.Tensor3D,
      logVariance: tf.broadcastTo(gatherCoefficient(s.posteriorLogVarianceClipped, idx), x0.shape) as tf.Tensor3D,
    }));
  }

  private posteriorMean(x0: tf.Tensor3D, xt: tf.Tensor3D, idx: Int32Array): tf.Tensor3D {
    const s = this.schedule;
    return tf.tidy(() =>
      tf.add(tf.mul(gatherCoefficient(s.posteriorMeanCoef1, idx), x0), tf.mul(gatherCoefficient(s.posteriorMeanCoef2, idx), xt)),
    ) as tf.Tensor3D;
  }

  /** x₀ = xₜ/√ᾱₜ − √(1/ᾱₜ − 1)·ε. */
  predictXstartFromEps(xt: tf.Tensor3D, t: Timesteps, eps: tf.Tensor3D): tf.Tensor3D {
    const idx = this.timestepIndices(t, xt.shape[0]);
    const s = this.schedule;
    return tf.tidy(() =>
      tf.sub(tf.mul(gatherCoefficient(s.sqrtRecipAlphasCumprod, idx), xt), tf.mul(gatherCoefficient(s.sqrtRecipm1AlphasCumprod, idx), eps)),
    ) as tf.Tensor3D;
  }

  /** ε = (xₜ/√ᾱₜ − x₀)/√(1/ᾱₜ − 1). */
  predictEpsFromXstart(xt: tf.Tensor3D, t: Timesteps, x0: tf.Tensor3D): tf.Tensor3D {
    const idx = this.timestepIndices(t, xt.shape[0]);
    const s = this.schedule;
    return tf.tidy(() =>
      tf.div(tf.sub(tf.mul(gatherCoefficient(s.sqrtRecipAlphasCumprod, idx), xt), x0), gatherCoefficient(s.sqrtRecipm1AlphasCumprod, idx)),
    ) as tf.Tensor3D;
  }

  // --- the model's reverse step ----------------------------------------------------------

  /**
   * Runs the model on (xₜ, original t) with `mask` and `modelKwargs` as extra inputs and
   * checks its output is [B, N, 2C] (learned variance) or [B, N, C].
   */
  callModel(model: Denoiser, x: tf.Tensor3D, idx: Int32Array, options: ModelCallOptions = {}): tf.Tensor3D {
    checkMask(options.mask, x);
    const extra = options.mask ? { ...options.modelKwargs, mask: options.mask } : { ...options.modelKwargs };
    return tf.tidy(() => {
      const output = model(x, this.modelTimesteps(idx), extra);
      const [B, N, C] = x.shape;
      const expected = [B, N, this.learnsSigma ? 2 * C : C];
      if (output.rank !== 3 || output.shape.some((d, i) => d !== expected[i])) {
        throw new DiffusionError(
          `the denoiser returned shape [${output.shape}] for latents [${x.shape}]; with modelVarType ` +
            `"${this.modelVarType}" it must return [${expected}]${this.learnsSigma ? " (ε then the variance values)" : ""}.`,
        );
      }
      return output;
    });
  }

  /** Splits the output and derives x₀ and ε estimates (ε from the model when it is exact). */
  private predictions(output: tf.Tensor3D, x: tf.Tensor3D, idx: Int32Array, clipDenoised: boolean): Predictions {
    return tidy(() => {
      const [pred, varValues] = this.learnsSigma ? (tf.split(output, 2, 2) as [tf.Tensor3D, tf.Tensor3D]) : [output, null];
      let predXstart = this.modelMeanType === "epsilon" ? this.predictXstartFromEps(x, idx, pred) : pred;
      if (clipDenoised) predXstart = tf.clipByValue(predXstart, -1, 1);
      // Without clipping the model's ε is exact; re-deriving it from x₀ (as ADM does) only
      // adds float32 cancellation near t = 0, where √(1/ᾱ − 1) is tiny.
      const eps = this.modelMeanType === "epsilon" && !clipDenoised ? pred : this.predictEpsFromXstart(x, idx, predXstart);
      return { varValues, predXstart, eps };
    });
  }

  /** log-variance [B, N, C] of the reverse step for the model's variance values. */
  private reverseLogVariance(varValues: tf.Tensor3D | null, shape: [number, number, number], idx: Int32Array): tf.Tensor3D {
    const s = this.schedule;
    return tf.tidy(() => {
      switch (this.modelVarType) {
        case "learned":
          return varValues!;
        case "learned_range": {
          const minLog = gatherCoefficient(s.posteriorLogVarianceClipped, idx);
          const maxLog = gatherCoefficient(s.logBetas, idx);
          const frac = tf.div(tf.add(varValues!, 1), 2);
          return tf.add(tf.mul(frac, maxLog), tf.mul(tf.sub(1, frac), minLog)) as tf.Tensor3D;
        }
        case "fixed_small":
          return tf.broadcastTo(gatherCoefficient(s.posteriorLogVarianceClipped, idx), shape) as tf.Tensor3D;
        case "fixed_large":
          return tf.broadcastTo(gatherCoefficient(this.fixedLargeLogVariance, idx), shape) as tf.Tensor3D;
      }
    });
  }

  /** p(xₜ₋₁ | xₜ) from a model output already computed (used with a frozen output in the loss). */
  pMeanVarianceFromOutput(output: tf.Tensor3D, x: tf.Tensor3D, t: Timesteps, clipDenoised = false): PMeanVariance {
    const idx = this.timestepIndices(t, x.shape[0]);
    return tidy(() => {
      const { varValues, predXstart, eps } = this.predictions(output, x, idx, clipDenoised);
      const logVariance = this.reverseLogVariance(varValues, x.shape, idx);
      const mean = this.posteriorMean(predXstart, x, idx);
      return { mean, variance: tf.exp(logVariance) as tf.Tensor3D, logVariance, predXstart, eps };
    });
  }

  /** The model's reverse step p(xₜ₋₁ | xₜ) and its x₀ / ε estimates (ADM's `p_mean_variance`). */
  pMeanVariance(model: Denoiser, x: tf.Tensor3D, t: Timesteps, options: ModelCallOptions = {}): PMeanVariance {
    const idx = this.timestepIndices(t, checkLatents(x, "x").shape[0]);
    return tidy(() => this.pMeanVarianceFromOutput(this.callModel(model, x, idx, options), x, idx, options.clipDenoised ?? false));
  }

  // --- one reverse step, mean and std -------------------------------------------------------

  /**
   * DDPM step xₜ → xₜ₋₁ ~ N(mean, std²) with the current model, differentiable (GRPO replays
   * it): std = exp(½·log-variance), and 0 at t = 0, where the sampler returns the mean.
   */
  pStepMeanStd(model: Denoiser, x: tf.Tensor3D, t: Timesteps, options: ModelCallOptions = {}): StepMeanStd {
    const idx = this.timestepIndices(t, checkLatents(x, "x").shape[0]);
    return tidy(() => {
      const out = this.pMeanVariance(model, x, idx, options);
      const nonzero = perSample(Array.from(idx, (i) => (i === 0 ? 0 : 1)));
      const std = tf.mul(tf.exp(tf.mul(0.5, out.logVariance)), nonzero) as tf.Tensor3D;
      return { mean: out.mean, std, predXstart: out.predXstart };
    });
  }

  /** One DDPM step: {sample, mean, std, predXstart}; noise is drawn only where std can be non-zero. */
  pSample(model: Denoiser, x: tf.Tensor3D, t: Timesteps, options: StepOptions = {}): StepSample {
    const idx = this.timestepIndices(t, checkLatents(x, "x").shape[0]);
    return tidy(() => addNoise(this.pStepMeanStd(model, x, idx, options), idx.some((i) => i > 0), options.noise));
  }

  /**
   * DDIM step (Song et al. 2021, eq. 12) with the current model, differentiable:
   *   σ = η·√((1 − ᾱₜ₋₁)/(1 − ᾱₜ))·√(1 − ᾱₜ/ᾱₜ₋₁),
   *   mean = √ᾱₜ₋₁·x̂₀ + √(1 − ᾱₜ₋₁ − σ²)·ε̂,  std = σ (exactly 0 at t = 0, where ᾱ₋₁ = 1).
   */
  ddimStepMeanStd(model: Denoiser, x: tf.Tensor3D, t: Timesteps, options: DdimOptions = {}): StepMeanStd {
    const idx = this.timestepIndices(t, checkLatents(x, "x").shape[0]);
    const { sigma, xstartCoef, epsCoef } = this.ddimCoefficients(idx, options.eta ?? 0);
    return tidy(() => {
      const output = this.callModel(model, x, idx, options);
      const { predXstart, eps } = this.predictions(output, x, idx, options.clipDenoised ?? false);
      const mean = tf.add(tf.mul(perSample(xstartCoef), predXstart), tf.mul(perSample(epsCoef), eps)) as tf.Tensor3D;
      const std = tf.broadcastTo(perSample(sigma), x.shape) as tf.Tensor3D;
      return { mean, std, predXstart };
    });
  }

  /** One DDIM step: {sample, mean, std, predXstart}. */
  ddimSample(model: Denoiser, x: tf.Tensor3D, t: Timesteps, options: DdimOptions & StepOptions = {}): StepSample {
    const idx = this.timestepIndices(t, checkLatents(x, "x").shape[0]);
    const eta = options.eta ?? 0;
    return tidy(() => addNoise(this.ddimStepMeanStd(model, x, idx, options), eta > 0 && idx.some((i) => i > 0), options.noise));
  }

  /** DDIM's per-sample σ, √ᾱₜ₋₁ and √(1 − ᾱₜ₋₁ − σ²), in float64. */
  ddimCoefficients(idx: Int32Array, eta: number): { sigma: Float64Array; xstartCoef: Float64Array; epsCoef: Float64Array } {
    if (!Number.isFinite(eta) || eta < 0) throw new DiffusionError(`DDIM eta = ${eta}; use a value in [0, 1] (1 = stochastic, 0 = deterministic).`);
    const { alphasCumprod: ac, alphasCumprodPrev: acPrev } = this.schedule;
    const sigma = Float64Array.from(idx, (i) => eta * Math.sqrt((1 - acPrev[i]) / (1 - ac[i])) * Math.sqrt(1 - ac[i] / acPrev[i]));
    const epsCoef = Float64Array.from(idx, (i, b) => {
      const v = 1 - acPrev[i] - sigma[b] * sigma[b];
      if (v < -1e-12) throw new DiffusionError(`DDIM eta = ${eta} makes the variance exceed 1 − ᾱ at step ${i}; use eta ≤ 1.`);
      return Math.sqrt(Math.max(0, v));
    });
    return { sigma, xstartCoef: Float64Array.from(idx, (i) => Math.sqrt(acPrev[i])), epsCoef };
  }

  // --- sampling loops ---------------------------------------------------------------------

  /** Ancestral DDPM sampling from pure noise through every step of this diffusion. */
  pSampleLoop(model: Denoiser, shape: [number, number, number], options: SampleLoopOptions = {}): SampleLoopResult {
    return sampleLoop(this, "ddpm", model, shape, options);
  }

  /** DDIM sampling with `eta` through every step of this diffusion (respace it first for fewer steps). */
  ddimSampleLoop(model: Denoiser, shape: [number, number, number], options: SampleLoopOptions = {}): SampleLoopResult {
    return sampleLoop(this, "ddim", model, shape, options);
  }

  // --- training ---------------------------------------------------------------------------

  /**
   * The variational-bound term Lₜ per sample in bits [B]: KL(q(xₜ₋₁|xₜ,x₀) ‖ p(xₜ₋₁|xₜ)) for
   * t > 0, the decoder's −log p(x₀|x₁) at t = 0; masked mean over real atoms' entries.
   */
  vbTermsBpd(output: tf.Tensor3D, x0: tf.Tensor3D, xt: tf.Tensor3D, t: Timesteps, mask?: tf.Tensor2D): tf.Tensor1D {
    const idx = this.timestepIndices(t, x0.shape[0]);
    return tf.tidy(() => {
      const out = this.pMeanVarianceFromOutput(output, xt, idx, false);
      // Both posterior means share c₂·xₜ, so their difference is c₁·(x₀ − x̂₀): no cancellation.
      const meanDiff = tf.mul(gatherCoefficient(this.schedule.posteriorMeanCoef1, idx), tf.sub(x0, out.predXstart));
      const trueLogVar = gatherCoefficient(this.schedule.posteriorLogVarianceClipped, idx);
      const kl = maskedMeanFlat(gaussianKlFromMeanDiff(meanDiff, trueLogVar, out.logVariance) as tf.Tensor3D, mask);
      const logLik = this.decoderNll === "discretized" ? discretizedGaussianLogLikelihood : gaussianLogLikelihood;
      const nll = maskedMeanFlat(tf.neg(logLik(x0, out.mean, tf.mul(0.5, out.logVariance))) as tf.Tensor3D, mask);
      const atZero = tf.tensor1d(Array.from(idx, (i) => i === 0), "bool");
      return tf.div(tf.where(atZero, nll, kl), LN2) as tf.Tensor1D;
    });
  }

  /**
   * Training loss per sample for x₀ at steps t (ADM's `training_losses`): noise x₀ to xₜ, run
   * the model, and return MSE on ε (or x₀) plus, for learned variance, the vb term computed
   * with the predicted mean frozen (stop-gradient: vb trains only the variance), rescaled by
   * T/1000 for `rescaled_mse`. Differentiable; call inside `tf.variableGrads`.
   */
  trainingLosses(model: Denoiser, x0: tf.Tensor3D, t: Timesteps, options: TrainingLossOptions = {}): TrainingLosses {
    const idx = this.timestepIndices(t, checkLatents(x0, "x0").shape[0]);
    checkMask(options.mask, x0);
    return tidy(() => {
      const noise = resolveNoise(options.noise, x0.shape);
      const xt = this.qSample(x0, idx, noise);
      const output = this.callModel(model, xt, idx, options);
      if (this.lossType === "kl" || this.lossType === "rescaled_kl") {
        const vb = this.vbTermsBpd(output, x0, xt, idx, options.mask);
        return { loss: this.lossType === "kl" ? vb : (tf.mul(vb, this.numTimesteps) as tf.Tensor1D), vb };
      }
      const [pred, varValues] = this.learnsSigma ? (tf.split(output, 2, 2) as [tf.Tensor3D, tf.Tensor3D]) : [output, null];
      const target = this.modelMeanType === "epsilon" ? noise : x0;
      const mse = maskedMeanFlat(tf.squaredDifference(target, pred) as tf.Tensor3D, options.mask);
      if (!varValues) return { loss: mse, mse };
      const frozen = tf.concat([stopGradient(pred), varValues], 2) as tf.Tensor3D;
      let vb = this.vbTermsBpd(frozen, x0, xt, idx, options.mask);
      if (this.lossType === "rescaled_mse") vb = tf.mul(vb, this.numTimesteps / 1000) as tf.Tensor1D;
      return { loss: tf.add(mse, vb) as tf.Tensor1D, mse, vb };
    });
  }

  /** Uniformly random step indices for a training batch, from a uniform [0, 1) source (e.g. `rng.uniform`). */
  sampleTimesteps(batch: number, uniform: () => number): Int32Array {
    return Int32Array.from({ length: batch }, () => Math.min(this.numTimesteps - 1, Math.floor(uniform() * this.numTimesteps)));
  }
}

/** sample = mean + std·noise (the mean itself when no sample has noise). */
function addNoise(step: StepMeanStd, anyNoise: boolean, noise: tf.Tensor | NoiseFn | undefined): StepSample {
  return tidy(() => {
    const sample = anyNoise ? (tf.add(step.mean, tf.mul(step.std, resolveNoise(noise, step.mean.shape))) as tf.Tensor3D) : step.mean.clone();
    return { ...step, sample };
  });
}

function checkChoice<T extends string>(value: T, allowed: readonly T[], key: string): T {
  if (!allowed.includes(value)) throw new DiffusionError(`unknown ${key} "${String(value)}"; use one of ${allowed.join(", ")}.`);
  return value;
}

function checkTimestepMap(map: ArrayLike<number> | undefined, numTimesteps: number): Int32Array {
  if (map === undefined) return Int32Array.from({ length: numTimesteps }, (_, i) => i);
  if (map.length !== numTimesteps) {
    throw new DiffusionError(`timestepMap has ${map.length} entries for ${numTimesteps} betas; give one original timestep per step.`);
  }
  const out = Int32Array.from(Array.from(map, Number));
  for (let i = 0; i < out.length; i++) {
    if (out[i] !== Number(map[i]) || out[i] < 0 || (i > 0 && out[i] <= out[i - 1])) {
      throw new DiffusionError(`timestepMap[${i}] = ${map[i]}: the map must be increasing non-negative integers.`);
    }
  }
  return out;
}
