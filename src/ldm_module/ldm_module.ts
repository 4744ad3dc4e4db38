/**
 * LDMModule: the latent diffusion model of stage 2 (Chemeleon2's `LDMModule`). It holds a
 * frozen VAE, the trainable DiT denoiser and the Gaussian diffusion, and works on the VAE's
 * per-atom latents divided by their standard deviation (`latentStd`), so the diffusion sees
 * roughly unit-variance data.
 *
 *     const ldm = new LDMModule({ vae, hparams: ldmHparamsFromYaml(cfg.ldm_module), rng });
 *     const terms = ldm.trainingStep(batch, optimizer);       // { loss, mse, vb, grad_norm }
 *     const out = ldm.sample({ numAtoms: [4, 8] }, { sampler: "ddim", sampling_steps: 50, eta: 1, collect_trajectory: true });
 *     out.batchGen.structures;                                  // decoded Structures (null where invalid)
 *     out.zs; out.means; out.stds;                              // [T+1|T, B, N, 8] for GRPO
 *     disposeSampleResult(out);
 *     await ldm.saveCheckpoint("outputs/run/checkpoints/last");
 *     const again = await LDMModule.loadFromCheckpoint("checkpoints/mp_20/ldm");
 *
 * Parameters are the denoiser's (`denoiser.*`); the VAE is not a child module, so
 * checkpoints hold the LDM weights plus the VAE's path, and optimizers never see the VAE.
 * Latents in every result (z, zs, means, stds) are in the normalised space; `decode`
 * multiplies by `latentStd` before the VAE decodes them.
 */
import { tf } from "../nn/tf.ts";
import { Module } from "../nn/module.ts";
import { clipGradNorm, disposeGrads, valueAndGrads, type AdamW } from "../nn/optim.ts";
import type { Rng } from "../nn/rng.ts";
import { BatchError } from "../crystal/errors.ts";
import { ConfigError } from "../config/errors.ts";
import type { CrystalBatch } from "../data/batch.ts";
import type { VAEModule } from "../vae_module/vae_module.ts";
import type { DecodedStructure } from "../vae_module/decode_structures.ts";
import { createDiffusion, spacedDiffusion, type GaussianDiffusion } from "./diffusion/index.ts";
import { compositionCondition, DiT, type DiTExtra } from "./denoiser.ts";
import { createDiffusionOptions, type LDMHparams } from "./ldm_config.ts";
import { NumAtomsSampler } from "./num_atoms.ts";
import { runSampling, type LDMSampleInput, type LDMSampleOptions, type LDMSampleResult } from "./ldm_sampling.ts";
import { loadLDM, saveLDM, type LoadLDMOptions, type SaveLDMOptions } from "./ldm_checkpoint.ts";

export interface LDMModuleOptions {
  vae: VAEModule;
  hparams: LDMHparams;
  /** Initialisation and the module's own noise stream (timesteps, noise, condition dropout). */
  rng: Rng;
  /** Latent std used for normalisation (default: the VAE's measured `latentStd`). */
  latentStd?: number;
  /** Site-count histogram for de novo sampling (stored with checkpoints). */
  numAtoms?: NumAtomsSampler | null;
  /** Where the VAE checkpoint lives (stored with checkpoints so they reload alone). */
  vaeCkptPath?: string | null;
}

/** Loss terms of one step as plain numbers (means over the batch). */
export interface LDMStepResult {
  [term: string]: number;
  loss: number;
  mse: number;
  vb: number;
  grad_norm: number;
}

export class LDMModule extends Module {
  readonly hparams: LDMHparams;
  readonly vae: VAEModule;
  readonly denoiser: DiT;
  /** The training diffusion (all `diffusion_steps`). */
  readonly diffusion: GaussianDiffusion;
  readonly latentStd: number;
  numAtomsSampler: NumAtomsSampler | null;
  vaeCkptPath: string | null;
  private readonly noise: Rng;
  private readonly spaced = new Map<string, GaussianDiffusion>();

