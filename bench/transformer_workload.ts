/**
 * The engine benchmark's workload, written with raw tf ops so that it measures the tensor
 * engine and nothing else: a stack of pre-norm transformer blocks, op for op the model
 * of ../shared/bench/torch_transformer_step.py —
 *
 *     h = x + proj(attention(qkv(LN1(x)), key mask))      (8 heads, scores / sqrt(d_head))
 *     y = h + fc2(GELU(fc1(LN2(h))))                      (FFN width 4·d, exact erf GELU)
 *     loss = mean(y²)
 *
 * with torch's default initialisation (Linear: U(±1/√fan_in) for weight and bias,
 * LayerNorm: ones/zeros, eps 1e-5) and torch.optim.AdamW defaults (β 0.9/0.999,
 * eps 1e-8, weight decay 0.01) at lr 1e-4. Masked keys get -1e9 before the softmax,
 * like `masked_fill(~mask, -1e9)`.
 */
import { tf } from "../src/nn/tf.ts";

export interface WorkloadConfig {
  batch: number;
  tokens: number;
  dim: number;
  heads: number;
  layers: number;
  mlpRatio: number;
}

export const DEFAULT_WORKLOAD: WorkloadConfig = { batch: 64, tokens: 20, dim: 256, heads: 8, layers: 4, mlpRatio: 4 };

interface Linear {
  w: tf.Variable; // [in, out], so the forward product needs no transpose
  b: tf.Variable;
}
interface Block {
  n1: [tf.Variable, tf.Variable];
  n2: [tf.Variable, tf.Variable];
  qkv: Linear;
  proj: Linear;
  fc1: Linear;
  fc2: Linear;
}

export interface Workload {
  config: WorkloadConfig;
  blocks: Block[];
  variables: tf.Variable[];
  x: tf.Tensor3D;
  /** 0 for visible keys, -1e9 for masked ones, shaped [batch, 1, 1, tokens]. */
  maskBias: tf.Tensor4D;
}

/** Seeds for the initialisers: a fresh one per tensor, so every layer gets its own weights. */
let nextSeed = 1;

function linear(fanIn: number, fanOut: number): Linear {
  const bound = 1 / Math.sqrt(fanIn);
  return {
    w: tf.variable(tf.randomUniform([fanIn, fanOut], -bound, bound, "float32", nextSeed++)),
    b: tf.variable(tf.randomUniform([fanOut], -bound, bound, "float32", nextSeed++)),
  };
}

function block(d: number, r: number): Block {
  const norm = (): [tf.Variable, tf.Variable] => [tf.variable(tf.ones([d])), tf.variable(tf.zeros([d]))];
  return { n1: norm(), n2: norm(), qkv: linear(d, 3 * d), proj: linear(d, d), fc1: linear(d, r * d), fc2: linear(r * d, d) };
}

/** Builds parameters, the input batch and the key mask (last quarter of tokens masked). */
export function buildWorkload(config: WorkloadConfig = DEFAULT_WORKLOAD): Workload {
  const blocks = Array.from({ length: config.layers }, () => block(config.dim, config.mlpRatio));
  const variables = blocks.flatMap((b) => [...b.n1, ...b.n2, ...[b.qkv, b.proj, b.fc1, b.fc2].flatMap((l) => [l.w, l.b])]);
  const { batch, tokens, dim } = config;
  const x = tf.randomNormal([batch, tokens, dim], 0, 1, "float32", 0) as tf.Tensor3D;
  const visible = Math.floor((tokens * 3) / 4);
  const row = Array.from({ length: tokens }, (_, j) => (j < visible ? 0 : -1e9));
  const maskBias = tf.tensor4d(Array.from({ length: batch }, () => row).flat(), [batch, 1, 1, tokens]);
  return { config, blocks, variables, x, maskBias };
}

function layerNorm(x: tf.Tensor, [gamma, beta]: [tf.Variable, tf.Variable]): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return x.sub(mean).mul(variance.add(1e-5).rsqrt()).mul(gamma).add(beta);
}

function dense(x2d: tf.Tensor2D, l: Linear): tf.Tensor2D {
  return tf.matMul(x2d, l.w).add(l.b);
}

function gelu(x: tf.Tensor): tf.Tensor {
  return x.mul(tf.erf(x.mul(Math.SQRT1_2)).add(1)).mul(0.5);
}

function attention(x: tf.Tensor3D, blk: Block, w: Workload): tf.Tensor3D {
  const { batch: B, tokens: N, dim: D, heads: H } = w.config;
  const dh = D / H;
  const qkv = dense(layerNorm(x, blk.n1).reshape([B * N, D]) as tf.Tensor2D, blk.qkv);
  const [q, k, v] = tf.unstack(qkv.reshape([B, N, 3, H, dh]).transpose([2, 0, 3, 1, 4])) as tf.Tensor4D[];
  const scores = tf.matMul(q!, k!, false, true).mul(1 / Math.sqrt(dh)).add(w.maskBias);
  const ctx = tf.matMul(tf.softmax(scores), v!).transpose([0, 2, 1, 3]).reshape([B * N, D]) as tf.Tensor2D;
  return x.add(dense(ctx, blk.proj).reshape([B, N, D]));
}

function feedForward(x: tf.Tensor3D, blk: Block, w: Workload): tf.Tensor3D {
  const { batch: B, tokens: N, dim: D } = w.config;
  const h = gelu(dense(layerNorm(x, blk.n2).reshape([B * N, D]) as tf.Tensor2D, blk.fc1)) as tf.Tensor2D;
  return x.add(dense(h, blk.fc2).reshape([B, N, D]));
}

/** Forward pass of the whole stack and the loss mean(y²). */
export function forwardLoss(w: Workload): tf.Scalar {
  let h = w.x;
  for (const blk of w.blocks) h = feedForward(attention(h, blk, w), blk, w);
  return h.square().mean();
}

/** AdamW state: first/second moments per variable and the step count. */
export interface AdamWState {
  m: tf.Variable[];
  v: tf.Variable[];
  step: number;
}

export function adamWState(w: Workload): AdamWState {
  return { m: w.variables.map((p) => tf.variable(tf.zerosLike(p))), v: w.variables.map((p) => tf.variable(tf.zerosLike(p))), step: 0 };
}

const LR = 1e-4;
const BETA1 = 0.9;
const BETA2 = 0.999;
const EPS = 1e-8;
const WEIGHT_DECAY = 0.01;

/** One optimisation step: forward, backward, AdamW update (torch.optim.AdamW semantics). */
export function trainStep(w: Workload, opt: AdamWState): number {
  opt.step += 1;
  const c1 = 1 - BETA1 ** opt.step;
  const c2 = 1 - BETA2 ** opt.step;
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => forwardLoss(w), w.variables);
    w.variables.forEach((p, i) => {
      const g = grads[p.name]!;
      const m = opt.m[i]!.mul(BETA1).add(g.mul(1 - BETA1));
      const v = opt.v[i]!.mul(BETA2).add(g.square().mul(1 - BETA2));
      opt.m[i]!.assign(m);
      opt.v[i]!.assign(v);
      const update = m.div(c1).div(v.div(c2).sqrt().add(EPS)).mul(LR);
      p.assign(p.mul(1 - LR * WEIGHT_DECAY).sub(update));
    });
    return value.dataSync()[0]!;
  });
}
