/**
 * The fused wasm ops (GELU, LayerNorm) and the Embedding lookup:
 * values and gradients on wasm (fused kernels) against the tf-op compositions on the cpu
 * back-end, to 1e-5; plus checks that wasm really takes the fused kernel.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { tf } from "../../src/nn/tf.ts";
import { initBackend } from "../../src/nn/backend.ts";
import { FUSED_KERNEL_NAMES } from "../../src/nn/fast_kernels.ts";
import { GELU, GELU_GRAD, geluOp } from "../../src/nn/kernels/gelu.ts";
import { LAYER_NORM, LAYER_NORM_GRAD, layerNorm } from "../../src/nn/kernels/layer_norm.ts";
import { normalCdfExact, erfSeries, sampleFunction } from "../../src/nn/kernels/fast_math.ts";
import { Embedding } from "../../src/nn/layers.ts";
import { NnArgumentError } from "../../src/nn/errors.ts";
import { Rng } from "../../src/nn/rng.ts";
import { assertClose, compareBackends, kernelsRun } from "./helpers/compare_backends.ts";

test.before(async () => {
  const info = await initBackend({ backend: "wasm" });
  assert.is(info.backend, "wasm");
});

test.after(async () => {
  await tf.setBackend("wasm");
});

test("fused kernels are registered on wasm", () => {
  for (const name of [GELU, GELU_GRAD, LAYER_NORM, LAYER_NORM_GRAD]) {
    assert.ok(FUSED_KERNEL_NAMES.includes(name), name);
    assert.ok(tf.getKernel(name, "wasm"), name);
  }
});

test("scalar maths: the series erf and sampled tables", () => {
  // Reference values of erf (to 1e-15) and Φ.
  assert.ok(Math.abs(erfSeries(0.5) - 0.5204998778130465) < 1e-15);
  assert.ok(Math.abs(erfSeries(2) - 0.9953222650189527) < 1e-15);
  assert.ok(Math.abs(normalCdfExact(-1.96) - 0.024997895148220435) < 1e-15);
  assert.is(normalCdfExact(0), 0.5);
  const t = sampleFunction((x) => x * x, 2, 4);
  assert.is(t.values.length, 2 * 2 * 4 + 2);
  assert.is(t.values[0], 4);
  assert.is(t.values[8], 0);
});

test("GELU: values and gradient over [-10, 10] (table range and both tails)", async () => {
  await compareBackends("gelu", (x) => geluOp(x!.mul(10)), [[37, 50]]);
  await compareBackends("gelu near 0", (x) => geluOp(x!.mul(1e-3)), [[300]]);
});

test("GELU: the wasm forward and backward run the fused kernels", async () => {
  await tf.setBackend("wasm");
  const x = tf.tensor([-9, -1, 0, 0.5, 9, NaN]);
  const names = await kernelsRun(() => tf.grad((t: tf.Tensor) => geluOp(t))(x));
  assert.ok(names.includes(GELU) && names.includes(GELU_GRAD), names.join(","));
  const y = Array.from(geluOp(x).dataSync());
  assert.is(y[0], 0);
  assert.is(y[4], 9);
  assert.ok(Number.isNaN(y[5]));
  x.dispose();
});

test("LayerNorm: values and gradients of x, gamma, beta", async () => {
  const op = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => layerNorm(x.mul(3).add(0.5), g.add(1), b, 1e-5);
  await compareBackends("layerNorm 3-D", (x, g, b) => op(x!, g!, b!), [[6, 7, 33], [33], [33]]);
  await compareBackends("layerNorm 2-D width 256", (x, g, b) => op(x!, g!, b!), [[20, 256], [256], [256]]);
  // A constant row: variance 0, normalised by √eps only.
  await compareBackends("layerNorm constant rows", (x, g, b) => layerNorm(x!.mul(0).add(2), g!, b!, 1e-5), [[3, 8], [8], [8]]);
});

test("LayerNorm: gamma of the wrong size falls back to tf ops (and their error)", async () => {
  await tf.setBackend("wasm");
  const x = tf.ones([2, 4]);
  assert.throws(() => layerNorm(x, tf.ones([3]), tf.zeros([3]), 1e-5));
  x.dispose();
});

test("Embedding: lookup values and table gradient (repeated indices summed)", async () => {
  const indices = [3, 0, 3, 7, 1, 3, 9, 0, 2, 2, 5, 8];
  const table = Array.from({ length: 60 }, (_, i) => Math.sin(i));
  const upstream = Array.from({ length: 72 }, (_, i) => Math.cos(i));
  // Ours on wasm: Embedding.forward (gatherND + explicit scatter-add gradient).
  await tf.setBackend("wasm");
  const emb = new Embedding(10, 6, new Rng(1));
  emb.weight.assign(tf.tensor2d(table, [10, 6]));
  const ours = tf.tidy(() => {
    const idx = tf.tensor2d(indices, [3, 4], "int32");
    const w = tf.tensor3d(upstream, [3, 4, 6]);
    const { value, grads } = tf.variableGrads(() => emb.forward(idx).mul(w).sum() as tf.Scalar, [emb.weight]);
    return [tf.mul(emb.forward(idx), 1).dataSync(), grads[emb.weight.name]!.dataSync(), value.dataSync()];
  });
  emb.dispose();
  // Reference on cpu: tf.gather and its autodiff gradient (UnsortedSegmentSum, not on wasm).
  await tf.setBackend("cpu");
  const ref = tf.tidy(() => {
    const t = tf.tensor2d(table, [10, 6]);
    const idx = tf.tensor1d(indices, "int32");
    const w = tf.tensor2d(upstream, [12, 6]);
    const g = tf.grad((p: tf.Tensor) => tf.gather(p, idx).mul(w).sum())(t);
    return [tf.gather(t, idx).dataSync(), g.dataSync()];
  });
  await tf.setBackend("wasm");
  assertClose(ours[0] as Float32Array, ref[0] as Float32Array, "embedding value", 1e-6);
  assertClose(ours[1] as Float32Array, ref[1] as Float32Array, "embedding grad", 1e-5);
});

test("Embedding: an index outside the table is a typed error", async () => {
  await tf.setBackend("wasm");
  const emb = new Embedding(4, 2, new Rng(1));
  const bad = tf.tensor1d([0, 4], "int32");
  assert.throws(() => emb.forward(bad), (e: unknown) => e instanceof NnArgumentError && /\[0, 3\]/.test((e as Error).message));
  tf.dispose([bad]);
  emb.dispose();
});

test("fused ops leak no tensors on wasm (forward + backward)", async () => {
  await tf.setBackend("wasm");
  const x = tf.randomNormal([4, 5, 16], 0, 1, "float32", 3);
  const g = tf.ones([16]);
  const b = tf.zeros([16]);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 2; i++) {
    tf.tidy(() => {
      tf.grads((p: tf.Tensor, q: tf.Tensor) => geluOp(layerNorm(p, q, b, 1e-5)).sum())([x, g]);
    });
  }
  assert.is(tf.memory().numTensors, before);
  tf.dispose([x, g, b]);
});

test.run();
