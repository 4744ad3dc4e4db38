/**
 * VAEModule: the crystal variational autoencoder of stage 1 (Chemeleon2's design).
 *
 *     const vae = new VAEModule(resolveVAEConfig({ dModel: 128, numLayers: 2, nhead: 4, dimFeedforward: 512 }), rng);
 *     const { mean, logvar, z } = vae.encode(batch);           // [B, N, latentDim] each
 *     const pred = vae.decode(z, batch.mask);                   // logits, coords, lattice
 *     const decoded = vae.decodeToStructures(z, batch.mask);    // (Structure | null + reason)[]
 *     const losses = vae.trainingStep(batch, optimizer);        // { loss, atom_types, ... } numbers
 *
 * Parameters: `encoder.*`, `quant_proj.*` (hidden → mean ‖ logvar), `decoder.*`; the
 * `latentStd` used by the LDM to normalise latents is measured by `measureLatentStd`
 * (latent_stats.ts) and stored with the checkpoint. `decode` takes latents on the VAE's own
 * scale: the LDM divides by `latentStd` before diffusion and multiplies its samples by it
 * again before decoding.
 *
 * Inputs the model sees: element, Fourier features of fractional coordinates and the
 * lattice as lengths/n^(1/3) + angles (features.ts) — no Cartesian coordinates, so the model
 * is rotation invariant by construction and only translation is augmented (data/augment.ts).
 */
import { tf } from "../nn/tf.ts";
import { Module } from "../nn/module.ts";
import { Linear } from "../nn/layers.ts";
import { clipGradNorm, disposeGrads, valueAndGrads, type AdamW } from "../nn/optim.ts";
import type { Rng } from "../nn/rng.ts";
import { BatchError } from "../crystal/errors.ts";
import type { CrystalBatch } from "../data/batch.ts";
import { resolveVAEConfig, type VAEConfig } from "./config.ts";
import { CrystalEncoder } from "./encoder.ts";
import { CrystalDecoder, type VAEPredictions } from "./decoder.ts";
import { VAE_LOSS_NAMES, vaeLosses, type VAELossName, type VAELossTensors } from "./losses.ts";
import { arraysToStructures, decodeArrays, type DecodedStructure } from "./decode_structures.ts";

/** The seed clamps the posterior log-variance to this range. */
export const LOGVAR_RANGE: readonly [number, number] = [-30, 20];

export interface EncodeOutput {
  mean: tf.Tensor;
  logvar: tf.Tensor;
  /** mean + exp(logvar / 2)·ε (ε from the module's noise stream), or mean when `sample` is false. */
  z: tf.Tensor;
}

/** Loss values of one step (plain numbers) plus the gradient norm before clipping. */
export type VAEStepResult = Record<VAELossName | "loss" | "grad_norm", number>;

export interface TrainingStepOptions {
  /** Clip gradients to this global norm (default 1). */
  gradClip?: number;
}

export class VAEModule extends Module {
  readonly config: VAEConfig;
  readonly encoder: CrystalEncoder;
  readonly quantProj: Linear;
  readonly decoder: CrystalDecoder;
  /** Standard deviation of the latents on the training data (1 until measured). */
  latentStd = 1;
  /** Stream for the reparameterisation noise (a fork of the construction rng). */
  private readonly noise: Rng;

  constructor(config: Partial<VAEConfig>, rng: Rng) {
    super();
    this.config = resolveVAEConfig(config);
    this.noise = rng.fork("vae_noise");
    this.encoder = this.registerModule("encoder", new CrystalEncoder(this.config, rng));
    this.quantProj = this.registerModule("quant_proj", new Linear(this.config.dModel, 2 * this.config.latentDim, rng));
    this.decoder = this.registerModule("decoder", new CrystalDecoder(this.config, rng));
  }

  /** The noise generator (its state belongs in checkpoints for exact resumption). */
  get noiseRng(): Rng {
    return this.noise;
  }

  /** Rejects batches this model cannot read: too many sites, unknown element classes. */
  checkBatch(batch: CrystalBatch): void {
    const [, n] = batch.atomTypes.shape;
    if (n > this.config.maxAtoms) {
      throw new BatchError(
        `VAEModule: the batch is padded to ${n} sites but this model supports at most max_atoms = ${this.config.maxAtoms}; ` +
          "filter out larger structures (collate with { maxAtoms }) or train a model with a larger max_atoms.",
      );
    }
    const maxZ = tf.tidy(() => tf.max(batch.atomTypes).dataSync()[0]);
    if (maxZ > this.config.maxNumElements) {
      throw new BatchError(`VAEModule: the batch holds an element with Z = ${maxZ}, beyond max_num_elements = ${this.config.maxNumElements}.`);
    }
  }

