/**
 * The VAE decoder: per-atom latents → transformer → three heads.
 *   - `atom_head`:    per-atom logits over `maxNumElements` element classes (Z − 1);
 *   - `coord_head`:   per-atom (cos, sin) pair for each fractional coordinate (features.ts);
 *   - `lattice_head`: masked mean of the atom states → MLP → 3 scaled lengths + 3 angles (rad).
 */
import { tf } from "../nn/tf.ts";
import { Module } from "../nn/module.ts";
import { Linear, MLP } from "../nn/layers.ts";
import type { Rng } from "../nn/rng.ts";
import type { VAEConfig } from "./config.ts";
import { TransformerStack } from "./encoder.ts";
import { maskedMean } from "./features.ts";

/** Raw decoder outputs (all tensors owned by the caller). */
export interface VAEPredictions {
  /** [B, N, maxNumElements] logits; class c is Z = c + 1. */
  atomLogits: tf.Tensor;
  /** [B, N, 3, 2] (cos, sin) per coordinate, not normalised. */
  coordVectors: tf.Tensor;
  /** [B, 3] lengths / n^(1/3) in Å. */
  scaledLengths: tf.Tensor;
  /** [B, 3] angles in radians. */
  angles: tf.Tensor;
}

export class CrystalDecoder extends Module {
  readonly latentProj: Linear;
  readonly transformer: TransformerStack;
  readonly atomHead: Linear;
  readonly coordHead: Linear;
  readonly latticeHead: MLP;

  constructor(readonly config: VAEConfig, rng: Rng) {
    super();
    const d = config.dModel;
    this.latentProj = this.registerModule("latent_proj", new Linear(config.latentDim, d, rng));
    this.transformer = this.registerModule("transformer", new TransformerStack(config, rng));
    this.atomHead = this.registerModule("atom_head", new Linear(d, config.maxNumElements, rng));
    this.coordHead = this.registerModule("coord_head", new Linear(d, 6, rng));
    this.latticeHead = this.registerModule("lattice_head", new MLP(d, d, 6, rng, { activation: config.activation }));
  }

  /** z [B, N, latentDim], mask [B, N] → predictions. */
  forward(z: tf.Tensor, mask: tf.Tensor): VAEPredictions {
    return tf.tidy(() => {
      const [b, n] = mask.shape;
      const h = this.transformer.forward(this.latentProj.forward(z), mask);
      const lattice = this.latticeHead.forward(maskedMean(h, mask));
      const [scaledLengths, angles] = tf.split(lattice, 2, 1);
      return {
        atomLogits: this.atomHead.forward(h),
        coordVectors: tf.reshape(this.coordHead.forward(h), [b, n, 3, 2]),
        scaledLengths,
        angles,
      };
    }) as VAEPredictions;
  }
}
