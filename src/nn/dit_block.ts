/**
 * adaLN-Zero DiT block and final layer (Peebles & Xie, "Scalable Diffusion Models with
 * Transformers"; Chemeleon2's denoiser). The conditioning vector c (timestep embedding,
 * plus any condition embedding) is turned by SiLU → Linear into per-channel shift, scale
 * and gate; the modulation Linear is zero-initialised so every block starts as the
 * identity and the final layer starts by predicting zeros.
 *
 * Init as DiT's `initialize_weights`: xavier-uniform Linear weights with zero biases in
 * attention and MLP; zero adaLN modulation; zero final projection. Norms have no affine
 * parameters (eps 1e-6). Names match DiT's state dict (`adaLN_modulation.1.weight`, ...).
 */
import { tf } from "./tf.ts";
import { Module, ModuleDict } from "./module.ts";
import { LayerNorm, Linear, MLP, silu } from "./layers.ts";
import { MultiHeadSelfAttention } from "./attention.ts";
import { NnArgumentError } from "./errors.ts";
import type { Rng } from "./rng.ts";

/** x·(1 + scale) + shift with [B, D] modulation broadcast over the N tokens of x [B, N, D]. */
export function modulate(x: tf.Tensor, shift: tf.Tensor, scale: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.add(tf.mul(x, tf.add(tf.expandDims(scale, 1), 1)), tf.expandDims(shift, 1)));
}

/** SiLU → Linear(hidden, k·hidden), zero-initialised, named like `nn.Sequential` index 1. */
function adaLNModulation(hidden: number, chunks: number, rng: Rng): ModuleDict<Linear> {
  return new ModuleDict({ "1": new Linear(hidden, chunks * hidden, rng, { init: "zeros" }) });
}

function checkCond(c: tf.Tensor, x: tf.Tensor, hidden: number): void {
  if (c.rank !== 2 || c.shape[0] !== x.shape[0] || c.shape[1] !== hidden) {
    throw new NnArgumentError(`conditioning c must be [${x.shape[0]}, ${hidden}], got [${c.shape}].`);
  }
}

export interface DiTBlockOptions {
  mlpRatio?: number;
  dropout?: number;
}

export class DiTBlock extends Module {
  readonly norm1: LayerNorm;
  readonly attn: MultiHeadSelfAttention;
  readonly norm2: LayerNorm;
  readonly mlp: MLP;
  readonly adaLNModulation: ModuleDict<Linear>;

  constructor(
    readonly hiddenSize: number,
    numHeads: number,
    rng: Rng,
    opts: DiTBlockOptions = {},
  ) {
    super();
    const mlpHidden = Math.round(hiddenSize * (opts.mlpRatio ?? 4));
    this.norm1 = this.registerModule("norm1", new LayerNorm(hiddenSize, { eps: 1e-6, elementwiseAffine: false }));
    this.attn = this.registerModule(
      "attn",
      new MultiHeadSelfAttention(hiddenSize, numHeads, rng, { init: "xavier", dropout: opts.dropout }),
    );
    this.norm2 = this.registerModule("norm2", new LayerNorm(hiddenSize, { eps: 1e-6, elementwiseAffine: false }));
    this.mlp = this.registerModule(
      "mlp",
      new MLP(hiddenSize, mlpHidden, hiddenSize, rng, { activation: "gelu_tanh", init: "xavier", dropout: opts.dropout }),
    );
    this.adaLNModulation = this.registerModule("adaLN_modulation", adaLNModulation(hiddenSize, 6, rng));
  }

  /** x [B, N, D], c [B, D], mask [B, N] (1 = token) → [B, N, D]. */
  forward(x: tf.Tensor, c: tf.Tensor, mask?: tf.Tensor): tf.Tensor {
    checkCond(c, x, this.hiddenSize);
    return tf.tidy(() => {
      const mod = this.adaLNModulation.get("1").forward(silu(c));
      const [shiftMsa, scaleMsa, gateMsa, shiftMlp, scaleMlp, gateMlp] = tf.split(mod, 6, 1);
      const a = this.attn.forward(modulate(this.norm1.forward(x), shiftMsa, scaleMsa), mask);
      const h = tf.add(x, tf.mul(tf.expandDims(gateMsa, 1), a));
      const m = this.mlp.forward(modulate(this.norm2.forward(h), shiftMlp, scaleMlp));
      return tf.add(h, tf.mul(tf.expandDims(gateMlp, 1), m));
    });
  }
}

/** DiT's `FinalLayer`: adaLN-modulated norm, then a zero-initialised Linear to the output width. */
export class FinalLayer extends Module {
  readonly normFinal: LayerNorm;
  readonly linear: Linear;
  readonly adaLNModulation: ModuleDict<Linear>;

  constructor(
    readonly hiddenSize: number,
    readonly outChannels: number,
    rng: Rng,
  ) {
    super();
    this.normFinal = this.registerModule("norm_final", new LayerNorm(hiddenSize, { eps: 1e-6, elementwiseAffine: false }));
    this.linear = this.registerModule("linear", new Linear(hiddenSize, outChannels, rng, { init: "zeros" }));
    this.adaLNModulation = this.registerModule("adaLN_modulation", adaLNModulation(hiddenSize, 2, rng));
  }

  /** x [B, N, D], c [B, D] → [B, N, outChannels]. */
  forward(x: tf.Tensor, c: tf.Tensor): tf.Tensor {
    checkCond(c, x, this.hiddenSize);
    return tf.tidy(() => {
      const [shift, scale] = tf.split(this.adaLNModulation.get("1").forward(silu(c)), 2, 1);
      return this.linear.forward(modulate(this.normFinal.forward(x), shift, scale));
    });
  }
}
