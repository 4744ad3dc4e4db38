import { test } from "uvu";
import * as assert from "uvu/assert";
import { tf } from "../../src/nn/tf.ts";
import { useTestBackend } from "./helpers/backend.ts";
import { TransformerBlock } from "../../src/nn/transformer.ts";
import { Rng } from "../../src/nn/rng.ts";

await useTestBackend();

test("pre-norm block: x + attn(norm1 x), then + mlp(norm2 ·)", () => {
  const rng = new Rng(0);
  const block = new TransformerBlock(16, 4, rng, { mlpRatio: 2 });
  assert.equal(block.mlp.fc1.outFeatures, 32);
  const x = rng.tensorNormal([2, 6, 16]);
  const mask = tf.tensor2d([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]]);
  const h = tf.add(x, block.attn.forward(block.norm1.forward(x), mask));
  const want = tf.add(h, block.mlp.forward(block.norm2.forward(h))).dataSync();
  const got = block.forward(x, mask).dataSync();
  for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-6);
  assert.equal(
    [...block.namedParameters().keys()].filter((k) => k.endsWith("weight")),
    ["norm1.weight", "attn.qkv.weight", "attn.proj.weight", "norm2.weight", "mlp.fc1.weight", "mlp.fc2.weight"],
  );
});

test("a training step's forward/backward leaves no tensors behind", () => {
  const rng = new Rng(1);
  const block = new TransformerBlock(8, 2, rng);
  const x = rng.tensorNormal([2, 4, 8]);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(block.forward(x))) as tf.Scalar, block.parameters());
    value.dispose();
    for (const g of Object.values(grads)) g.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
});

test.run();
