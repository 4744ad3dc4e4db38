/**
 * Masked multi-head self-attention (timm's `Attention` as used by DiT: one fused `qkv`
 * projection and an output `proj`), for padded per-atom token sequences.
 */
import { tf } from "./tf.ts";
import { Module } from "./module.ts";
import { Dropout, Linear, type LinearInit } from "./layers.ts";
import { NnArgumentError } from "./errors.ts";
import type { Rng } from "./rng.ts";

export interface AttentionOptions {
  qkvBias?: boolean;
  /** Dropout on the attention weights and on the output projection (default 0). */
  dropout?: number;
  init?: LinearInit;
}

/**
 * Additive logit bias for masked keys. Finite (not −∞) so a fully masked row (a padding
 * query whose own sequence is empty) gives uniform weights instead of NaN; real rows are
 * unaffected because exp(−1e9 + max) underflows to exactly 0 in float32.
 */
const MASKED_LOGIT = -1e9;

export class MultiHeadSelfAttention extends Module {
  readonly qkv: Linear;
  readonly proj: Linear;
  readonly headDim: number;
  private readonly attnDrop: Dropout;
  private readonly projDrop: Dropout;

  constructor(
    readonly dim: number,
    readonly numHeads: number,
    rng: Rng,
    opts: AttentionOptions = {},
  ) {
    super();
    if (!Number.isInteger(numHeads) || numHeads <= 0 || dim % numHeads !== 0) {
      throw new NnArgumentError(`attention width ${dim} is not divisible by numHeads ${numHeads}.`);
    }
    this.headDim = dim / numHeads;
    this.qkv = this.registerModule("qkv", new Linear(dim, 3 * dim, rng, { bias: opts.qkvBias ?? true, init: opts.init }));
    this.proj = this.registerModule("proj", new Linear(dim, dim, rng, { init: opts.init }));
    this.attnDrop = this.registerModule("attn_drop", new Dropout(opts.dropout ?? 0, rng));
    this.projDrop = this.registerModule("proj_drop", new Dropout(opts.dropout ?? 0, rng));
  }

  /**
   * @param x    [B, N, dim] tokens.
   * @param mask optional [B, N], 1 for real tokens and 0 for padding: padded tokens are
   *             never attended to (they still get an output row, which callers mask out).
   * @returns    [B, N, dim].
   */
  forward(x: tf.Tensor, mask?: tf.Tensor): tf.Tensor {
    if (x.rank !== 3 || x.shape[2] !== this.dim) {
      throw new NnArgumentError(`attention expects [B, N, ${this.dim}] input, got [${x.shape}].`);
    }
    const [b, n] = x.shape;
    if (mask && (mask.rank !== 2 || mask.shape[0] !== b || mask.shape[1] !== n)) {
      throw new NnArgumentError(`attention mask must be [${b}, ${n}] (1 = token, 0 = padding), got [${mask.shape}].`);
    }
    return tf.tidy(() => {
      const { q, kT, v } = this.splitHeads(this.qkv.forward(x), b, n);
      // kT is already [B, H, hd, N]: a plain matMul, no transposeB (slow on wasm).
      let logits = tf.matMul(tf.mul(q, 1 / Math.sqrt(this.headDim)), kT);
      if (mask) logits = tf.add(logits, tf.reshape(tf.mul(tf.sub(1, tf.cast(mask, "float32")), MASKED_LOGIT), [b, 1, 1, n]));
      const weights = this.attnDrop.forward(tf.softmax(logits, -1));
      const heads = tf.matMul(weights, v); // [B, H, N, hd]
      const merged = tf.reshape(tf.transpose(heads, [0, 2, 1, 3]), [b, n, this.dim]);
      return this.projDrop.forward(this.proj.forward(merged));
    });
  }

  /** [B, N, 3·dim] → q [B, H, N, hd], kᵀ [B, H, hd, N], v [B, H, N, hd]. */
  private splitHeads(qkv: tf.Tensor, b: number, n: number): { q: tf.Tensor; kT: tf.Tensor; v: tf.Tensor } {
    const [q, k, v] = tf.split(tf.reshape(qkv, [b, n, 3, this.numHeads, this.headDim]), 3, 2);
    const heads = [b, n, this.numHeads, this.headDim];
    return {
      q: tf.transpose(tf.reshape(q, heads), [0, 2, 1, 3]),
      kT: tf.transpose(tf.reshape(k, heads), [0, 2, 3, 1]),
      v: tf.transpose(tf.reshape(v, heads), [0, 2, 1, 3]),
    };
  }
}
