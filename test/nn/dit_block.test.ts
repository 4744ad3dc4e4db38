import { test } from "uvu";
import * as assert from "uvu/assert";
import { tf } from "../../src/nn/tf.ts";
import { useTestBackend } from "./helpers/backend.ts";
import { DiTBlock, FinalLayer, modulate } from "../../src/nn/dit_block.ts";
import { silu } from "../../src/nn/layers.ts";
import { Rng } from "../../src/nn/rng.ts";

await useTestBackend();

function randomize(v: tf.Variable, rng: Rng): void {
  v.assign(rng.tensorNormal([...v.shape], 0, 0.1));
}

test("adaLN-Zero: a fresh block is the identity and a fresh final layer outputs zeros", () => {
  const rng = new Rng(0);
  const block = new DiTBlock(16, 4, rng);
  const x = rng.tensorNormal([2, 5, 16]);
  const c = rng.tensorNormal([2, 16]);
  assert.equal(Array.from(block.forward(x, c).dataSync()), Array.from(x.dataSync()));
  const final = new FinalLayer(16, 3, rng);
  assert.ok(Array.from(final.forward(x, c).dataSync()).every((v) => v === 0));
});

test("DiT names and init: xavier attention/MLP with zero biases, no norm affine", () => {
  const block = new DiTBlock(16, 4, new Rng(1));
  const names = [...block.namedParameters().keys()];
  assert.equal(names, [
    "attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight", "attn.proj.bias",
    "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias",
    "adaLN_modulation.1.weight", "adaLN_modulation.1.bias",
  ]);
  const qkv = Array.from(block.attn.qkv.weight.dataSync());
  const bound = Math.sqrt(6 / (16 + 48));
  assert.ok(qkv.every((v) => Math.abs(v) <= bound) && qkv.some((v) => Math.abs(v) > 0.9 * bound));
  assert.ok(Array.from(block.attn.qkv.bias!.dataSync()).every((v) => v === 0));
  assert.equal(block.mlp.act, "gelu_tanh");
  const final = new FinalLayer(16, 3, new Rng(1));
  assert.equal([...final.namedParameters().keys()], ["linear.weight", "linear.bias", "adaLN_modulation.1.weight", "adaLN_modulation.1.bias"]);
});

test("with trained modulation the block follows DiT's forward formula", () => {
  const rng = new Rng(2);
  const block = new DiTBlock(8, 2, rng);
  for (const v of block.parameters()) randomize(v, rng);
  const x = rng.tensorNormal([2, 4, 8]);
  const c = rng.tensorNormal([2, 8]);
  const mask = tf.tensor2d([[1, 1, 1, 0], [1, 1, 1, 1]]);
  const mod = block.adaLNModulation.get("1").forward(silu(c));
  const [sa, ca, ga, sm, cm, gm] = tf.split(mod, 6, 1);
  const h = tf.add(x, tf.mul(tf.expandDims(ga, 1), block.attn.forward(modulate(block.norm1.forward(x), sa, ca), mask)));
  const want = tf.add(h, tf.mul(tf.expandDims(gm, 1), block.mlp.forward(modulate(block.norm2.forward(h), sm, cm)))).dataSync();
  const got = block.forward(x, c, mask).dataSync();
  for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-6);
  // modulate is x·(1+scale)+shift broadcast over tokens
  const m = modulate(tf.ones([1, 2, 1]), tf.tensor2d([[3]]), tf.tensor2d([[1]])).dataSync();
  assert.equal(Array.from(m), [5, 5]);
  assert.throws(() => block.forward(x, tf.zeros([3, 8])), /conditioning c must be \[2, 8\]/);
});

test("zero-initialised modulation still receives gradients (adaLN-Zero trains)", () => {
  const rng = new Rng(3);
  const block = new DiTBlock(8, 2, rng);
  const final = new FinalLayer(8, 2, rng);
  const x = rng.tensorNormal([2, 3, 8]);
  const c = rng.tensorNormal([2, 8]);
  // Each on its own: chained, the zero final layer blocks the gradient to the block (as in DiT).
  const gb = tf.variableGrads(() => tf.sum(tf.square(tf.sub(block.forward(x, c), 1))) as tf.Scalar, block.parameters()).grads;
  const gf = tf.variableGrads(() => tf.sum(tf.square(tf.sub(final.forward(x, c), 1))) as tf.Scalar, final.parameters()).grads;
  const gAda = gb[block.adaLNModulation.get("1").weight.name].dataSync();
  const gLin = gf[final.linear.weight.name].dataSync();
  assert.ok(Array.from(gAda).some((v) => v !== 0), "block adaLN weight gets gradient");
  assert.ok(Array.from(gLin).some((v) => v !== 0), "final linear gets gradient");
});

test.run();
