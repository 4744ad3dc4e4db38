import { test } from "uvu";
import * as assert from "uvu/assert";
import { tf } from "../../src/nn/tf.ts";
import { useTestBackend } from "../nn/helpers/backend.ts";
import { Rng } from "../../src/nn/rng.ts";
import { Structure } from "../../src/crystal/structure.ts";
import { Lattice } from "../../src/crystal/lattice.ts";
import { BatchError } from "../../src/crystal/errors.ts";
import { StructureMatcher } from "../../src/crystal/structure_matcher.ts";
import { loadDataset } from "../../src/data/datasets.ts";
import { batchToStructures, collate, collateHost, disposeBatch, hostToStructures, niggliReduce, toHost } from "../../src/data/batch.ts";
import { randomTranslation, rotateStructure } from "../../src/data/augment.ts";
import { CrystalDataLoader } from "../../src/data/loader.ts";

await useTestBackend();
const { records } = await loadDataset("mp_20", "val", { limit: 12 });
const structures = records.map((r) => r.structure);
const matcher = new StructureMatcher();

test("collate pads to the largest structure, with mask, numAtoms and Z", () => {
  const batch = collate(structures.slice(0, 4), { niggli: false });
  const n = Math.max(...structures.slice(0, 4).map((s) => s.length));
  assert.equal(batch.atomTypes.shape, [4, n]);
  assert.equal(batch.fracCoords.shape, [4, n, 3]);
  assert.equal(batch.atomTypes.dtype, "int32");
  assert.equal(Array.from(batch.numAtoms.dataSync()), structures.slice(0, 4).map((s) => s.length));
  const mask = batch.mask.dataSync();
  const types = batch.atomTypes.dataSync();
  for (let i = 0; i < mask.length; i++) assert.is(mask[i] === 1, types[i] > 0, `slot ${i}: mask and Z disagree`);
  assert.equal(Array.from(batch.angles.dataSync().slice(0, 3)).map((x) => +x.toFixed(3)), structures[0].lattice.angles.map((x) => +x.toFixed(3)));
  disposeBatch(batch);
});

test("collate → batchToStructures round trip (without Niggli: same cell, sites and order)", () => {
  const batch = collate(structures, { niggli: false });
  const back = batchToStructures(batch);
  disposeBatch(batch);
  back.forEach((s, i) => {
    assert.equal(s.species, structures[i].species);
    s.lattice.abc.forEach((x, k) => assert.ok(Math.abs(x - structures[i].lattice.abc[k]) < 1e-4));
    assert.ok(matcher.fit(s, structures[i]), `structure ${i} does not match after the round trip`);
  });
});

test("Niggli seed cell: same crystal, reduced lattice, coordinates in [0, 1)", () => {
  const skewed = new Structure(new Lattice([[4, 0, 0], [4, 4, 0], [0, 3, 5]]), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]);
  const reduced = niggliReduce(skewed);
  assert.ok(Math.abs(reduced.volume - skewed.volume) < 1e-8);
  assert.ok(reduced.lattice.abc[0] <= skewed.lattice.abc[1]);
  for (const f of reduced.fracCoords) for (const x of f) assert.ok(x >= 0 && x < 1);
  const back = batchToStructures(collate([skewed]));
  assert.ok(matcher.fit(back[0], skewed));
});

test("more sites than maxAtoms is a BatchError naming the structure", () => {
  const big = structures.reduce((a, b) => (a.length >= b.length ? a : b));
  assert.throws(() => collate([big], { maxAtoms: big.length - 1 }), (e: Error) => e instanceof BatchError && /maxAtoms/.test(e.message));
  assert.throws(() => collate([]), (e: Error) => e instanceof BatchError);
  assert.throws(() => new CrystalDataLoader([big], { batchSize: 1, maxAtoms: 1 }), (e: Error) => e instanceof BatchError);
});

test("rotation leaves the batch unchanged (the model sees no Cartesian coordinates)", () => {
  const rng = new Rng(3);
  const rotated = structures.slice(0, 3).map((s) => rotateStructure(s, rng));
  assert.ok(Math.abs(rotated[0].lattice.matrix[0][1] - structures[0].lattice.matrix[0][1]) > 1e-6, "rotation did nothing");
  const a = collateHost(structures.slice(0, 3));
  const b = collateHost(rotated);
  for (const key of ["lengths", "angles", "fracCoords"] as const) {
    a[key].forEach((x, i) => assert.ok(Math.abs(x - b[key][i]) < 1e-4, `${key}[${i}] ${x} vs ${b[key][i]}`));
  }
  assert.equal(Array.from(a.atomTypes), Array.from(b.atomTypes));
});

test("random translation: coordinates stay in [0, 1), the crystal is the same, padding untouched", () => {
  const host = collateHost(structures.slice(0, 4));
  const before = Float32Array.from(host.fracCoords);
  randomTranslation(host, new Rng(5));
  assert.ok(host.fracCoords.some((x, i) => Math.abs(x - before[i]) > 1e-3));
  for (let s = 0; s < host.mask.length; s++) {
    for (let k = 0; k < 3; k++) {
      const x = host.fracCoords[3 * s + k];
      assert.ok(host.mask[s] === 1 ? x >= 0 && x < 1 : x === 0);
    }
  }
  const batch = collate(structures.slice(0, 4));
  const moved = toHost(batch);
  disposeBatch(batch);
  moved.fracCoords.set(host.fracCoords);
  hostToStructures(moved).forEach((s, i) => assert.ok(matcher.fit(s, structures[i])));
});

test("loader: seeded order, every structure once per epoch, bucketing groups sizes, resumable", () => {
  const make = () => new CrystalDataLoader(structures, { batchSize: 4, shuffle: true, rng: new Rng(7), bucketBySize: true, bucketWindow: 3 });
  const a = make();
  assert.is(a.length, 3);
  const first = [...a.epoch()];
  const ids = first.flatMap((h) => Array.from(h.numAtoms));
  assert.equal([...ids].sort((x, y) => x - y), structures.map((s) => s.length).sort((x, y) => x - y));
  // Within one sorted window, batches hold structures of similar sizes: padding ≤ unsorted padding.
  const padded = first.reduce((n, h) => n + h.batchSize * h.maxAtoms, 0);
  assert.ok(padded <= 3 * 4 * Math.max(...structures.map((s) => s.length)));
  const b = make();
  assert.equal([...b.epoch()].map((h) => Array.from(h.atomTypes)), first.map((h) => Array.from(h.atomTypes)));
  // Stop mid-epoch, save, restore into a fresh loader: the same next batch.
  const c = make();
  const it = c.epoch();
  it.next();
  const state = c.getState();
  const expected = it.next().value!;
  const d = make();
  d.setState(state);
  assert.equal(Array.from(d.epoch().next().value!.atomTypes), Array.from(expected.atomTypes));
  assert.throws(() => d.setState({ epoch: 1, cursor: 0, order: [0, 1] }), (e: Error) => e instanceof BatchError);
});

test("collate/dispose leaves no tensors behind", () => {
  const before = tf.memory().numTensors;
  disposeBatch(collate(structures));
  assert.is(tf.memory().numTensors, before);
});

test.run();
