/**
 * Builds a diffusion from the seed's flags (DiT's `create_diffusion`): the same keys, in
 * camelCase, with the same defaults, so an LDM config maps onto it one to one.
 */
import { GaussianDiffusion } from "./gaussian_diffusion.ts";
import { spacedDiffusion, type RespacingSpec } from "./respace.ts";
import { namedBetaSchedule, type BetaScheduleName } from "./schedule.ts";
import type { DecoderNll, LossType } from "./types.ts";

export interface CreateDiffusionOptions {
  /** `timestep_respacing`: "" (all steps, default), "ddim50", "250", ... */
  timestepRespacing?: RespacingSpec;
  /** `noise_schedule` (default "linear"). */
  noiseSchedule?: BetaScheduleName;
  /** `use_kl`: train on the rescaled variational bound alone (default false). */
  useKl?: boolean;
  /** `sigma_small`: fixed β̃ instead of β when the variance is not learned (default false). */
  sigmaSmall?: boolean;
  /** `predict_xstart`: the model predicts x₀ instead of ε (default false). */
  predictXstart?: boolean;
  /** `learn_sigma`: learned-range variance, model outputs 2C channels (default true). */
  learnSigma?: boolean;
  /** `rescale_learned_sigmas`: scale the vb term by T/1000 (default false, as DiT; equal at T = 1000). */
  rescaleLearnedSigmas?: boolean;
  /** `diffusion_steps` (default 1000). */
  diffusionSteps?: number;
  /** Our addition: the t = 0 likelihood (default "discretized", as the seed). */
  decoderNll?: DecoderNll;
}

/** DiT's `create_diffusion`: a (possibly respaced) GaussianDiffusion from the seed's flags. */
export function createDiffusion(options: CreateDiffusionOptions = {}): GaussianDiffusion {
  const steps = options.diffusionSteps ?? 1000;
  const lossType: LossType = options.useKl ? "rescaled_kl" : options.rescaleLearnedSigmas ? "rescaled_mse" : "mse";
  const learnSigma = options.learnSigma ?? true;
  const base = new GaussianDiffusion({
    betas: namedBetaSchedule(options.noiseSchedule ?? "linear", steps),
    modelMeanType: options.predictXstart ? "start_x" : "epsilon",
    modelVarType: learnSigma ? "learned_range" : options.sigmaSmall ? "fixed_small" : "fixed_large",
    lossType,
    decoderNll: options.decoderNll ?? "discretized",
  });
  const respacing = options.timestepRespacing ?? "";
  return respacing === "" ? base : spacedDiffusion(base, respacing);
}
