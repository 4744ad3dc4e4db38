/**
 * Noise schedules of the Gaussian diffusion, in float64 (plain `Float64Array`s computed in
 * JavaScript, like ADM's numpy arrays), and every per-timestep coefficient the diffusion
 * needs, derived once from the betas.
 *
 * Notation (Ho et al. 2020; Nichol & Dhariwal 2021, "improved DDPM"):
 *   αₜ = 1 − βₜ,   ᾱₜ = ∏_{s≤t} αₛ,   q(xₜ | x₀) = N(√ᾱₜ·x₀, (1 − ᾱₜ)·I),
 *   q(xₜ₋₁ | xₜ, x₀) = N(c₁ₜ·x₀ + c₂ₜ·xₜ, β̃ₜ·I) with
 *   β̃ₜ = βₜ(1 − ᾱₜ₋₁)/(1 − ᾱₜ),  c₁ₜ = βₜ√ᾱₜ₋₁/(1 − ᾱₜ),  c₂ₜ = (1 − ᾱₜ₋₁)√αₜ/(1 − ᾱₜ).
 * Timesteps are 0-based: index 0 is the least noisy step, and ᾱ₋₁ = 1.
 */
import { DiffusionError } from "./errors.ts";

/** A named beta schedule, as in ADM's `get_named_beta_schedule`. */
export type BetaScheduleName = "linear" | "cosine";

/** Number of timesteps ADM's schedule constants were tuned for; the linear schedule scales by 1000/T. */
export const REFERENCE_NUM_TIMESTEPS = 1000;

/**
 * The linear schedule of DDPM: βₜ evenly spaced from 1e-4 to 0.02, both scaled by 1000/T so
 * that any T gives (roughly) the same total noise as the original 1000-step schedule.
 * Bit-for-bit numpy's `linspace` (i·step + start, with the last value set to the end).
 */
export function linearBetaSchedule(numTimesteps: number): Float64Array {
  checkNumTimesteps(numTimesteps, "linearBetaSchedule");
  const scale = REFERENCE_NUM_TIMESTEPS / numTimesteps;
  const start = scale * 0.0001;
  const end = scale * 0.02;
  const betas = new Float64Array(numTimesteps);
  if (numTimesteps === 1) {
    betas[0] = start;
    return betas;
  }
  const step = (end - start) / (numTimesteps - 1);
  for (let i = 0; i < numTimesteps; i++) betas[i] = i * step + start;
  betas[numTimesteps - 1] = end;
  return checkBetas(betas, "linearBetaSchedule");
}

/**
 * Betas that realise a given ᾱ(τ) curve on τ ∈ [0, 1]: βᵢ = min(1 − ᾱ((i+1)/T)/ᾱ(i/T), maxBeta).
 * `maxBeta` < 1 keeps the last steps from destroying the signal in one go.
 */
export function betasForAlphaBar(
  numTimesteps: number,
  alphaBar: (tau: number) => number,
  maxBeta = 0.999,
): Float64Array {
  checkNumTimesteps(numTimesteps, "betasForAlphaBar");
  const betas = new Float64Array(numTimesteps);
  for (let i = 0; i < numTimesteps; i++) {
    const t1 = i / numTimesteps;
    const t2 = (i + 1) / numTimesteps;
    betas[i] = Math.min(1 - alphaBar(t2) / alphaBar(t1), maxBeta);
  }
  return checkBetas(betas, "betasForAlphaBar");
}

/** The cosine schedule of improved DDPM: ᾱ(τ) = cos²((τ + 0.008)/1.008 · π/2). */
export function cosineBetaSchedule(numTimesteps: number): Float64Array {
  return betasForAlphaBar(numTimesteps, (tau) => Math.cos(((tau + 0.008) / 1.008) * (Math.PI / 2)) ** 2);
}

/** A schedule by name (`noise_schedule` in the seed's configs). */
export function namedBetaSchedule(name: BetaScheduleName, numTimesteps: number): Float64Array {
  if (name === "linear") return linearBetaSchedule(numTimesteps);
  if (name === "cosine") return cosineBetaSchedule(numTimesteps);
  throw new DiffusionError(`unknown noise_schedule "${String(name)}"; use "linear" or "cosine".`);
}

