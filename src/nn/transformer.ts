/**
 * Pre-norm transformer block: x + Attn(LN(x)), then x + MLP(LN(x)) (timm's `Block`).
 * Used by the VAE encoder/decoder and by the engine benchmark.
 */
import { tf } from "./tf.ts";
import { Module } from "./module.ts";
import { LayerNorm, MLP, type ActivationName, type LinearInit } from "./layers.ts";
import { MultiHeadSelfAttention } from "./attention.ts";
import type { Rng } from "./rng.ts";

export interface TransformerBlockOptions {
  /** MLP hidden width = mlpRatio · dim (default 4). */
  mlpRatio?: number;
  activation?: ActivationName;
  dropout?: number;
  /** LayerNorm epsilon (default 1e-5 as `nn.LayerNorm`). */
  eps?: number;
  init?: LinearInit;
}

export class TransformerBlock extends Module {
  readonly norm1: LayerNorm;
  readonly attn: MultiHeadSelfAttention;
  readonly norm2: LayerNorm;
  readonly mlp: MLP;

  constructor(dim: number, numHeads: number, rng: Rng, opts: TransformerBlockOptions = {}) {
    super();
    const hidden = Math.round(dim * (opts.mlpRatio ?? 4));
    this.norm1 = this.registerModule("norm1", new LayerNorm(dim, { eps: opts.eps }));
    this.attn = this.registerModule(
      "attn",
      new MultiHeadSelfAttention(dim, numHeads, rng, { dropout: opts.dropout, init: opts.init }),
    );
    this.norm2 = this.registerModule("norm2", new LayerNorm(dim, { eps: opts.eps }));
    this.mlp = this.registerModule(
      "mlp",
      new MLP(dim, hidden, dim, rng, { activation: opts.activation, dropout: opts.dropout, init: opts.init }),
    );
  }

  /** x [B, N, dim], mask [B, N] (1 = token) → [B, N, dim]. */
  forward(x: tf.Tensor, mask?: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const h = tf.add(x, this.attn.forward(this.norm1.forward(x), mask));
      return tf.add(h, this.mlp.forward(this.norm2.forward(h)));
    });
  }
}
