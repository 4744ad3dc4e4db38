/**
 * The DiT denoiser of the LDM (Chemeleon2's `DiT`, after Peebles & Xie): a transformer over
 * per-atom latent tokens with no positional embedding (atoms are a set, so the model is
 * permutation-equivariant), conditioned through adaLN-Zero on the diffusion timestep and,
 * optionally, on a condition (composition or a scalar property) that has a learned null
 * token for classifier-free guidance.
 *
 *     const dit = new DiT(resolveDiTConfig("dit_tiny"), rng);
 *     const out = dit.forward(x, t, { mask });          // x [B, N, 8], t [B] → [B, N, 16]
 *     const model: Denoiser = dit.asDenoiser();          // what the diffusion calls
 *
 * Parameter names follow DiT's state dict: `x_embedder.*`, `t_embedder.mlp.{0,2}.*`,
 * `y_embedder.*`, `blocks.<i>.*`, `final_layer.*`. Output rows of padded atoms are zero.
 */
import { tf } from "../nn/tf.ts";
import { Module, ModuleDict, ModuleList } from "../nn/module.ts";
import { Linear, silu } from "../nn/layers.ts";
import { DiTBlock, FinalLayer } from "../nn/dit_block.ts";
import { TimestepEmbedder } from "../nn/embeddings.ts";
import * as init from "../nn/init.ts";
import type { Rng } from "../nn/rng.ts";
import { BatchError } from "../crystal/errors.ts";
import type { Denoiser, DenoiserExtra } from "./diffusion/index.ts";
import type { ConditionConfig, DiTConfig } from "./sizes.ts";

/** Element classes of a composition condition: Z = 1..100, index 0 unused (padding). */
export const COMPOSITION_CLASSES = 101;

/**
 * Denoiser inputs beyond the latents (the diffusion's `model_kwargs`).
 * `y` is the condition: composition fractions [B, 101] (see `compositionCondition`) or raw
 * property values [B] / [B, 1]; absent or null means the null token (unconditional).
 * `dropCondition` [B] bool replaces the condition by the null token per sample (CFG training).
 */
export interface DiTExtra extends DenoiserExtra {
  y?: tf.Tensor | null;
  dropCondition?: tf.Tensor1D;
}

/**
 * Element fractions of each structure, [B, 101]: counts of Z over real atoms divided by the
 * atom count. Multiplying by an embedding table gives the mean of the atoms' type embeddings.
 */
export function compositionCondition(atomTypes: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const oneHot = tf.mul(tf.oneHot(tf.cast(atomTypes, "int32"), COMPOSITION_CLASSES), tf.expandDims(mask, -1));
    const counts = tf.sum(oneHot, 1);
    return tf.div(counts, tf.maximum(tf.sum(counts, 1, true), 1)) as tf.Tensor2D;
  });
}

/** Condition → [B, hidden], with a learned `null_embedding` for dropped / absent conditions. */
export class ConditionEmbedder extends Module {
  readonly nullEmbedding: tf.Variable;
  /** composition: `embedding` [101, hidden]; property: `mlp.0` / `mlp.2`. */
  private readonly table: tf.Variable | null = null;
  private readonly mlp0: Linear | null = null;
  private readonly mlp2: Linear | null = null;

  constructor(
    readonly config: ConditionConfig,
    readonly hiddenSize: number,
    rng: Rng,
  ) {
    super();
    this.nullEmbedding = this.registerParameter("null_embedding", init.normal(rng, [1, hiddenSize], 0.02));
    if (config.type === "composition") {
      this.table = this.registerParameter("embedding", init.normal(rng, [COMPOSITION_CLASSES, hiddenSize], 0.02));
    } else {
      this.mlp0 = new Linear(1, hiddenSize, rng);
      this.mlp2 = new Linear(hiddenSize, hiddenSize, rng);
      this.registerModule("mlp", new ModuleDict({ "0": this.mlp0, "2": this.mlp2 }));
    }
  }

  /** The embedding of `y` (or of the null token where `drop` is true / `y` is absent). */
  forward(y: tf.Tensor | null | undefined, batch: number, drop?: tf.Tensor1D): tf.Tensor2D {
    return tf.tidy(() => {
      const nullRows = tf.tile(this.nullEmbedding, [batch, 1]) as tf.Tensor2D;
      if (!y) return nullRows;
      const emb = this.config.type === "composition" ? this.embedComposition(y, batch) : this.embedProperty(y, batch);
      if (!drop) return emb;
      return tf.where(tf.reshape(drop, [batch, 1]), nullRows, emb) as tf.Tensor2D;
    });
  }

