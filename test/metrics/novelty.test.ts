import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { StructureError } from "../../src/crystal/errors.ts";
import { Lattice } from "../../src/crystal/lattice.ts";
import { Structure } from "../../src/crystal/structure.ts";
import { StructureMatcher } from "../../src/crystal/structure_matcher.ts";
import { isNovel, isUnique, ReferenceIndex, successiveMinima } from "../../src/metrics/novelty.ts";
import { loadMp20 } from "../crystal/matcher_data.ts";
import { mulberry32, perturb, relabel, reorderRotateStrain, supercell } from "../crystal/matcher_pairs.ts";

const train = loadMp20("train");
const testRows = loadMp20("test");

test("isUnique: first occurrence is unique, later matches are not", () => {
  const rand = mulberry32(5);
  const [a, b, c] = train.slice(0, 3).map((r) => r.structure);
  const gen = [a, perturb(a, 0.05, rand), b, supercell(a, [[1, 0, 0], [0, 2, 0], [0, 0, 1]]), c, perturb(b, 0.05, rand)];
  assert.equal(isUnique(gen), [true, false, true, false, true, false]);
  assert.equal(isUnique([]), []);
});

test("isNovel with the index equals brute-force matching against every reference structure", () => {
  const rand = mulberry32(9);
  const refs = train.slice(0, 400).map((r) => r.structure);
  const index = ReferenceIndex.build(refs);
  assert.is(index.size, 400);
  const gen = [
    ...refs.slice(0, 60).map((s) => perturb(s, 0.3 * rand(), rand)),
    ...refs.slice(60, 120).map((s) => reorderRotateStrain(s, 0.25 * rand(), rand)),
    ...testRows.slice(0, 40).map((r) => r.structure),
  ];
  const m = new StructureMatcher();
  const brute = gen.map((g) => !refs.some((r) => m.fit(g, r)));
  assert.equal(isNovel(gen, index), brute);
  assert.ok(brute.filter((x) => !x).length > 50, "most perturbed copies are found");
});

test("pre-filters never reject a pair the matcher accepts (same-formula hard cases)", () => {
  // Relabelled prototypes and strained copies share formula and site count, so only the lattice
  // bound and the matcher decide. Each reference is indexed alone; the index verdict must equal fit.
  const rand = mulberry32(13);
  const m = new StructureMatcher();
  let rejected = 0;
  for (let i = 0; i < 150; i++) {
    const a = train[Math.floor(rand() * train.length)].structure;
    const b = i % 2 ? reorderRotateStrain(a, 0.35 * rand(), rand) : relabel(train[Math.floor(rand() * train.length)].structure, a);
    if (b.length !== a.length) continue;
    const index = ReferenceIndex.build([a], { matcher: m });
    const viaIndex = !index.isNovel(b);
    assert.is(viaIndex, m.fit(b, a), `pair ${i}`);
    if (!viaIndex) rejected++;
  }
  assert.ok(rejected > 0, "some pairs are rejected");
});

test("save/load round trip gives the same verdicts; the write is atomic", () => {
  const dir = mkdtempSync(join(tmpdir(), "refindex-"));
  try {
    const rand = mulberry32(21);
    const refs = train.slice(0, 120).map((r) => r.structure);
    let progress = 0;
    const index = ReferenceIndex.build(refs, { onProgress: (done) => (progress = done) });
    assert.is(progress, 120);
    const path = join(dir, "index.json");
    index.save(path);
    assert.equal(readdirSync(dir), ["index.json"], "no temp file left behind");
    const loaded = ReferenceIndex.load(path);
    assert.is(loaded.size, 120);
    const gen = [...refs.slice(0, 30).map((s) => perturb(s, 0.2, rand)), ...testRows.slice(0, 20).map((r) => r.structure)];
    assert.equal(isNovel(gen, loaded), isNovel(gen, index));
    assert.equal(loaded.matches(refs[5]), [String(refs[5].properties.material_id)]);
    assert.throws(() => ReferenceIndex.load(join(dir, "missing.json")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.not.ok(existsSync(dir));
});

test("successive minima are basis independent", () => {
  const cubic = successiveMinima(Lattice.cubic(3).matrix);
  cubic.forEach((x) => assert.ok(Math.abs(x - 3) < 1e-12));
  const skew = successiveMinima([[3, 0, 0], [6, 3, 0], [3, 3, 3]]);
  skew.forEach((x) => assert.ok(Math.abs(x - 3) < 1e-12));
});

test("invalid generated structures raise StructureError", () => {
  const index = ReferenceIndex.build(train.slice(0, 5).map((r) => r.structure));
  const overlap = new Structure(Lattice.cubic(4), ["Na", "Cl"], [[0, 0, 0], [0, 0, 0]]);
  assert.throws(() => isNovel([overlap], index), (e: unknown) => e instanceof StructureError);
  assert.throws(() => isUnique([overlap]), (e: unknown) => e instanceof StructureError);
});

test("an invalid reference is checked when a same-formula query first needs it, and named", () => {
  const bad = new Structure(Lattice.cubic(4), ["Na", "Cl"], [[0, 0, 0], [0, 0, 0.001]], { properties: { material_id: "bad-1" } });
  const good = new Structure(Lattice.cubic(5.6), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]);
  const index = ReferenceIndex.build([bad, ...train.slice(0, 5).map((r) => r.structure)]);
  assert.equal(index.size, 6, "building buckets without checking");
  const other = train[0].structure;
  assert.equal(index.isNovel(other), false, "a query of another formula never touches the bad entry");
  assert.throws(
    () => index.isNovel(good),
    (e: unknown) => e instanceof StructureError && e.message.includes("bad-1") && e.message.includes("overlap"),
  );
  // The deferred entry shares the matcher's cache: a direct fit of the same object still checks it.
  assert.throws(() => index.matcher.fit(good, bad), (e: unknown) => e instanceof StructureError);
});

test.run();
