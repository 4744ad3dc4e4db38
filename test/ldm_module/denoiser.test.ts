import { test } from "uvu";
import * as assert from "uvu/assert";
import { tf } from "../../src/nn/tf.ts";
import { useTestBackend } from "../nn/helpers/backend.ts";
import { Rng } from "../../src/nn/rng.ts";
import { BatchError } from "../../src/crystal/errors.ts";
import { ConfigError } from "../../src/config/errors.ts";
import { DiT, compositionCondition, COMPOSITION_CLASSES } from "../../src/ldm_module/denoiser.ts";
import { DIT_SIZES, ditConfigFromYaml, ditConfigToYaml, resolveDiTConfig } from "../../src/ldm_module/sizes.ts";
import { NumAtomsSampler } from "../../src/ldm_module/num_atoms.ts";

await useTestBackend();

const small = (extra: Record<string, unknown> = {}) =>
  ditConfigFromYaml({ latent_dim: 8, depth: 2, hidden_size: 32, num_heads: 4, mlp_ratio: 2, ...extra });

/** Random weights everywhere (adaLN-Zero starts as the identity and predicts zeros). */
function perturb(dit: DiT, rng: Rng): void {
  for (const v of dit.parameters()) tf.tidy(() => v.assign(tf.add(v, tf.mul(rng.tensorNormal([...v.shape]), 0.1))));
}

test("named sizes match the seed; parameter count of dit_tiny and dit_s", () => {
  assert.equal(DIT_SIZES.dit_s, { depth: 6, hiddenSize: 384, numHeads: 6 });
  assert.equal(DIT_SIZES.dit_b, { depth: 12, hiddenSize: 768, numHeads: 12 });
  assert.equal(DIT_SIZES.dit_l, { depth: 24, hiddenSize: 1024, numHeads: 16 });
  const dit = new DiT(resolveDiTConfig("dit_tiny"), new Rng(0));
  // Per block: qkv 3D²+3D, proj D²+D, mlp 8D²+5D, adaLN 6D²+6D; embedders and final layer around them.
  const D = 128;
  const perBlock = 18 * D * D + 15 * D;
  const expected = 4 * perBlock + (8 * D + D) + (256 * D + D + D * D + D) + (D * 2 * D + 2 * D) + (D * 16 + 16);
  assert.is(dit.numParameters(), expected);
  dit.dispose();
});

test("forward: output [B, N, 2C], zero on padding, PyTorch-style names, zero-init final layer", () => {
  const dit = new DiT(small(), new Rng(1));
  const x = new Rng(2).tensorNormal([2, 3, 8]) as tf.Tensor3D;
  const t = tf.tensor1d([5, 900], "int32");
  const mask = tf.tensor2d([[1, 1, 0], [1, 1, 1]]);
  const out0 = dit.forward(x, t, { mask });
  assert.equal(out0.shape, [2, 3, 16]);
  assert.ok(out0.dataSync().every((v) => v === 0), "adaLN-Zero init must predict zeros");
  perturb(dit, new Rng(3));
  const out = dit.forward(x, t, { mask }).arraySync() as number[][][];
  assert.ok(out[0][2].every((v) => v === 0));
  assert.ok(out[0][0].some((v) => v !== 0));
  const names = [...dit.namedParameters().keys()];
  for (const n of ["x_embedder.weight", "t_embedder.mlp.0.weight", "t_embedder.mlp.2.bias", "blocks.1.attn.qkv.weight", "final_layer.linear.weight", "final_layer.adaLN_modulation.1.weight"]) {
    assert.ok(names.includes(n), `missing ${n}`);
  }
  tf.dispose([x, t, mask, out0]);
  dit.dispose();
});

