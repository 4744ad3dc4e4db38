/**
 * The sampling loops: from noise x_T through every step of a diffusion to x₀, recording, when
 * asked, each step's input latents and the mean and std of its Gaussian, so that a policy
 * gradient method can score the trajectory: zs[i + 1] ~ N(means[i], stds[i]²).
 */
import { tf } from "../../nn/tf.ts";
import { ProgressBar } from "../../data/progress.ts";
import type { GaussianDiffusion } from "./gaussian_diffusion.ts";
import { cfgModel } from "./guidance.ts";
import { checkMask, checkSameShape, defaultNoise, fullTimesteps, resolveNoise } from "./tensors.ts";
import type { Denoiser, DenoiserExtra, ModelCallOptions, NoiseFn } from "./types.ts";

export interface SampleLoopOptions extends ModelCallOptions {
  /** DDIM's η (ignored by DDPM); default 0. */
  eta?: number;
  /**
   * Noise generator (default unseeded): called for x_T (unless `xT` is given), then once per
   * stochastic step, never for the last step or with DDIM eta = 0. Pass a seeded one, e.g.
   * `(s) => rng.tensorNormal(s)`, for reproducible runs.
   */
  noise?: NoiseFn;
  /** Start from these latents instead of drawing x_T (not disposed). */
  xT?: tf.Tensor3D;
  /** A progress bar on stderr (`true`) or a callback (stepsDone, totalSteps). */
  progress?: boolean | ((done: number, total: number) => void);
  /** Also return zs, means and stds of every step. */
  collectTrajectory?: boolean;
  /** Classifier-free guidance: strength and how to make the unconditional inputs. */
  cfg?: { scale: number; unconditional: (extra: DenoiserExtra) => DenoiserExtra };
}

export interface SampleLoopResult {
  /** The final latents x₀ [B, N, C]. */
  sample: tf.Tensor3D;
  /** [T + 1, B, N, C]: x_T first, the sample last (with `collectTrajectory`). */
  zs?: tf.Tensor4D;
  /** [T, B, N, C]: step i maps zs[i] to zs[i + 1] ~ N(means[i], stds[i]²). */
  means?: tf.Tensor4D;
  /** [T, B, N, C]; the last step's std is 0 (the sampler returns its mean there). */
  stds?: tf.Tensor4D;
  /** The step indices in sampling order (T − 1 down to 0). */
  timesteps: Int32Array;
  /** The original timesteps the model saw, in sampling order. */
  modelTimesteps: Int32Array;
}

type Sampler = "ddpm" | "ddim";

/**
 * Runs the reverse process over every step of `diffusion`; see `SampleLoopOptions`. Padded
 * atoms are sampled like real ones: the mask reaches only the model (and loss means), and
 * decoders and log-probabilities ignore the padded entries.
 */
export function sampleLoop(
  diffusion: GaussianDiffusion,
  sampler: Sampler,
  model: Denoiser,
  shape: [number, number, number],
  options: SampleLoopOptions = {},
): SampleLoopResult {
  const T = diffusion.numTimesteps;
  const draw = options.noise ?? defaultNoise;
  const guided = options.cfg ? cfgModel(model, options.cfg.scale, { unconditional: options.cfg.unconditional }) : model;
  const timesteps = Int32Array.from({ length: T }, (_, k) => T - 1 - k);
  const trajectory: { zs: tf.Tensor3D[]; means: tf.Tensor3D[]; stds: tf.Tensor3D[] } = { zs: [], means: [], stds: [] };
  let x = initialLatents(shape, options, draw);
  checkMask(options.mask, x);
  const report = progressReporter(options.progress, T);
  try {
    if (options.collectTrajectory) trajectory.zs.push(x);
    for (let k = 0; k < T; k++) {
      const step = reverseStep(diffusion, sampler, guided, x, timesteps[k], options, draw);
      if (options.collectTrajectory) {
        trajectory.means.push(step.mean);
        trajectory.stds.push(step.std);
        trajectory.zs.push(step.sample);
      } else {
        tf.dispose([step.mean, step.std, x]);
      }
      x = step.sample;
      report(k + 1);
    }
  } catch (e) {
    tf.dispose([x, ...trajectory.zs, ...trajectory.means, ...trajectory.stds]);
    throw e;
  }
  const modelTimesteps = Int32Array.from(timesteps, (i) => diffusion.timestepMap[i]);
  if (!options.collectTrajectory) return { sample: x, timesteps, modelTimesteps };
  return { sample: x, ...stackTrajectory(trajectory, x), timesteps, modelTimesteps };
}

/** x_T: the caller's latents (cloned, so the loop may dispose its own copy) or a fresh draw. */
function initialLatents(shape: [number, number, number], options: SampleLoopOptions, draw: NoiseFn): tf.Tensor3D {
  if (options.xT) {
    checkSameShape(options.xT.shape, shape, "xT");
    return options.xT.clone();
  }
  return tf.tidy(() => resolveNoise(draw, shape)) as tf.Tensor3D;
}

/** One step at index i for the whole batch: mean, std and the sample (noise only where std > 0). */
function reverseStep(
  diffusion: GaussianDiffusion,
  sampler: Sampler,
  model: Denoiser,
  x: tf.Tensor3D,
  i: number,
  options: SampleLoopOptions,
  draw: NoiseFn,
): { mean: tf.Tensor3D; std: tf.Tensor3D; sample: tf.Tensor3D } {
  const idx = fullTimesteps(i, x.shape[0]);
  const eta = options.eta ?? 0;
  const call = { mask: options.mask, clipDenoised: options.clipDenoised, modelKwargs: options.modelKwargs };
  return tf.tidy(() => {
    const step =
      sampler === "ddim" ? diffusion.ddimStepMeanStd(model, x, idx, { ...call, eta }) : diffusion.pStepMeanStd(model, x, idx, call);
    const stochastic = i > 0 && (sampler === "ddpm" || eta > 0);
    const sample = stochastic ? tf.add(step.mean, tf.mul(step.std, resolveNoise(draw, x.shape))) : step.mean.clone();
    return { mean: step.mean, std: step.std, sample: sample as tf.Tensor3D };
  });
}

function stackTrajectory(
  trajectory: { zs: tf.Tensor3D[]; means: tf.Tensor3D[]; stds: tf.Tensor3D[] },
  sample: tf.Tensor3D,
): { zs: tf.Tensor4D; means: tf.Tensor4D; stds: tf.Tensor4D } {
  const zs = tf.stack(trajectory.zs) as tf.Tensor4D;
  const means = tf.stack(trajectory.means) as tf.Tensor4D;
  const stds = tf.stack(trajectory.stds) as tf.Tensor4D;
  tf.dispose([...trajectory.zs.filter((z) => z !== sample), ...trajectory.means, ...trajectory.stds]);
  return { zs, means, stds };
}

function progressReporter(progress: SampleLoopOptions["progress"], total: number): (done: number) => void {
  if (typeof progress === "function") return (done) => progress(done, total);
  if (!progress) return () => {};
  const bar = new ProgressBar({ label: "sampling", unit: "steps" });
  return (done) => (done === total ? bar.finish(done) : bar.update(done, done / total));
}