  /** Posterior parameters and a latent sample per atom (padded rows are zeroed). */
  encode(batch: CrystalBatch, opts: { sample?: boolean } = {}): EncodeOutput {
    this.checkBatch(batch);
    const eps = opts.sample === false ? null : this.noise.tensorNormal([...batch.atomTypes.shape, this.config.latentDim]);
    const out = tf.tidy(() => {
      const h = this.encoder.forward(batch.atomTypes, batch.fracCoords, batch.lengths, batch.angles, batch.mask);
      const [meanRaw, logvarRaw] = tf.split(this.quantProj.forward(h), 2, -1);
      const m = tf.expandDims(batch.mask, -1);
      const mean = tf.mul(meanRaw, m);
      const logvar = tf.mul(tf.clipByValue(logvarRaw, LOGVAR_RANGE[0], LOGVAR_RANGE[1]), m);
      const z = eps ? tf.add(mean, tf.mul(tf.mul(tf.exp(tf.mul(logvar, 0.5)), eps), m)) : tf.clone(mean);
      return { mean, logvar, z };
    });
    eps?.dispose();
    return out;
  }

  /** Per-atom latents [B, N, latentDim] + mask [B, N] → raw predictions (caller disposes). */
  decode(z: tf.Tensor, mask: tf.Tensor): VAEPredictions {
    const [b, n, d] = z.shape;
    if (z.rank !== 3 || d !== this.config.latentDim || mask.shape[0] !== b || mask.shape[1] !== n) {
      throw new BatchError(`VAEModule.decode: z must be [B, N, ${this.config.latentDim}] with mask [B, N]; got z [${z.shape}], mask [${mask.shape}].`);
    }
    if (n > this.config.maxAtoms) throw new BatchError(`VAEModule.decode: ${n} sites exceed max_atoms = ${this.config.maxAtoms}.`);
    return this.decoder.forward(z, mask);
  }

  /** Encode (posterior mean by default: deterministic) and decode. */
  reconstruct(batch: CrystalBatch, opts: { sample?: boolean } = {}): VAEPredictions {
    const enc = this.encode(batch, { sample: opts.sample ?? false });
    try {
      return this.decode(enc.z, batch.mask);
    } finally {
      disposeAll(enc);
    }
  }

  /** Latents → structures (null + reason for predictions that form no valid cell). */
  decodeToStructures(z: tf.Tensor, mask: tf.Tensor): DecodedStructure[] {
    const pred = this.decode(z, mask);
    try {
      return arraysToStructures(decodeArrays(pred, mask));
    } finally {
      disposeAll(pred);
    }
  }

  /**
   * Every loss term (tensors, caller disposes) for a batch; the reconstruction terms use a
   * sampled latent (training) or, with `sample: false`, the posterior mean.
   */
  losses(batch: CrystalBatch, opts: { sample?: boolean } = {}): VAELossTensors {
    return tf.tidy(() => {
      const enc = this.encode(batch, opts);
      const pred = this.decode(enc.z, batch.mask);
      return vaeLosses(pred, { ...batch, mean: enc.mean, logvar: enc.logvar }, this.config.lossWeights);
    }) as VAELossTensors;
  }

  /**
   * Loss terms as numbers without updating anything (validation). Uses the posterior mean,
   * so validation is deterministic and draws nothing from the training noise stream (a
   * resumed run then continues exactly as an uninterrupted one).
   */
  evaluateLosses(batch: CrystalBatch): Record<VAELossName | "loss", number> {
    const t = this.losses(batch, { sample: false });
    const out = readLosses(t);
    disposeAll(t);
    return out;
  }

  /** One optimisation step: loss, gradients, clipping, AdamW update. Returns every term. */
  trainingStep(batch: CrystalBatch, optimizer: AdamW, opts: TrainingStepOptions = {}): VAEStepResult {
    this.checkBatch(batch);
    let kept: VAELossTensors | null = null;
    const { loss, grads } = valueAndGrads(this, () => {
      const t = this.losses(batch);
      // Keep the individual terms alive past the gradient tape's clean-up to report them.
      kept = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, tf.keep(v)])) as VAELossTensors;
      return t.loss;
    });
    const gradNorm = clipGradNorm(grads, opts.gradClip ?? 1);
    optimizer.step(grads);
    disposeGrads(grads);
    const terms = readLosses(kept!);
    disposeAll(kept!);
    loss.dispose();
    return { ...terms, grad_norm: gradNorm };
  }
}

function readLosses(t: VAELossTensors): Record<VAELossName | "loss", number> {
  const out = {} as Record<VAELossName | "loss", number>;
  for (const k of [...VAE_LOSS_NAMES, "loss"] as const) out[k] = t[k].dataSync()[0];
  return out;
}

/** Disposes every tensor value of a plain object. */
export function disposeAll(obj: object): void {
  const seen = new Set<tf.Tensor>();
  for (const v of Object.values(obj)) {
    if (v instanceof tf.Tensor && !seen.has(v)) {
      seen.add(v);
      v.dispose();
    }
  }
}
