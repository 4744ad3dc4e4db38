/**
 * Diffusion timestep embedding as in DiT's `TimestepEmbedder`: a fixed sinusoidal
 * frequency embedding (default 256 wide) followed by Linear → SiLU → Linear.
 */
import { tf } from "./tf.ts";
import { Module, ModuleDict } from "./module.ts";
import { Linear, silu } from "./layers.ts";
import { NnArgumentError } from "./errors.ts";
import type { Rng } from "./rng.ts";
import * as init from "./init.ts";

/**
 * Sinusoidal embedding of (possibly fractional) timesteps: [cos(t·f_i), sin(t·f_i)] with
 * f_i = maxPeriod^(−i/half), i < half = ⌊dim/2⌋; an odd `dim` gets a trailing zero column.
 * @param t [B] timesteps (any numeric dtype). @returns [B, dim] float32.
 */
export function timestepEmbedding(t: tf.Tensor, dim: number, maxPeriod = 10000): tf.Tensor {
  if (t.rank !== 1) throw new NnArgumentError(`timestepEmbedding expects 1-D timesteps [B], got [${t.shape}].`);
  if (!Number.isInteger(dim) || dim < 2) throw new NnArgumentError(`timestep embedding dim must be an integer ≥ 2, got ${dim}.`);
  const half = Math.floor(dim / 2);
  const freqs = new Float32Array(half);
  for (let i = 0; i < half; i++) freqs[i] = Math.exp((-Math.log(maxPeriod) * i) / half);
  return tf.tidy(() => {
    const args = tf.mul(tf.reshape(tf.cast(t, "float32"), [-1, 1]), tf.tensor2d(freqs, [1, half]));
    const emb = tf.concat([tf.cos(args), tf.sin(args)], 1);
    return dim % 2 ? tf.concat([emb, tf.zeros([t.shape[0], 1])], 1) : emb;
  });
}

export interface TimestepEmbedderOptions {
  frequencyEmbeddingSize?: number;
  maxPeriod?: number;
}

/**
 * t [B] → [B, hiddenSize]. Parameters are `mlp.0.*` and `mlp.2.*` (index 1 is the SiLU of
 * DiT's `nn.Sequential`). Init follows DiT: weights N(0, 0.02), biases zero.
 */
export class TimestepEmbedder extends Module {
  readonly mlp: ModuleDict<Linear>;
  readonly frequencyEmbeddingSize: number;
  readonly maxPeriod: number;

  constructor(
    readonly hiddenSize: number,
    rng: Rng,
    opts: TimestepEmbedderOptions = {},
  ) {
    super();
    this.frequencyEmbeddingSize = opts.frequencyEmbeddingSize ?? 256;
    this.maxPeriod = opts.maxPeriod ?? 10000;
    const l0 = new Linear(this.frequencyEmbeddingSize, hiddenSize, rng, { init: "zeros" });
    const l2 = new Linear(hiddenSize, hiddenSize, rng, { init: "zeros" });
    for (const l of [l0, l2]) {
      tf.tidy(() => l.weight.assign(init.normal(rng, [...l.weight.shape], 0.02)));
    }
    this.mlp = this.registerModule("mlp", new ModuleDict({ "0": l0, "2": l2 }));
  }

  forward(t: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const freq = timestepEmbedding(t, this.frequencyEmbeddingSize, this.maxPeriod);
      return this.mlp.get("2").forward(silu(this.mlp.get("0").forward(freq)));
    });
  }
}
