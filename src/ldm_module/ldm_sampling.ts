/**
 * `LDMModule.sample`: numbers of atoms (or a prompt batch) → masked noise → the reverse
 * diffusion (DDIM with η or DDPM, respaced to `sampling_steps`, optional classifier-free
 * guidance) → latents → VAE-decoded structures. With `collect_trajectory` the result also
 * holds every step's latents, means and stds, which GRPO scores:
 * zs[i + 1] ~ N(means[i], stds[i]²), shapes zs [T+1, B, N, C], means/stds [T, B, N, C].
 *
 * Option names are the seed's `sampling_configs` keys (snake_case) so a config section can be
 * passed as is.
 */
import { tf } from "../nn/tf.ts";
import type { Rng } from "../nn/rng.ts";
import { BatchError } from "../crystal/errors.ts";
import { ConfigError } from "../config/errors.ts";
import type { Structure } from "../crystal/structure.ts";
import type { CrystalBatch } from "../data/batch.ts";
import type { DecodedStructure } from "../vae_module/decode_structures.ts";
import type { SampleLoopOptions } from "./diffusion/index.ts";
import type { DiTExtra } from "./denoiser.ts";
import type { LDMModule } from "./ldm_module.ts";

/** What to generate: a prompt batch (its sizes, and its composition for composition-conditioned models) or sizes. */
export type LDMSampleInput =
  | CrystalBatch
  | {
      /** Sites per structure to generate. */
      numAtoms: readonly number[];
      /** Condition per structure (composition fractions [B, 101] or property values [B]); absent = unconditional. */
      y?: tf.Tensor | readonly number[] | null;
    };

/** The seed's `sampling_configs`. */
export interface LDMSampleOptions {
  /** "ddim" (default) or "ddpm". */
  sampler?: "ddim" | "ddpm";
  /** Reverse steps (evenly respaced; default 50). */
  sampling_steps?: number;
  /** DDIM's η: 0 deterministic, 1 (default, as the seed's RL) stochastic. */
  eta?: number;
  /** Classifier-free guidance strength (1 = the conditional model; default 1). Ignored without a condition. */
  cfg_scale?: number;
  /** Return zs, means and stds of every step (default false). */
  collect_trajectory?: boolean;
  /** Progress bar on stderr, or a callback (done, total). */
  progress?: boolean | ((done: number, total: number) => void);
  /** Noise generator (default: the module's own stream). */
  rng?: Rng;
  /** Decode the latents into structures with the VAE (default true). */
  decode?: boolean;
  /** Start from these normalised latents x_T instead of fresh noise (not disposed). */
  xT?: tf.Tensor3D;
}

/** The generated batch (the seed's `batch_gen`). */
export interface GeneratedBatch {
  /** Final latents x₀ in the normalised space [B, N, C] (padding rows are not meaningful). */
  z: tf.Tensor3D;
  /** [B, N] float, 1 for a real atom. */
  mask: tf.Tensor2D;
  numAtoms: number[];
  /** Decoded structures, null where the decoder's output is no valid cell (see `decoded`). */
  structures: (Structure | null)[];
  /** Decoder results with the reason for every null. */
  decoded: DecodedStructure[];
  /** The condition used (null for unconditional sampling). */
  y: tf.Tensor | null;
}

export interface LDMSampleResult {
  batchGen: GeneratedBatch;
  /** [T + 1, B, N, C]: x_T first, x₀ last (with collect_trajectory). */
  zs?: tf.Tensor4D;
  /** [T, B, N, C] means of each step (with collect_trajectory). */
  means?: tf.Tensor4D;
  /** [T, B, N, C] stds of each step; the last step's is 0 (with collect_trajectory). */
  stds?: tf.Tensor4D;
  /** [B, N] atom mask (the same tensor as batchGen.mask). */
  mask: tf.Tensor2D;
  /** Step indices in sampling order, and the original timesteps the model saw. */
  timesteps: Int32Array;
  modelTimesteps: Int32Array;
}

function isBatch(input: LDMSampleInput): input is CrystalBatch {
  return (input as CrystalBatch).atomTypes instanceof tf.Tensor;
}

/** Site counts → [B, N] mask padded to the largest count. */
export function maskFromNumAtoms(numAtoms: readonly number[]): tf.Tensor2D {
  const n = Math.max(...numAtoms);
  const data = new Float32Array(numAtoms.length * n);
  numAtoms.forEach((k, b) => data.fill(1, b * n, b * n + k));
  return tf.tensor2d(data, [numAtoms.length, n]);
}

