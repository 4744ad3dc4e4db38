import { test } from "uvu";
import * as assert from "uvu/assert";
import { tf } from "../../src/nn/tf.ts";
import { useTestBackend } from "./helpers/backend.ts";
import { MultiHeadSelfAttention } from "../../src/nn/attention.ts";
import { Rng } from "../../src/nn/rng.ts";
import { NnArgumentError } from "../../src/nn/errors.ts";

await useTestBackend();

type M = number[][];
const matmul = (a: M, b: M): M => a.map((r) => b[0].map((_, j) => r.reduce((s, v, k) => s + v * b[k][j], 0)));
const addBias = (a: M, b: number[]): M => a.map((r) => r.map((v, j) => v + b[j]));

/** Straightforward per-sequence, per-head attention in plain JS, as the reference. */
function naiveAttention(attn: MultiHeadSelfAttention, x: M, mask: number[]): M {
  const d = attn.dim;
  const hd = attn.headDim;
  const qkv = addBias(matmul(x, attn.qkv.weight.arraySync() as M), Array.from(attn.qkv.bias!.dataSync()));
  const out: M = x.map(() => new Array(d).fill(0));
  for (let h = 0; h < attn.numHeads; h++) {
    const col = (part: number, i: number, c: number) => qkv[i][part * d + h * hd + c];
    for (let i = 0; i < x.length; i++) {
      const logits = x.map((_, j) => {
        let s = 0;
        for (let c = 0; c < hd; c++) s += col(0, i, c) * col(1, j, c);
        return mask[j] ? s / Math.sqrt(hd) : -Infinity;
      });
      const m = Math.max(...logits);
      const e = logits.map((l) => Math.exp(l - m));
      const z = e.reduce((a, b) => a + b, 0);
      for (let c = 0; c < hd; c++) out[i][h * hd + c] = e.reduce((s, w, j) => s + (w / z) * col(2, j, c), 0);
    }
  }
  return addBias(matmul(out, attn.proj.weight.arraySync() as M), Array.from(attn.proj.bias!.dataSync()));
}

test("matches a naive per-head implementation, with and without padding", () => {
  const rng = new Rng(0);
  const attn = new MultiHeadSelfAttention(8, 2, rng);
  const x = rng.tensorNormal([2, 5, 8]);
  const maskRows = [
    [1, 1, 1, 1, 1],
    [1, 1, 1, 0, 0],
  ];
  const y = attn.forward(x, tf.tensor2d(maskRows)).arraySync() as number[][][];
  const xs = x.arraySync() as number[][][];
  for (let b = 0; b < 2; b++) {
    const want = naiveAttention(attn, xs[b], maskRows[b]);
    for (let i = 0; i < 5; i++) for (let c = 0; c < 8; c++) assert.ok(Math.abs(y[b][i][c] - want[i][c]) < 1e-5, `b${b} i${i} c${c}`);
  }
  const noMask = attn.forward(x).arraySync() as number[][][];
  const want0 = naiveAttention(attn, xs[1], [1, 1, 1, 1, 1]);
  assert.ok(Math.abs(noMask[1][2][3] - want0[2][3]) < 1e-5);
});

test("padded tokens do not influence real tokens", () => {
  const rng = new Rng(1);
  const attn = new MultiHeadSelfAttention(8, 4, rng);
  const mask = tf.tensor2d([[1, 1, 1, 0]]);
  const x1 = rng.tensorNormal([1, 4, 8]);
  const changed = tf.concat([tf.slice(x1, [0, 0, 0], [1, 3, 8]), tf.fill([1, 1, 8], 100)], 1);
  const a = tf.slice(attn.forward(x1, mask), [0, 0, 0], [1, 3, 8]).dataSync();
  const b = tf.slice(attn.forward(changed, mask), [0, 0, 0], [1, 3, 8]).dataSync();
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-6);
  // an all-padding row gives finite output (uniform weights), never NaN
  const empty = attn.forward(x1, tf.zeros([1, 4])).dataSync();
  assert.ok(Array.from(empty).every(Number.isFinite));
});

test("gradients flow to every parameter and the input", () => {
  const rng = new Rng(2);
  const attn = new MultiHeadSelfAttention(8, 2, rng);
  const x = rng.tensorNormal([2, 3, 8]);
  const mask = tf.tensor2d([[1, 1, 0], [1, 1, 1]]);
  const { grads } = tf.variableGrads(() => tf.sum(tf.square(attn.forward(x, mask))) as tf.Scalar, attn.parameters());
  for (const v of attn.parameters()) {
    const g = grads[v.name].dataSync();
    assert.ok(Array.from(g).some((u) => u !== 0) && Array.from(g).every(Number.isFinite), v.name);
  }
  const gx = tf.grad((inp: tf.Tensor) => tf.sum(attn.forward(inp, mask)))(x);
  assert.equal(gx.shape, [2, 3, 8]);
});

test("rejects widths not divisible by the head count and bad masks", () => {
  assert.throws(() => new MultiHeadSelfAttention(10, 3, new Rng(0)), (e: unknown) => e instanceof NnArgumentError);
  const attn = new MultiHeadSelfAttention(8, 2, new Rng(0));
  assert.throws(() => attn.forward(tf.zeros([1, 3, 8]), tf.ones([1, 4])), /mask must be \[1, 3\]/);
  assert.throws(() => attn.forward(tf.zeros([3, 8])), /\[B, N, 8\]/);
});

test.run();
