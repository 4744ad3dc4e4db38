import { test } from "uvu";
import * as assert from "uvu/assert";
import { tf } from "../../src/nn/tf.ts";
import { useTestBackend } from "./helpers/backend.ts";
import { TimestepEmbedder, timestepEmbedding } from "../../src/nn/embeddings.ts";
import { silu } from "../../src/nn/layers.ts";
import { Rng } from "../../src/nn/rng.ts";

await useTestBackend();

/** DiT's formula with float32 arguments (as torch computes them). */
function reference(t: number, dim: number, maxPeriod = 10000): number[] {
  const half = Math.floor(dim / 2);
  const args = Array.from({ length: half }, (_, i) => Math.fround(t * Math.fround(Math.exp((-Math.log(maxPeriod) * i) / half))));
  const out = [...args.map(Math.cos), ...args.map(Math.sin)];
  return dim % 2 ? [...out, 0] : out;
}

test("sinusoidal embedding: [cos, sin] halves, frequencies maxPeriod^(-i/half), odd dims padded", () => {
  const ts = [0, 1, 37.5, 999];
  for (const dim of [8, 7, 256]) {
    const got = timestepEmbedding(tf.tensor1d(ts), dim).arraySync() as number[][];
    ts.forEach((t, r) => {
      const want = reference(t, dim);
      assert.equal(got[r].length, dim);
      want.forEach((w, i) => assert.ok(Math.abs(got[r][i] - w) < 2e-6, `t=${t} dim=${dim} i=${i}: ${got[r][i]} vs ${w}`));
    });
  }
  // t = 0: cos terms are 1, sin terms 0
  assert.equal(Array.from(timestepEmbedding(tf.tensor1d([0], "int32"), 4).dataSync()), [1, 1, 0, 0]);
  assert.throws(() => timestepEmbedding(tf.zeros([2, 1]), 8), /1-D timesteps/);
});

test("TimestepEmbedder: DiT names, N(0, 0.02) weights, zero biases, mlp.2(silu(mlp.0(freq)))", () => {
  const emb = new TimestepEmbedder(64, new Rng(0));
  assert.equal([...emb.namedParameters().keys()], ["mlp.0.weight", "mlp.0.bias", "mlp.2.weight", "mlp.2.bias"]);
  assert.equal(emb.namedParameters().get("mlp.0.weight")!.shape, [256, 64]);
  const w = Array.from(emb.namedParameters().get("mlp.0.weight")!.dataSync());
  const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
  assert.ok(Math.abs(std - 0.02) < 0.001, `std ${std}`);
  assert.ok(Array.from(emb.namedParameters().get("mlp.2.bias")!.dataSync()).every((v) => v === 0));
  const t = tf.tensor1d([3, 500]);
  const want = emb.mlp.get("2").forward(silu(emb.mlp.get("0").forward(timestepEmbedding(t, 256)))).dataSync();
  const got = emb.forward(t);
  assert.equal(got.shape, [2, 64]);
  Array.from(got.dataSync()).forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-7));
});

test.run();