  private embedComposition(y: tf.Tensor, batch: number): tf.Tensor2D {
    if (y.rank !== 2 || y.shape[0] !== batch || y.shape[1] !== COMPOSITION_CLASSES) {
      throw new BatchError(`composition condition y must be [${batch}, ${COMPOSITION_CLASSES}] element fractions (compositionCondition), got [${y.shape}].`);
    }
    return tf.matMul(tf.cast(y, "float32") as tf.Tensor2D, this.table as tf.Tensor2D);
  }

  private embedProperty(y: tf.Tensor, batch: number): tf.Tensor2D {
    if (y.size !== batch || y.rank > 2) {
      throw new BatchError(`property condition y (${this.config.property}) must hold one value per structure, [${batch}] or [${batch}, 1]; got [${y.shape}].`);
    }
    const { mean, std } = this.config;
    const v = tf.div(tf.sub(tf.reshape(tf.cast(y, "float32"), [batch, 1]), mean), std);
    return this.mlp2!.forward(silu(this.mlp0!.forward(v))) as tf.Tensor2D;
  }
}

export class DiT extends Module {
  readonly config: DiTConfig;
  readonly xEmbedder: Linear;
  readonly tEmbedder: TimestepEmbedder;
  readonly yEmbedder: ConditionEmbedder | null;
  readonly blocks: ModuleList<DiTBlock>;
  readonly finalLayer: FinalLayer;

  constructor(config: DiTConfig, rng: Rng) {
    super();
    this.config = config;
    const { latentDim, hiddenSize, numHeads, depth, mlpRatio, dropout, learnSigma } = config;
    this.xEmbedder = this.registerModule("x_embedder", new Linear(latentDim, hiddenSize, rng, { init: "xavier" }));
    this.tEmbedder = this.registerModule("t_embedder", new TimestepEmbedder(hiddenSize, rng));
    this.yEmbedder = config.condition ? this.registerModule("y_embedder", new ConditionEmbedder(config.condition, hiddenSize, rng)) : null;
    const blocks = Array.from({ length: depth }, () => new DiTBlock(hiddenSize, numHeads, rng, { mlpRatio, dropout }));
    this.blocks = this.registerModule("blocks", new ModuleList(blocks));
    this.finalLayer = this.registerModule("final_layer", new FinalLayer(hiddenSize, learnSigma ? 2 * latentDim : latentDim, rng));
  }

  /** Channels of the output: 2·latentDim with learned variance (ε, then v), else latentDim. */
  get outChannels(): number {
    return this.config.learnSigma ? 2 * this.config.latentDim : this.config.latentDim;
  }

  /**
   * x [B, N, latentDim] latents, t [B] (original) timesteps, extra.mask [B, N] (1 = atom),
   * extra.y condition → [B, N, outChannels], zero on padded atoms.
   */
  forward(x: tf.Tensor3D, t: tf.Tensor1D, extra: DiTExtra = {}): tf.Tensor3D {
    const [B, N, C] = x.shape;
    if (x.rank !== 3 || C !== this.config.latentDim) {
      throw new BatchError(`DiT expects latents [B, N, ${this.config.latentDim}] (latent_dim), got [${x.shape}]; the VAE and LDM latent_dim must agree.`);
    }
    if (t.rank !== 1 || t.shape[0] !== B) throw new BatchError(`DiT expects timesteps [${B}], got [${t.shape}].`);
    const mask = extra.mask;
    if (mask && (mask.shape[0] !== B || mask.shape[1] !== N)) throw new BatchError(`DiT mask must be [${B}, ${N}], got [${mask.shape}].`);
    if (extra.y && !this.yEmbedder) {
      throw new BatchError("this DiT has no condition embedding (condition: null) but a condition y was given; train a conditional model or drop y.");
    }
    return tf.tidy(() => {
      let c = this.tEmbedder.forward(t);
      if (this.yEmbedder) c = tf.add(c, this.yEmbedder.forward(extra.y, B, extra.dropCondition));
      let h = this.xEmbedder.forward(x);
      for (const block of this.blocks.items) h = block.forward(h, c, mask);
      const out = this.finalLayer.forward(h, c);
      return (mask ? tf.mul(out, tf.expandDims(mask, -1)) : out) as tf.Tensor3D;
    });
  }

  /** This model as the diffusion's `Denoiser` callback. */
  asDenoiser(): Denoiser {
    return (x, t, extra) => this.forward(x, t, extra as DiTExtra);
  }
}