function checkSizes(numAtoms: readonly number[]): void {
  if (numAtoms.length === 0) throw new BatchError("LDMModule.sample: numAtoms is empty; ask for at least one structure.");
  numAtoms.forEach((k, i) => {
    if (!Number.isInteger(k) || k < 1) throw new BatchError(`LDMModule.sample: numAtoms[${i}] = ${k} is not a positive integer.`);
  });
}

/** Sizes, mask and condition of the request (tensors owned by the result). */
function prepareInput(ldm: LDMModule, input: LDMSampleInput): { numAtoms: number[]; mask: tf.Tensor2D; y: tf.Tensor | null } {
  if (isBatch(input)) {
    const numAtoms = Array.from(input.numAtoms.dataSync());
    ldm.checkNumAtoms(input.atomTypes.shape[1]);
    const cond = ldm.hparams.denoiser.condition;
    const y = cond?.type === "composition" ? ldm.conditionOf(input) : null;
    return { numAtoms, mask: input.mask.clone(), y };
  }
  const numAtoms = [...input.numAtoms];
  checkSizes(numAtoms);
  ldm.checkNumAtoms(Math.max(...numAtoms), "the request");
  if (input.y && !ldm.hparams.denoiser.condition) {
    throw new BatchError("LDMModule.sample: y was given but this LDM is unconditional (denoiser.condition: null); drop y.");
  }
  const y = !input.y ? null : input.y instanceof tf.Tensor ? input.y.clone() : tf.tensor1d([...input.y], "float32");
  if (y && y.shape[0] !== numAtoms.length) {
    y.dispose();
    throw new BatchError(`LDMModule.sample: y has ${y.shape[0]} rows for ${numAtoms.length} structures; give one condition per structure.`);
  }
  return { numAtoms, mask: maskFromNumAtoms(numAtoms), y };
}

function checkOptions(o: LDMSampleOptions): void {
  const eta = o.eta ?? 1;
  if (!(eta >= 0 && eta <= 1)) throw new ConfigError(`must be in [0, 1], got ${eta}.`, "sampling_configs.eta");
  const cfg = o.cfg_scale ?? 1;
  if (!Number.isFinite(cfg)) throw new ConfigError(`must be a finite number, got ${cfg}.`, "sampling_configs.cfg_scale");
}

/** Runs the sampler; see the module comment. Every tensor of the result is the caller's. */
export function runSampling(ldm: LDMModule, input: LDMSampleInput, options: LDMSampleOptions = {}): LDMSampleResult {
  checkOptions(options);
  const sampler = options.sampler ?? "ddim";
  const diffusion = ldm.samplingDiffusion(sampler, options.sampling_steps ?? 50);
  const { numAtoms, mask, y } = prepareInput(ldm, input);
  const rng = options.rng ?? ldm.noiseRng;
  const cfgScale = options.cfg_scale ?? 1;
  const loop: SampleLoopOptions = {
    eta: options.eta ?? 1,
    mask,
    modelKwargs: { y } satisfies DiTExtra,
    noise: (shape) => rng.tensorNormal(shape),
    xT: options.xT,
    progress: options.progress,
    collectTrajectory: options.collect_trajectory ?? false,
    cfg: y && cfgScale !== 1 ? { scale: cfgScale, unconditional: (extra) => ({ ...extra, y: null }) } : undefined,
  };
  const shape: [number, number, number] = [numAtoms.length, mask.shape[1], ldm.latentDim];
  const model = ldm.denoiser.asDenoiser();
  const out = sampler === "ddim" ? diffusion.ddimSampleLoop(model, shape, loop) : diffusion.pSampleLoop(model, shape, loop);
  const decoded = options.decode === false ? [] : ldm.decode(out.sample, mask);
  const batchGen: GeneratedBatch = { z: out.sample, mask, numAtoms, structures: decoded.map((d) => d.structure), decoded, y };
  return { batchGen, zs: out.zs, means: out.means, stds: out.stds, mask, timesteps: out.timesteps, modelTimesteps: out.modelTimesteps };
}

/** Frees every tensor of a sampling result. */
export function disposeSampleResult(r: LDMSampleResult): void {
  const ts = [r.batchGen.z, r.batchGen.mask, r.batchGen.y, r.zs, r.means, r.stds].filter((t): t is tf.Tensor => !!t && !t.isDisposed);
  tf.dispose([...new Set(ts)]);
}
