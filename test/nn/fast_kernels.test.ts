/**
 * Every wasm fast path against tfjs's pure-JS `cpu` back-end (an independent reference):
 * forward values and gradients (tf.grads) must agree to 1e-5, relative for entries
 * larger than 1, absolute otherwise.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { tf } from "../../src/nn/tf.ts";
import { initBackend } from "../../src/nn/backend.ts";
import { FAST_KERNELS, originalWasmKernel, reduceTranspose, sumToShape, transposeMoves } from "../../src/nn/fast_kernels.ts";
import { JS_LOOP_MAX } from "../../src/nn/kernels/unary.ts";
import { compareBackends, values, type Op } from "./helpers/compare_backends.ts";

const TOL = 1e-5;

const compare = (name: string, op: Op, shapes: number[][]): Promise<void> => compareBackends(name, op, shapes, TOL);

test.before(async () => {
  const info = await initBackend({ backend: "wasm" });
  assert.is(info.backend, "wasm");
});

test.after(async () => {
  await tf.setBackend("wasm");
});

test("fast kernels are registered in place of tfjs's own", () => {
  for (const name of FAST_KERNELS) {
    const current = tf.getKernel(name, "wasm");
    assert.ok(current, name);
    assert.is.not(current!.kernelFunc, originalWasmKernel(name)!.kernelFunc, `${name} is wrapped`);
    assert.is(current!.setupFunc, originalWasmKernel(name)!.setupFunc, `${name} keeps its setup`);
  }
});

test("matMul: every transpose combination, 2-D", async () => {
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    const a = ta ? [24, 17] : [17, 24];
    const b = tb ? [9, 24] : [24, 9];
    await compare(`matMul ta=${ta} tb=${tb}`, (x, y) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, ta, tb), [a, b]);
  }
});

test("matMul: batched and broadcast batch shapes", async () => {
  await compare("batched tb", (x, y) => tf.matMul(x!, y!, false, true), [[2, 3, 5, 8], [2, 3, 6, 8]]);
  await compare("batched ta", (x, y) => tf.matMul(x!, y!, true, false), [[4, 8, 5], [4, 8, 6]]);
  await compare("broadcast a", (x, y) => tf.matMul(x!, y!, false, true), [[1, 5, 8], [3, 6, 8]]);
  await compare("batch-1 3-D ta tb", (x, y) => tf.matMul(x!, y!, true, true), [[1, 8, 5], [1, 6, 8]]);
  await compare("broadcast b (batch 1)", (x, y) => tf.matMul(x!, y!, false, true), [[3, 5, 8], [1, 6, 8]]);
  await compare("rank 2 · rank 3", (x, y) => tf.matMul(x!, y!), [[5, 8], [3, 8, 6]]);
});

test("matMul: batched right operand, every transpose combination, attention sizes", async () => {
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    for (const n of [3, 4, 7]) {
      const a = ta ? [2, 3, 9, 5] : [2, 3, 5, 9];
      const b = tb ? [2, 3, n, 9] : [2, 3, 9, n];
      await compare(`batched ${n} ta=${ta} tb=${tb}`, (x, y) => tf.matMul(x!, y!, ta, tb), [a, b]);
    }
  }
  // Attention-sized: [B, H, N, d] · [B, H, d, N].
  await compare("attention scores", (x, y) => tf.matMul(x!, y!), [[2, 8, 20, 32], [2, 8, 32, 20]]);
  await compare("single left matrix, batched right", (x, y) => tf.matMul(x!, y!, true, false), [[9, 5], [4, 9, 6]]);
});

test("matMul: Linear on [batch, tokens, width] activations (3-D · 2-D)", async () => {
  await compare("3-D · 2-D", (x, y) => tf.matMul(x!, y!), [[4, 6, 16], [16, 12]]);
  await compare("4-D · 2-D tb", (x, y) => tf.matMul(x!, y!, false, true), [[2, 3, 5, 16], [12, 16]]);
  await compare("3-D ta · 2-D (kept on tfjs's kernel)", (x, y) => tf.matMul(x!, y!, true, false), [[4, 16, 6], [16, 12]]);
});

test("sumToShape reduces broadcast batch axes only", () => {
  tf.tidy(() => {
    const g = tf.ones([3, 5, 8]);
    assert.equal(sumToShape(g, [1, 5, 8]).shape, [1, 5, 8]);
    assert.equal(Array.from(sumToShape(g, [5, 8]).dataSync().slice(0, 2)), [3, 3]);
    assert.is(sumToShape(g, [3, 5, 8]), g);
  });
});

test("fused matMul with bias and activation, transposed operands", async () => {
  const op: Op = (x, y, bias) =>
    tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D, transposeA: true, transposeB: true, bias, activation: "relu" });
  await compare("fused ta tb relu", op, [[16, 7], [5, 16], [5]]);
  const linear: Op = (x, y, bias) => tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D, transposeB: true, bias });
  await compare("fused tb linear", linear, [[7, 16], [5, 16], [5]]);
});

test("transpose: ranks 2-6, size-1 axes, values and gradients", async () => {
  const cases: Array<[number[], number[]]> = [
    [[5, 7], [1, 0]],
    [[3, 4, 5], [2, 0, 1]],
    [[2, 3, 4, 5], [0, 2, 1, 3]],
    [[2, 3, 4, 5], [3, 1, 0, 2]],
    [[6, 5, 3, 2, 4], [2, 0, 3, 1, 4]], // fused q/k/v split of attention
    [[2, 3, 1, 4, 5], [4, 3, 2, 1, 0]],
    [[2, 3, 2, 3, 2, 2], [5, 1, 3, 0, 4, 2]],
  ];
  for (const [shape, perm] of cases) await compare(`transpose ${shape} by ${perm}`, (x) => tf.transpose(x!, perm), [shape]);
});

test("Identity / Cast share memory; the shared tensor survives disposing its source", async () => {
  await compare("clone", (x) => tf.clone(x!).mul(2), [[3, 4]]);
  await compare("cast float32→float32", (x) => tf.cast(x!, "float32").square(), [[3, 4]]);
  await tf.setBackend("wasm");
  const x = tf.tensor([1.5, -2.5, 3.5]);
  const c = tf.clone(x);
  const i = tf.cast(x, "int32");
  x.dispose();
  assert.equal(Array.from(c.dataSync()), [1.5, -2.5, 3.5]);
  assert.equal(Array.from(i.dataSync()), [1, -2, 3]);
  assert.is(i.dtype, "int32");
  tf.dispose([c, i]);
});

test("Slice, SplitV, Unpack: contiguous and strided boxes, values and gradients", async () => {
  await compare("slice inner", (x) => tf.slice(x!, [1, 2, 3], [2, 3, 4]), [[4, 6, 9]]);
  await compare("slice whole rows", (x) => tf.slice(x!, [1, 0, 0], [2, -1, -1]), [[4, 6, 9]]);
  await compare("slice one column", (x) => tf.slice(x!, [0, 5], [7, 1]), [[7, 9]]);
  await compare("slice long runs", (x) => tf.slice(x!, [0, 16], [3, 40]), [[3, 80]]);
  await compare("split q/k/v (axis 2)", (x) => tf.split(x!, 3, 2)[1]!, [[4, 5, 3, 2, 6]]);
  await compare("split uneven last axis", (x) => tf.concat(tf.split(x!, [2, 5, 1], -1).map((t, i) => t.mul(i + 1)), -1), [[3, 4, 8]]);
  await compare("unstack axis 0", (x) => tf.unstack(x!)[2]!, [[3, 4, 5, 6]]);
  await compare("unstack axis 1", (x) => tf.unstack(x!, 1)[1]!.mul(tf.unstack(x!, 1)[3]!), [[3, 4, 5]]);
  await compare("unstack last axis", (x) => tf.stack(tf.unstack(x!, -1).reverse(), -1), [[3, 4, 5]]);
});

test("Sum over leading axes (bias / LayerNorm gradients) and other axes", async () => {
  await compare("sum axis 0", (x) => tf.sum(x!, 0), [[50, 33]]);
  await compare("sum axes 0,1", (x) => tf.sum(x!, [0, 1]), [[6, 7, 9]]);
  await compare("sum axes 0,1 keepDims", (x) => tf.sum(x!, [1, 0], true), [[6, 7, 9]]);
  await compare("sum last axis (tfjs kernel)", (x) => tf.sum(x!, -1), [[6, 7, 9]]);
  await compare("sum all", (x) => tf.sum(x!), [[6, 7, 9]]);
  await compare("broadcast add gradient", (x, b) => tf.add(x!, b!).square(), [[5, 6, 7], [7]]);
});

test("Square, Neg, Sqrt, Rsqrt, Abs below and above the JS-loop size", async () => {
  for (const n of [5, 300, JS_LOOP_MAX + 3]) {
    await compare(`square ${n}`, (x) => tf.square(x!), [[n]]);
    await compare(`neg ${n}`, (x) => tf.neg(x!), [[n]]);
    await compare(`sub ${n}`, (x, y) => tf.sub(x!, y!), [[n], [n]]);
    await compare(`sqrt ${n}`, (x) => tf.sqrt(tf.add(tf.abs(x!), 0.5)), [[n]]);
    await compare(`rsqrt ${n}`, (x) => tf.rsqrt(tf.add(tf.square(x!), 0.5)), [[n]]);
  }
});

test("reduceTranspose drops size-1 axes and merges neighbours", () => {
  assert.equal(reduceTranspose([64, 20, 3, 8, 32], [0, 2, 1, 3, 4]), { shape: [64, 20, 3, 256], perm: [0, 2, 1, 3] });
  assert.equal(reduceTranspose([2, 1, 3], [2, 1, 0]), { shape: [2, 3], perm: [1, 0] });
  assert.equal(reduceTranspose([4, 5, 6], [0, 1, 2]), { shape: [120], perm: [0] });
  assert.equal(reduceTranspose([64, 20, 3, 8, 32], [2, 0, 3, 1, 4]), { shape: [64, 20, 3, 8, 32], perm: [2, 0, 3, 1, 4] });
});

test("transposeMoves realises the permutation with rank-4 moves", () => {
  // Replaying the moves on axis labels must give the requested order.
  const shape = [2, 3, 5, 7, 11];
  const perm = [3, 1, 4, 0, 2];
  const moves = transposeMoves(shape, perm);
  assert.ok(moves.length <= shape.length - 1);
  for (const view of moves) assert.is(view.reduce((p, d) => p * d, 1), 2 * 3 * 5 * 7 * 11);
  assert.equal(transposeMoves([4, 5], [0, 1]), []);
  assert.equal(transposeMoves([4, 5], [1, 0]), [[1, 4, 5, 1]]);
});

test("fast paths leak no tensors or wasm buffers", async () => {
  await tf.setBackend("wasm");
  const a = tf.tensor(values(40 * 30, 1), [40, 30]);
  const b = tf.tensor(values(20 * 30, 2), [20, 30]);
  const x = tf.tensor(values(2 * 3 * 4 * 5 * 6, 3), [2, 3, 4, 5, 6]);
  const before = tf.memory().numTensors;
  const dataIds = tf.engine().backend.numDataIds();
  for (let i = 0; i < 3; i++) {
    tf.tidy(() => {
      tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.matMul(p, q, false, true).sum())([a, b]);
    });
    tf.tidy(() => {
      tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.matMul(p.reshape([4, 10, 30]), q, false, true).sum())([a, b]);
    });
    tf.tidy(() => {
      tf.grad((p: tf.Tensor) => tf.transpose(p, [4, 2, 0, 3, 1]).square().sum())(x);
    });
    tf.tidy(() => {
      const f = (p: tf.Tensor) => tf.split(p, [1, 2], 1)[1]!.neg().abs().sqrt().sum().add(tf.unstack(p)[0]!.sum(0).sum());
      tf.grad(f)(tf.abs(x));
    });
    tf.tidy(() => {
      tf.grad((p: tf.Tensor) => tf.clone(p).cast("float32").sum([0, 1]).abs().sum())(x);
    });
  }
  assert.is(tf.memory().numTensors, before);
  assert.is(tf.engine().backend.numDataIds(), dataIds);
  tf.dispose([a, b, x]);
});

test.run();
