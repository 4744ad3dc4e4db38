/**
 * Basic layers: Linear, Embedding, LayerNorm, Dropout, activations and the two-layer MLP.
 * Parameter names follow PyTorch / timm (`weight`, `bias`, `fc1`, `fc2`) so state dicts map
 * one to one. Initialisation defaults are PyTorch's (see init.ts); DiT components choose
 * their own with the `init` option.
 */
import { tf } from "./tf.ts";
import { Module } from "./module.ts";
import { NnArgumentError } from "./errors.ts";
import type { Rng } from "./rng.ts";
import * as init from "./init.ts";
import { geluOp } from "./kernels/gelu.ts";
import { layerNorm } from "./kernels/layer_norm.ts";

/** Activation names accepted by `MLP` and `activation()`. */
export type ActivationName = "gelu" | "gelu_tanh" | "silu" | "relu" | "tanh";
const ACTIVATIONS: readonly string[] = ["gelu", "gelu_tanh", "silu", "relu", "tanh"];

/**
 * Exact GELU, x·Φ(x) = ½x(1 + erf(x/√2)) (PyTorch `nn.GELU()`). On wasm one fused kernel
 * with its own gradient (kernels/gelu.ts), tf ops elsewhere.
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  return geluOp(x);
}

/** Tanh-approximated GELU (PyTorch `nn.GELU(approximate="tanh")`, used by DiT's MLP). */
export function geluTanh(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
  });
}

/** SiLU / swish, x·σ(x). */
export function silu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
}

export function activation(name: ActivationName, x: tf.Tensor): tf.Tensor {
  switch (name) {
    case "gelu":
      return gelu(x);
    case "gelu_tanh":
      return geluTanh(x);
    case "silu":
      return silu(x);
    case "relu":
      return tf.relu(x);
    case "tanh":
      return tf.tanh(x);
    default:
      throw new NnArgumentError(`unknown activation "${name as string}"; use gelu, gelu_tanh, silu, relu or tanh.`);
  }
}

function checkSize(what: string, n: number): void {
  if (!Number.isInteger(n) || n <= 0) throw new NnArgumentError(`${what} must be a positive integer, got ${n}.`);
}

/** Weight init of a Linear layer: PyTorch default, DiT's xavier (+zero bias), or all zeros. */
export type LinearInit = "torch" | "xavier" | "zeros";

export interface LinearOptions {
  bias?: boolean;
  init?: LinearInit;
}

/**
 * y = x·W + b over the last axis. Stored weight shape is [inFeatures, outFeatures]
 * (PyTorch's transposed, see module.ts); its torch name is still `weight` with [out, in].
 */
export class Linear extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    rng: Rng,
    opts: LinearOptions = {},
  ) {
    super();
    checkSize("Linear inFeatures", inFeatures);
    checkSize("Linear outFeatures", outFeatures);
    const scheme = opts.init ?? "torch";
    const shape = [inFeatures, outFeatures];
    const w =
      scheme === "zeros"
        ? init.zeros(shape)
        : scheme === "xavier"
          ? init.xavierUniform(rng, shape, inFeatures, outFeatures)
          : init.torchLinear(rng, shape, inFeatures);
    this.weight = this.registerParameter("weight", w, { torchLayout: "transpose" });
    const b = scheme === "torch" ? init.torchLinear(rng, [outFeatures], inFeatures) : init.zeros([outFeatures]);
    this.bias = opts.bias === false ? (b.dispose(), null) : this.registerParameter("bias", b);
  }

  forward(x: tf.Tensor): tf.Tensor {
    const last = x.shape[x.rank - 1];
    if (last !== this.inFeatures) {
      throw new NnArgumentError(`Linear(${this.inFeatures}→${this.outFeatures}) got input with last dim ${last}.`);
    }
    return tf.tidy(() => {
      // Flatten to 2-D so the product is one plain (non-transposed) matMul; the bias rides
      // in the same call (XNNPACK adds it inside the GEMM on wasm, no separate Add pass).
      const x2 = x.rank === 2 ? x : tf.reshape(x, [-1, this.inFeatures]);
      const y = tf.fused.matMul({ a: x2 as tf.Tensor2D, b: this.weight as tf.Tensor2D, bias: this.bias ?? undefined });
      return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), this.outFeatures]);
    });
  }
}