  constructor(options: LDMModuleOptions) {
    super();
    const { vae, hparams, rng } = options;
    checkLatentDim(hparams, vae);
    this.hparams = hparams;
    this.vae = vae.freeze().eval();
    this.denoiser = this.registerModule("denoiser", new DiT(hparams.denoiser, rng.fork("denoiser_init")));
    this.diffusion = createDiffusion(createDiffusionOptions(hparams.diffusion));
    this.latentStd = hparams.normalizeLatent ? (options.latentStd ?? vae.latentStd) : 1;
    if (!(this.latentStd > 0) || !Number.isFinite(this.latentStd)) {
      throw new ConfigError(`latent std ${this.latentStd} is not a positive number; measure it on the VAE (measureLatentStd) first.`, "ldm_module.normalize_latent");
    }
    this.numAtomsSampler = options.numAtoms ?? null;
    this.vaeCkptPath = options.vaeCkptPath ?? null;
    this.noise = rng.fork("ldm_noise");
  }

  /** The module's noise stream (its state belongs in checkpoints for an exact resume). */
  get noiseRng(): Rng {
    return this.noise;
  }

  /** Largest structure the model handles (the VAE's `max_atoms`). */
  get maxAtoms(): number {
    return this.vae.config.maxAtoms;
  }

  get latentDim(): number {
    return this.hparams.denoiser.latentDim;
  }

  /** Rejects a padded size beyond the VAE's `max_atoms`. */
  checkNumAtoms(n: number, what = "the batch"): void {
    if (n > this.maxAtoms) {
      throw new BatchError(
        `LDMModule: ${what} has ${n} sites but the model supports at most max_atoms = ${this.maxAtoms} (the VAE's); ` +
          "filter out larger structures or use a VAE trained with a larger max_atoms.",
      );
    }
  }

  /** Normalised latents x₀ [B, N, C] of a batch: the VAE posterior mean / latentStd (padding 0). */
  encodeLatents(batch: CrystalBatch): tf.Tensor3D {
    this.checkNumAtoms(batch.atomTypes.shape[1]);
    const enc = this.vae.encode(batch, { sample: false });
    const x0 = tf.tidy(() => tf.div(enc.mean, this.latentStd)) as tf.Tensor3D;
    tf.dispose([enc.mean, enc.logvar, enc.z]);
    return x0;
  }

  /**
   * The condition of a batch for a conditional denoiser: composition fractions from its atoms,
   * or the property values given in `y`. Null for an unconditional model.
   */
  conditionOf(batch: CrystalBatch, y?: tf.Tensor | number[] | null): tf.Tensor | null {
    const cond = this.hparams.denoiser.condition;
    if (!cond) return null;
    if (cond.type === "composition") return compositionCondition(batch.atomTypes, batch.mask);
    if (y === undefined || y === null) {
      throw new BatchError(`this LDM is conditioned on ${cond.property}; pass its values as y (one per structure).`);
    }
    return y instanceof tf.Tensor ? y.clone() : tf.tensor1d(y, "float32");
  }

  /** Per-sample loss terms [B] at random timesteps (differentiable; caller disposes). */
  losses(batch: CrystalBatch, y?: tf.Tensor | number[] | null): { loss: tf.Scalar; mse: tf.Scalar; vb: tf.Scalar } {
    const B = batch.atomTypes.shape[0];
    const t = this.diffusion.sampleTimesteps(B, () => this.noise.uniform());
    const condition = this.conditionOf(batch, y);
    const dropP = this.hparams.denoiser.condition?.dropProb ?? 0;
    const drop = condition && dropP > 0 ? tf.tensor1d(Array.from({ length: B }, () => this.noise.uniform() < dropP), "bool") : undefined;
    const x0 = this.encodeLatents(batch);
    const noise = this.noise.tensorNormal([...x0.shape]);
    try {
      return tf.tidy(() => {
        const modelKwargs: DiTExtra = { y: condition, dropCondition: drop };
        const out = this.diffusion.trainingLosses(this.denoiser.asDenoiser(), x0, t, { mask: batch.mask, modelKwargs, noise });
        const zero = tf.zeros([B]);
        return { loss: tf.mean(out.loss), mse: tf.mean(out.mse ?? zero), vb: tf.mean(out.vb ?? zero) };
      });
    } finally {
      tf.dispose([x0, noise, ...(condition ? [condition] : []), ...(drop ? [drop] : [])]);
    }
  }

  /** Loss terms as numbers without updating anything (validation). */
  evaluateLosses(batch: CrystalBatch, y?: tf.Tensor | number[] | null): Omit<LDMStepResult, "grad_norm"> {
    const t = this.losses(batch, y);
    const out = { loss: t.loss.dataSync()[0], mse: t.mse.dataSync()[0], vb: t.vb.dataSync()[0] };
    tf.dispose([t.loss, t.mse, t.vb]);
    return out;
  }