/** Every per-timestep coefficient of a diffusion, each a float64 array of length T. */
export interface ScheduleArrays {
  betas: Float64Array;
  logBetas: Float64Array;
  alphasCumprod: Float64Array;
  /** ᾱₜ₋₁, with ᾱ₋₁ = 1. */
  alphasCumprodPrev: Float64Array;
  /** ᾱₜ₊₁, with ᾱ_T = 0. */
  alphasCumprodNext: Float64Array;
  sqrtAlphasCumprod: Float64Array;
  sqrtOneMinusAlphasCumprod: Float64Array;
  logOneMinusAlphasCumprod: Float64Array;
  /** 1/√ᾱₜ: x₀ = xₜ/√ᾱₜ − √(1/ᾱₜ − 1)·ε. */
  sqrtRecipAlphasCumprod: Float64Array;
  /** √(1/ᾱₜ − 1). */
  sqrtRecipm1AlphasCumprod: Float64Array;
  /** β̃ₜ, the variance of q(xₜ₋₁ | xₜ, x₀); 0 at t = 0. */
  posteriorVariance: Float64Array;
  /** log β̃ₜ with β̃₀ replaced by β̃₁ (β̃₀ = 0 has no logarithm). */
  posteriorLogVarianceClipped: Float64Array;
  posteriorMeanCoef1: Float64Array;
  posteriorMeanCoef2: Float64Array;
}

/** Derives all coefficients from validated betas (same formulas and order of operations as ADM). */
export function scheduleArrays(betasIn: ArrayLike<number>): ScheduleArrays {
  const betas = checkBetas(Float64Array.from(betasIn), "GaussianDiffusion betas");
  const T = betas.length;
  const map = (f: (i: number) => number): Float64Array => Float64Array.from({ length: T }, (_, i) => f(i));
  const alphasCumprod = new Float64Array(T);
  let running = 1;
  for (let i = 0; i < T; i++) {
    running *= 1 - betas[i];
    alphasCumprod[i] = running;
  }
  const ac = alphasCumprod;
  const acPrev = map((i) => (i === 0 ? 1 : ac[i - 1]));
  const posteriorVariance = map((i) => (betas[i] * (1 - acPrev[i])) / (1 - ac[i]));
  return {
    betas,
    logBetas: map((i) => Math.log(betas[i])),
    alphasCumprod,
    alphasCumprodPrev: acPrev,
    alphasCumprodNext: map((i) => (i === T - 1 ? 0 : ac[i + 1])),
    sqrtAlphasCumprod: map((i) => Math.sqrt(ac[i])),
    sqrtOneMinusAlphasCumprod: map((i) => Math.sqrt(1 - ac[i])),
    logOneMinusAlphasCumprod: map((i) => Math.log(1 - ac[i])),
    sqrtRecipAlphasCumprod: map((i) => Math.sqrt(1 / ac[i])),
    sqrtRecipm1AlphasCumprod: map((i) => Math.sqrt(1 / ac[i] - 1)),
    posteriorVariance,
    posteriorLogVarianceClipped: clippedPosteriorLogVariance(posteriorVariance, betas),
    posteriorMeanCoef1: map((i) => (betas[i] * Math.sqrt(acPrev[i])) / (1 - ac[i])),
    posteriorMeanCoef2: map((i) => ((1 - acPrev[i]) * Math.sqrt(1 - betas[i])) / (1 - ac[i])),
  };
}

/**
 * log β̃ₜ with the t = 0 entry replaced by log β̃₁: β̃₀ is exactly 0 (x₀ is known given x₀).
 * With a single step there is no β̃₁; log β₀ stands in (the learned-range interpolation
 * then has a zero-width range, which is all one step allows).
 */
function clippedPosteriorLogVariance(posteriorVariance: Float64Array, betas: Float64Array): Float64Array {
  const out = Float64Array.from(posteriorVariance, (v) => Math.log(v));
  out[0] = posteriorVariance.length > 1 ? Math.log(posteriorVariance[1]) : Math.log(betas[0]);
  return out;
}

function checkNumTimesteps(numTimesteps: number, where: string): void {
  if (!Number.isInteger(numTimesteps) || numTimesteps < 1) {
    throw new DiffusionError(`${where}: diffusion_steps must be a positive integer, got ${numTimesteps} (the seed uses 1000).`);
  }
}

/** Betas must lie in (0, 1]: β = 0 makes ᾱ constant (log 0 in the coefficients), β > 1 makes αₜ negative. */
function checkBetas(betas: Float64Array, where: string): Float64Array {
  if (betas.length === 0) throw new DiffusionError(`${where}: the beta schedule is empty; pass at least one beta.`);
  for (let i = 0; i < betas.length; i++) {
    const b = betas[i];
    if (!(b > 0 && b <= 1)) {
      throw new DiffusionError(`${where}: beta[${i}] = ${b} is outside (0, 1]; every beta must be a probability > 0.`);
    }
  }
  return betas;
}
