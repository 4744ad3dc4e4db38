/**
 * The VAE encoder: per-atom tokens → transformer → per-atom hidden states.
 *
 * token_i = atom_embedding[Z_i − 1] + frac_embedding(Fourier(x_i)) + lattice_embedding(lattice)
 *
 * The lattice (scaled lengths, angles) is embedded once per structure and added to every atom
 * token, a broadcast "lattice token": the sequence stays one token per atom, so the latent is
 * exactly one vector per atom (what the LDM diffuses), and each atom's latent can carry the
 * cell information that the decoder pools back. Pre-norm blocks (`norm_first`), key-padding
 * mask, a final LayerNorm.
 */
import { tf } from "../nn/tf.ts";
import { Module, ModuleList } from "../nn/module.ts";
import { Embedding, LayerNorm, Linear } from "../nn/layers.ts";
import { TransformerBlock } from "../nn/transformer.ts";
import type { Rng } from "../nn/rng.ts";
import type { VAEConfig } from "./config.ts";
import { fourierFeatures, latticeFeatures, typeIndices } from "./features.ts";

/** A stack of pre-norm transformer blocks with a final LayerNorm (shared by encoder and decoder). */
export class TransformerStack extends Module {
  readonly layers: ModuleList<TransformerBlock>;
  readonly norm: LayerNorm;

  constructor(c: VAEConfig, rng: Rng) {
    super();
    const blocks = Array.from(
      { length: c.numLayers },
      () => new TransformerBlock(c.dModel, c.nhead, rng, { mlpRatio: c.dimFeedforward / c.dModel, activation: c.activation, dropout: c.dropout }),
    );
    this.layers = this.registerModule("layers", new ModuleList(blocks));
    this.norm = this.registerModule("norm", new LayerNorm(c.dModel));
  }

  /** x [B, N, d], mask [B, N] → [B, N, d]. */
  forward(x: tf.Tensor, mask: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let h = x;
      for (const block of this.layers.items) h = block.forward(h, mask);
      return this.norm.forward(h);
    });
  }
}

export class CrystalEncoder extends Module {
  readonly atomEmbedding: Embedding;
  readonly fracEmbedding: Linear;
  readonly latticeEmbedding: Linear;
  readonly transformer: TransformerStack;

  constructor(readonly config: VAEConfig, rng: Rng) {
    super();
    const d = config.dModel;
    this.atomEmbedding = this.registerModule("atom_embedding", new Embedding(config.maxNumElements, d, rng));
    this.fracEmbedding = this.registerModule("frac_embedding", new Linear(6 * config.fourierFrequencies, d, rng));
    this.latticeEmbedding = this.registerModule("lattice_embedding", new Linear(6, d, rng));
    this.transformer = this.registerModule("transformer", new TransformerStack(config, rng));
  }

  /**
   * Atom-type embedding as one-hot · weight rather than a gather: the wasm back-end has no
   * gradient kernel for gather (UnsortedSegmentSum), and this is one plain matMul.
   */
  private embedAtoms(atomTypes: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const [b, n] = atomTypes.shape;
      const onehot = tf.oneHot(tf.reshape(typeIndices(atomTypes), [-1]), this.config.maxNumElements);
      const flat = tf.matMul(onehot as tf.Tensor2D, this.atomEmbedding.weight as tf.Tensor2D);
      return tf.reshape(flat, [b, n, this.config.dModel]);
    });
  }

  /** Batch tensors → per-atom hidden states [B, N, d]. */
  forward(atomTypes: tf.Tensor, fracCoords: tf.Tensor, lengths: tf.Tensor, angles: tf.Tensor, mask: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const atoms = this.embedAtoms(atomTypes);
      const coords = this.fracEmbedding.forward(fourierFeatures(fracCoords, this.config.fourierFrequencies));
      const lattice = tf.expandDims(this.latticeEmbedding.forward(latticeFeatures(lengths, angles, mask)), 1);
      return this.transformer.forward(tf.add(tf.add(atoms, coords), lattice), mask);
    });
  }
}