  /** One optimisation step: loss, gradients, clipping to `gradClip` (default 1), AdamW update. */
  trainingStep(batch: CrystalBatch, optimizer: AdamW, opts: { gradClip?: number; y?: tf.Tensor | number[] | null } = {}): LDMStepResult {
    let kept: { mse: tf.Scalar; vb: tf.Scalar } | null = null;
    const { loss, grads } = valueAndGrads(this, () => {
      const t = this.losses(batch, opts.y);
      kept = { mse: tf.keep(t.mse), vb: tf.keep(t.vb) };
      return t.loss;
    });
    const gradNorm = clipGradNorm(grads, opts.gradClip ?? 1);
    optimizer.step(grads);
    disposeGrads(grads);
    const k = kept as unknown as { mse: tf.Scalar; vb: tf.Scalar };
    const out = { loss: loss.dataSync()[0], mse: k.mse.dataSync()[0], vb: k.vb.dataSync()[0], grad_norm: gradNorm };
    tf.dispose([loss, k.mse, k.vb]);
    return out;
  }

  /**
   * The diffusion for sampling: `ddim` respaced to "ddim<steps>", `ddpm` to "<steps>"
   * (evenly spaced; all `diffusion_steps` give the training diffusion). Cached.
   */
  samplingDiffusion(sampler: "ddim" | "ddpm", steps: number): GaussianDiffusion {
    const T = this.diffusion.numTimesteps;
    if (!Number.isInteger(steps) || steps < 1 || steps > T) {
      throw new ConfigError(`must be an integer in [1, ${T}], got ${steps}.`, "sampling_configs.sampling_steps");
    }
    if (sampler !== "ddim" && sampler !== "ddpm") throw new ConfigError(`unknown sampler "${String(sampler)}"; use ddim or ddpm.`, "sampling_configs.sampler");
    const key = `${sampler}${steps}`;
    let d = this.spaced.get(key);
    if (!d) {
      d = steps === T ? this.diffusion : spacedDiffusion(this.diffusion, sampler === "ddim" ? `ddim${steps}` : String(steps));
      this.spaced.set(key, d);
    }
    return d;
  }

  /** Latents in the normalised space [B, N, C] + mask → decoded structures (null + reason where invalid). */
  decode(z: tf.Tensor, mask: tf.Tensor): DecodedStructure[] {
    const raw = tf.tidy(() => tf.mul(z, this.latentStd));
    try {
      return this.vae.decodeToStructures(raw, mask);
    } finally {
      raw.dispose();
    }
  }

  /** Draws `n` site counts from the training histogram (needs `numAtomsSampler`). */
  sampleNumAtoms(n: number, rng?: Rng): number[] {
    if (!this.numAtomsSampler) {
      throw new BatchError("LDMModule has no site-count distribution; pass numAtoms to the constructor or give sample() explicit numAtoms.");
    }
    return this.numAtomsSampler.sample(n, rng ?? this.noise);
  }

  /** Generates structures; see `LDMSampleOptions` for the seed's `sampling_configs` keys. */
  sample(input: LDMSampleInput, options: LDMSampleOptions = {}): LDMSampleResult {
    return runSampling(this, input, options);
  }

  /** Writes weights, hyper-parameters, latent std, site histogram and VAE path (atomically). */
  saveCheckpoint(dir: string, opts: SaveLDMOptions = {}): Promise<void> {
    return saveLDM(dir, this, opts);
  }

  /** Rebuilds an LDM from a checkpoint directory (and its VAE, unless one is given). */
  static loadFromCheckpoint(dir: string, opts: LoadLDMOptions = {}): Promise<LDMModule> {
    return loadLDM(dir, opts);
  }

  /** Frees the denoiser's weights (the VAE too with `{ vae: true }`). */
  override dispose(opts: { vae?: boolean } = {}): void {
    super.dispose();
    if (opts.vae) this.vae.dispose();
  }
}

function checkLatentDim(hparams: LDMHparams, vae: VAEModule): void {
  if (hparams.denoiser.latentDim !== vae.config.latentDim) {
    throw new ConfigError(
      `the denoiser's latent_dim is ${hparams.denoiser.latentDim} but the VAE's latent_dim is ${vae.config.latentDim}; ` +
        "set ldm_module.denoiser.latent_dim to the VAE's value or load the VAE this LDM was trained with.",
      "ldm_module.denoiser.latent_dim",
    );
  }
}

