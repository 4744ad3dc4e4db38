import { test } from "uvu";
import * as assert from "uvu/assert";
import { tf } from "../../src/nn/tf.ts";
import { useTestBackend } from "./helpers/backend.ts";
import { Dropout, Embedding, LayerNorm, Linear, MLP, gelu, geluTanh, silu } from "../../src/nn/layers.ts";
import { Rng } from "../../src/nn/rng.ts";
import { NnArgumentError } from "../../src/nn/errors.ts";

await useTestBackend();

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what = ""): void {
  assert.equal(a.length, b.length, `${what} length`);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

test("Linear computes x·W + b for rank-2 and rank-3 inputs", () => {
  const lin = new Linear(3, 2, new Rng(0));
  const w = lin.weight.arraySync() as number[][]; // [in, out]
  const b = Array.from(lin.bias!.dataSync());
  const x = [[1, 2, 3], [-1, 0.5, 2]];
  const want = x.flatMap((row) => [0, 1].map((o) => row.reduce((s, xi, i) => s + xi * w[i][o], b[o])));
  const y2 = lin.forward(tf.tensor2d(x));
  close(y2.dataSync(), want, 1e-6, "rank 2");
  const y3 = lin.forward(tf.tensor3d([x]));
  assert.equal(y3.shape, [1, 2, 2]);
  close(y3.dataSync(), want, 1e-6, "rank 3");
  assert.throws(() => lin.forward(tf.zeros([2, 4])), (e: unknown) => e instanceof NnArgumentError);
  lin.dispose();
});

test("Linear init: PyTorch default bound 1/sqrt(fan_in), xavier bound, zeros", () => {
  const fanIn = 64;
  const lin = new Linear(fanIn, 128, new Rng(1));
  const w = Array.from(lin.weight.dataSync());
  const bound = 1 / Math.sqrt(fanIn);
  assert.ok(w.every((v) => Math.abs(v) <= bound));
  const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
  assert.ok(Math.abs(std - bound / Math.sqrt(3)) < 0.03 * bound, `std ${std}`);
  assert.ok(Array.from(lin.bias!.dataSync()).every((v) => Math.abs(v) <= bound));
  const xav = new Linear(fanIn, 128, new Rng(1), { init: "xavier" });
  const xb = Math.sqrt(6 / (fanIn + 128));
  const xw = Array.from(xav.weight.dataSync());
  assert.ok(xw.every((v) => Math.abs(v) <= xb) && xw.some((v) => Math.abs(v) > 0.9 * xb));
  assert.ok(Array.from(xav.bias!.dataSync()).every((v) => v === 0));
  assert.equal(new Linear(2, 2, new Rng(0), { bias: false }).bias, null);
  lin.dispose();
  xav.dispose();
});

test("same seed gives the same initial weights", () => {
  const a = new Linear(5, 7, new Rng(3));
  const b = new Linear(5, 7, new Rng(3));
  assert.equal(Array.from(a.weight.dataSync()), Array.from(b.weight.dataSync()));
});

test("LayerNorm normalises the last axis with the biased variance and applies the affine", () => {
  const ln = new LayerNorm(4, { eps: 1e-5 });
  ln.weight!.assign(tf.tensor1d([1, 2, 3, 4]));
  ln.bias!.assign(tf.tensor1d([0, 1, 0, -1]));
  const row = [1, 2, 4, 9];
  const mean = row.reduce((a, b) => a + b) / 4;
  const v = row.reduce((a, b) => a + (b - mean) ** 2, 0) / 4;
  const want = row.map((x, i) => ((x - mean) / Math.sqrt(v + 1e-5)) * (i + 1) + [0, 1, 0, -1][i]);
  close(ln.forward(tf.tensor2d([row])).dataSync(), want, 1e-5);
  const plain = new LayerNorm(4, { elementwiseAffine: false });
  assert.equal(plain.numParameters(), 0);
});

test("activations match their closed forms", () => {
  const xs = [-3, -1, 0, 0.5, 2];
  const erfGelu = [-0.0040496, -0.1586553, 0, 0.3457312, 1.9544997]; // x·Φ(x)
  close(gelu(tf.tensor1d(xs)).dataSync(), erfGelu, 2e-6, "gelu");
  const tanhGelu = xs.map((x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))));
  close(geluTanh(tf.tensor1d(xs)).dataSync(), tanhGelu, 1e-6, "gelu_tanh");
  close(silu(tf.tensor1d(xs)).dataSync(), xs.map((x) => x / (1 + Math.exp(-x))), 1e-6, "silu");
});

test("Embedding gathers rows, N(0,1) init, int32 only", () => {
  const emb = new Embedding(10, 3, new Rng(2));
  const table = emb.weight.arraySync() as number[][];
  const out = emb.forward(tf.tensor2d([[1, 4], [4, 9]], [2, 2], "int32"));
  assert.equal(out.shape, [2, 2, 3]);
  assert.equal((out.arraySync() as number[][][])[1][0], table[4]);
  assert.throws(() => emb.forward(tf.tensor1d([1])), (e: unknown) => e instanceof NnArgumentError);
  const big = new Embedding(1000, 100, new Rng(2));
  const w = Array.from(big.weight.dataSync());
  const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
  assert.ok(Math.abs(std - 1) < 0.02, `std ${std}`);
});

test("Dropout: seeded mask and 1/(1-p) scaling in train mode, identity in eval", () => {
  const x = tf.ones([1000]);
  const d = new Dropout(0.25, new Rng(5));
  const y = Array.from(d.forward(x).dataSync());
  const kept = y.filter((v) => v !== 0);
  assert.ok(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6));
  assert.ok(Math.abs(kept.length / 1000 - 0.75) < 0.05, `kept ${kept.length}`);
  const again = Array.from(new Dropout(0.25, new Rng(5)).forward(x).dataSync());
  assert.equal(again, y);
  d.eval();
  assert.equal(Array.from(d.forward(x).dataSync()), new Array(1000).fill(1));
  assert.throws(() => new Dropout(1, new Rng(0)), (e: unknown) => e instanceof NnArgumentError);
});

test("MLP is fc2(act(fc1(x))) with timm names and rejects unknown activations", () => {
  const mlp = new MLP(3, 5, 2, new Rng(0), { activation: "silu" });
  assert.equal([...mlp.namedParameters().keys()], ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]);
  const x = tf.tensor2d([[0.5, -1, 2]]);
  const want = mlp.fc2.forward(silu(mlp.fc1.forward(x)));
  close(mlp.forward(x).dataSync(), want.dataSync(), 1e-6);
  assert.throws(() => new MLP(3, 5, 2, new Rng(0), { activation: "swish" as never }), /unknown activation/);
});

test("forward passes leave no tensors behind", () => {
  const mlp = new MLP(4, 8, 4, new Rng(0), { dropout: 0.1 });
  const ln = new LayerNorm(4);
  const x = tf.ones([2, 3, 4]);
  const before = tf.memory().numTensors;
  tf.tidy(() => ln.forward(mlp.forward(x))).dispose();
  const y = mlp.forward(x);
  y.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test.run();