/** Lookup table [numEmbeddings, dim], initialised N(0, 1) like `nn.Embedding`. */
export class Embedding extends Module {
  readonly weight: tf.Variable;
  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    rng: Rng,
  ) {
    super();
    checkSize("Embedding numEmbeddings", numEmbeddings);
    checkSize("Embedding embeddingDim", embeddingDim);
    this.weight = this.registerParameter("weight", init.normal(rng, [numEmbeddings, embeddingDim]));
  }

  /**
   * `indices` int32 of any shape → [...indices.shape, dim].
   *
   * A row lookup by gatherND, whose gradient (a scatter-add of the output gradient into
   * the table rows, duplicates summed) is given explicitly: tf.gather was ~12x slower on
   * wasm (1280 lookups in a 104×256 table: 23 ms vs 1.9 ms), and its autodiff gradient
   * needs UnsortedSegmentSum, which wasm lacks.
   */
  forward(indices: tf.Tensor): tf.Tensor {
    if (indices.dtype !== "int32") {
      throw new NnArgumentError(`Embedding expects int32 indices, got ${indices.dtype}; cast with tf.cast(x, "int32").`);
    }
    return tf.tidy(() => {
      this.checkRange(indices);
      const rows = tf.reshape(indices, [-1, 1]);
      const lookup = tf.customGrad(((weight: tf.Tensor) => ({
        value: tf.gatherND(weight, rows),
        gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.scatterND(rows, dy as tf.Tensor, weight.shape),
      })) as unknown as Parameters<typeof tf.customGrad>[0]);
      return tf.reshape(lookup(this.weight), [...indices.shape, this.embeddingDim]);
    });
  }

  /** gatherND does not check bounds on every back-end; an index outside the table is an input error. */
  private checkRange(indices: tf.Tensor): void {
    if (indices.size === 0) return;
    const [lo, hi] = [tf.min(indices).dataSync()[0]!, tf.max(indices).dataSync()[0]!];
    if (lo < 0 || hi >= this.numEmbeddings) {
      throw new NnArgumentError(`Embedding(${this.numEmbeddings}) got index ${lo < 0 ? lo : hi}; indices must lie in [0, ${this.numEmbeddings - 1}].`);
    }
  }
}

export interface LayerNormOptions {
  eps?: number;
  /** Learnable scale/shift (`weight` ones, `bias` zeros). DiT's norms use false. */
  elementwiseAffine?: boolean;
}

/** Layer normalisation over the last axis with the biased variance, as `nn.LayerNorm`. */
export class LayerNorm extends Module {
  readonly eps: number;
  readonly weight: tf.Variable | null = null;
  readonly bias: tf.Variable | null = null;

  constructor(
    readonly dim: number,
    opts: LayerNormOptions = {},
  ) {
    super();
    checkSize("LayerNorm dim", dim);
    this.eps = opts.eps ?? 1e-5;
    if (opts.elementwiseAffine ?? true) {
      this.weight = this.registerParameter("weight", init.ones([dim]));
      this.bias = this.registerParameter("bias", init.zeros([dim]));
    }
  }

  forward(x: tf.Tensor): tf.Tensor {
    // Affine: one fused kernel on wasm (kernels/layer_norm.ts), tf ops elsewhere.
    if (this.weight && this.bias) return layerNorm(x, this.weight, this.bias, this.eps);
    return tf.tidy(() => {
      const { mean, variance } = tf.moments(x, -1, true);
      let y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.eps)));
      if (this.weight && this.bias) y = tf.add(tf.mul(y, this.weight), this.bias);
      return y;
    });
  }
}

/**
 * Inverted dropout: in training mode zero each element with probability p and scale the
 * rest by 1/(1−p); identity in eval mode. The mask is drawn from the `Rng` passed in
 * (the run's generator, drawn from directly rather than forked, so two dropout layers
 * never share a stream), so a seeded run drops the same units.
 */
export class Dropout extends Module {
  constructor(
    readonly p: number,
    private readonly rng: Rng,
  ) {
    super();
    if (!(p >= 0 && p < 1)) throw new NnArgumentError(`Dropout p must be in [0, 1), got ${p}.`);
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (!this.training || this.p === 0) return x;
    const u = this.rng.tensorUniform([...x.shape]);
    return tf.tidy(() => {
      const keep = tf.cast(tf.greaterEqual(u, this.p), "float32");
      u.dispose();
      return tf.mul(x, tf.mul(keep, 1 / (1 - this.p)));
    });
  }
}

export interface MLPOptions {
  activation?: ActivationName;
  dropout?: number;
  init?: LinearInit;
}

/** fc1 → activation → dropout → fc2 → dropout (timm's `Mlp`, used by DiT blocks). */
export class MLP extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly act: ActivationName;
  private readonly drop: Dropout;

  constructor(inFeatures: number, hiddenFeatures: number, outFeatures: number, rng: Rng, opts: MLPOptions = {}) {
    super();
    this.act = opts.activation ?? "gelu";
    if (!ACTIVATIONS.includes(this.act)) {
      throw new NnArgumentError(`unknown activation "${this.act}"; use ${ACTIVATIONS.join(", ")}.`);
    }
    this.fc1 = this.registerModule("fc1", new Linear(inFeatures, hiddenFeatures, rng, { init: opts.init }));
    this.fc2 = this.registerModule("fc2", new Linear(hiddenFeatures, outFeatures, rng, { init: opts.init }));
    this.drop = this.registerModule("drop", new Dropout(opts.dropout ?? 0, rng));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const h = this.drop.forward(activation(this.act, this.fc1.forward(x)));
      return this.drop.forward(this.fc2.forward(h));
    });
  }
}