test("padding does not leak into real atoms; permuting atoms permutes the output", () => {
  const dit = new DiT(small(), new Rng(4));
  perturb(dit, new Rng(5));
  const rng = new Rng(6);
  const real = rng.tensorNormal([1, 3, 8]);
  const t = tf.tensor1d([100], "int32");
  const padA = tf.concat([real, rng.tensorNormal([1, 2, 8])], 1) as tf.Tensor3D;
  const padB = tf.concat([real, tf.mul(rng.tensorNormal([1, 2, 8]), 7)], 1) as tf.Tensor3D;
  const mask = tf.tensor2d([[1, 1, 1, 0, 0]]);
  const a = tf.slice(dit.forward(padA, t, { mask }), [0, 0, 0], [1, 3, -1]).dataSync();
  const b = tf.slice(dit.forward(padB, t, { mask }), [0, 0, 0], [1, 3, -1]).dataSync();
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-5, "padded tokens changed real outputs"));
  const perm = tf.gather(real, [2, 0, 1], 1) as tf.Tensor3D;
  const o = dit.forward(real as tf.Tensor3D, t).arraySync() as number[][][];
  const p = dit.forward(perm, t).arraySync() as number[][][];
  [2, 0, 1].forEach((src, dst) => p[0][dst].forEach((v, k) => assert.ok(Math.abs(v - o[0][src][k]) < 1e-4)));
  dit.dispose();
});

test("condition embedders: composition fractions, property MLP, null token for dropped rows", () => {
  const dit = new DiT(small({ condition: { type: "property", property: "band_gap", mean: 1, std: 2 } }), new Rng(7));
  perturb(dit, new Rng(8));
  const x = new Rng(9).tensorNormal([2, 2, 8]) as tf.Tensor3D;
  const t = tf.tensor1d([10, 10], "int32");
  const y = tf.tensor1d([0.5, 3]);
  const cond = dit.forward(x, t, { y }).dataSync();
  const uncond = dit.forward(x, t, {}).dataSync();
  const dropped = dit.forward(x, t, { y, dropCondition: tf.tensor1d([true, true], "bool") }).dataSync();
  assert.equal(Array.from(dropped), Array.from(uncond));
  assert.ok(cond.some((v, i) => Math.abs(v - uncond[i]) > 1e-5));
  const frac = compositionCondition(tf.tensor2d([[11, 17, 17, 0]], [1, 4], "int32"), tf.tensor2d([[1, 1, 1, 0]]));
  assert.equal(frac.shape, [1, COMPOSITION_CLASSES]);
  const f = frac.dataSync();
  assert.ok(Math.abs(f[11] - 1 / 3) < 1e-6 && Math.abs(f[17] - 2 / 3) < 1e-6 && f[0] === 0);
  dit.dispose();
});

test("bad configs and inputs are clear errors naming the key", () => {
  assert.throws(() => small({ num_heads: 3 }), (e: Error) => e instanceof ConfigError && /num_heads/.test(e.message) && /divide/.test(e.message));
  assert.throws(() => small({ depth: 0 }), (e: Error) => e instanceof ConfigError && /depth/.test(e.message));
  assert.throws(() => small({ widht: 3 }), (e: Error) => e instanceof ConfigError && /widht/.test(e.message));
  assert.throws(() => small({ condition: { type: "spacegroup" } }), (e: Error) => e instanceof ConfigError && /condition\.type/.test(e.message));
  const cfg = small();
  assert.equal(ditConfigFromYaml(ditConfigToYaml(cfg)), cfg);
  const dit = new DiT(cfg, new Rng(0));
  const x4 = tf.zeros([1, 2, 4]) as tf.Tensor3D;
  assert.throws(() => dit.forward(x4, tf.tensor1d([1], "int32")), (e: Error) => e instanceof BatchError && /latent_dim/.test(e.message));
  assert.throws(() => dit.forward(tf.zeros([1, 2, 8]) as tf.Tensor3D, tf.tensor1d([1], "int32"), { y: tf.ones([1]) }), (e: Error) => e instanceof BatchError);
  dit.dispose();
});

test("NumAtomsSampler draws from the histogram, seeded", () => {
  const s = new NumAtomsSampler({ numAtoms: [2, 5, 9], counts: [1, 0, 3] });
  const a = s.sample(2000, new Rng(1));
  assert.equal(a.slice(0, 20), s.sample(20, new Rng(1)));
  assert.ok(!a.includes(5));
  const frac9 = a.filter((n) => n === 9).length / a.length;
  assert.ok(Math.abs(frac9 - 0.75) < 0.04, `P(9) = ${frac9}, expected 0.75`);
  assert.equal(NumAtomsSampler.fromJSON(s.toJSON()).toJSON(), s.toJSON());
  assert.throws(() => new NumAtomsSampler({ numAtoms: [2], counts: [0] }), (e: Error) => e instanceof BatchError);
});

test.run();
