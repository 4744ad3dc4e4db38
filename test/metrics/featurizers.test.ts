/**
 * Featurisers: the VAE structure/composition features against the encoder computed by hand
 * (mean of per-atom posterior means; mean of atom-type embedding rows), padding independence,
 * the descriptor featurisers' invariances, and bad input.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { RewardError } from "../../src/crystal/errors.ts";
import { collate } from "../../src/data/batch.ts";
import { AmdStructureFeaturizer, ElementPropertyFeaturizer, stackFeatures, vaeWeightsId, VaeCompositionFeaturizer, VaeStructureFeaturizer } from "../../src/metrics/featurizers.ts";
import { Lattice } from "../../src/crystal/lattice.ts";
import { Structure } from "../../src/crystal/structure.ts";
import { Rng } from "../../src/nn/rng.ts";
import { tf } from "../../src/nn/tf.ts";
import { VAEModule } from "../../src/vae_module/vae_module.ts";
import { cesiumChloride, rockSalt } from "./reward_fixtures.ts";

await tf.setBackend("cpu");

const vae = new VAEModule({ dModel: 16, nhead: 2, dimFeedforward: 32, numLayers: 1, latentDim: 4, maxAtoms: 8 }, new Rng(7));
const structures = [rockSalt("Na", "Cl", 5.64), cesiumChloride("K", "Br", 3.9), cesiumChloride("Cs", "Cl", 4.1)];

test("VaeStructureFeaturizer = mean over atoms of the encoder's posterior mean, independent of batching", () => {
  const f = new VaeStructureFeaturizer(vae, "test-vae", 2);
  const feats = f.featurize(structures);
  assert.is(f.dim, 4);
  structures.forEach((s, i) => {
    const batch = collate([s]);
    const { mean, logvar, z } = vae.encode(batch, { sample: false });
    const m = mean.arraySync() as number[][][];
    const want = [0, 1, 2, 3].map((j) => m[0].reduce((acc, row) => acc + row[j], 0) / s.length);
    want.forEach((w, j) => assert.ok(Math.abs(feats[i][j] - w) < 1e-5, `${i},${j}: ${feats[i][j]} vs ${w}`));
    tf.dispose([mean, logvar, z, ...Object.values(batch)]);
  });
});

test("VaeCompositionFeaturizer = mean of atom-type embedding rows Z − 1", () => {
  const f = new VaeCompositionFeaturizer(vae, "test-vae");
  const w = vae.encoder.atomEmbedding.weight.arraySync() as number[][];
  const [nacl, kbr] = f.featurize(structures.slice(0, 2));
  nacl.forEach((v, j) => assert.ok(Math.abs(v - (w[10][j] + w[16][j]) / 2) < 1e-6));
  kbr.forEach((v, j) => assert.ok(Math.abs(v - (w[18][j] + w[34][j]) / 2) < 1e-6));
});

test("vaeWeightsId changes with any weight, not with a re-load of the same weights", () => {
  const other = new VAEModule({ dModel: 16, nhead: 2, dimFeedforward: 32, numLayers: 1, latentDim: 4, maxAtoms: 8 }, new Rng(7));
  assert.is(vaeWeightsId(other), vaeWeightsId(vae));
  const w = other.quantProj.weight as tf.Variable;
  w.assign(tf.add(w, 1e-3));
  assert.is.not(vaeWeightsId(other), vaeWeightsId(vae));
  assert.match(vaeWeightsId(vae), /^[0-9a-f]{12}$/);
  other.dispose();
});

test("VaeStructureFeaturizer names a structure larger than the VAE's maxAtoms", () => {
  const big = new Structure(Lattice.cubic(10), Array(9).fill("Na"), Array.from({ length: 9 }, (_, i) => [i / 9, 0, 0]));
  const f = new VaeStructureFeaturizer(vae, "test-vae");
  assert.throws(() => f.featurize([structures[0], big]), (e: Error) => e instanceof RewardError && /structure 1 \(Na\) has 9 sites, more than the VAE's maxAtoms = 8/.test(e.message));
});

test("descriptor featurisers: AMD features are scale-free, element features depend on composition only", () => {
  const amd = new AmdStructureFeaturizer(8);
  const [a, b] = amd.featurize([rockSalt("Na", "Cl", 5.0), rockSalt("Na", "Cl", 6.0)]);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-5));
  const el = new ElementPropertyFeaturizer();
  const [c, d] = el.featurize([rockSalt("Na", "Cl", 5.0), cesiumChloride("Na", "Cl", 3.0)]);
  c.forEach((v, i) => assert.ok(Math.abs(v - d[i]) < 1e-6, `${i}: ${v} vs ${d[i]}`));
  assert.throws(() => new AmdStructureFeaturizer(0), (e: Error) => e instanceof RewardError);
});

test("stackFeatures rejects ragged and non-finite vectors", () => {
  assert.throws(() => stackFeatures([new Float32Array(3), new Float32Array(2)], 3), /features\[1\] has 2 entries/);
  assert.throws(() => stackFeatures([Float32Array.of(1, NaN)], 2), /features\[0\]\[1\] is NaN/);
});

test.run();
