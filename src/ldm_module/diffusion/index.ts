/**
 * Gaussian diffusion maths of the LDM: schedules, the forward process, DDPM/DDIM reverse
 * steps returning mean and std, sampling loops with trajectories, the improved-DDPM training
 * loss, timestep respacing and classifier-free guidance.
 */
export { DiffusionError } from "./errors.ts";
export {
  linearBetaSchedule,
  cosineBetaSchedule,
  betasForAlphaBar,
  namedBetaSchedule,
  scheduleArrays,
  REFERENCE_NUM_TIMESTEPS,
  type BetaScheduleName,
  type ScheduleArrays,
} from "./schedule.ts";
export {
  GaussianDiffusion,
  type GaussianDiffusionOptions,
  type PMeanVariance,
  type GaussianMoments,
  type TrainingLosses,
  type TrainingLossOptions,
  type StepOptions,
  type DdimOptions,
} from "./gaussian_diffusion.ts";
export { sampleLoop, type SampleLoopOptions, type SampleLoopResult } from "./sampling.ts";
export { spaceTimesteps, spacedDiffusion, type RespacingSpec } from "./respace.ts";
export { createDiffusion, type CreateDiffusionOptions } from "./create.ts";
export { cfgModel, type CfgOptions } from "./guidance.ts";
export {
  normalKl,
  gaussianKlFromMeanDiff,
  approxStandardNormalCdf,
  discretizedGaussianLogLikelihood,
  gaussianLogLikelihood,
  maskedMeanFlat,
  stopGradient,
} from "./likelihoods.ts";
export { defaultNoise, fullTimesteps } from "./tensors.ts";
export type {
  Denoiser,
  DenoiserExtra,
  NoiseFn,
  Timesteps,
  ModelMeanType,
  ModelVarType,
  LossType,
  DecoderNll,
  ModelCallOptions,
  StepMeanStd,
  StepSample,
} from "./types.ts";
