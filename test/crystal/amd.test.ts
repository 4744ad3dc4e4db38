import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { amdDistance, averageMinimumDistance } from "../../src/crystal/amd.ts";
import { StructureError } from "../../src/crystal/errors.ts";
import { Lattice } from "../../src/crystal/lattice.ts";
import { Structure } from "../../src/crystal/structure.ts";
import { loadMp20 } from "./matcher_data.ts";
import { mulberry32, perturb, reorderRotateStrain, supercell } from "./matcher_pairs.ts";

const isStructureError = (e: unknown) => e instanceof StructureError;
const test142 = loadMp20("test");
const byId = new Map(test142.map((r) => [r.materialId, r.structure]));

test("simple cubic: 6 neighbours at a, 12 at a√2, 8 at a√3, 6 at 2a", () => {
  const s = new Structure(Lattice.cubic(2), ["Po"], [[0, 0, 0]]);
  const amd = averageMinimumDistance(s, 32);
  const expect = [...Array(6).fill(2), ...Array(12).fill(2 * Math.SQRT2), ...Array(8).fill(2 * Math.sqrt(3)), ...Array(6).fill(4)];
  expect.forEach((d, i) => assert.ok(Math.abs(amd[i] - d) < 1e-12, `k=${i + 1}`));
});

test("matches an independent pymatgen neighbour-list reference (k = 100)", () => {
  const ref = JSON.parse(readFileSync(new URL("../fixtures/matcher/amd_reference.json", import.meta.url), "utf8")) as { k: number; ids: string[]; amd: number[][] };
  ref.ids.forEach((id, n) => {
    const amd = averageMinimumDistance(byId.get(id)!, ref.k);
    assert.is(amd.length, 100);
    assert.ok(amdDistance(amd, ref.amd[n]) < 1e-6, `${id}: ${amdDistance(amd, ref.amd[n])}`);
  });
});

test("invariant to supercells, site order, rotation; continuous under small perturbations", () => {
  const rand = mulberry32(11);
  for (const { structure: s } of test142.slice(0, 10)) {
    const a = averageMinimumDistance(s);
    assert.ok(amdDistance(a, averageMinimumDistance(supercell(s, [[1, 1, 0], [0, 1, 0], [0, 0, 2]]))) < 1e-9);
    assert.ok(amdDistance(a, averageMinimumDistance(reorderRotateStrain(s, 0, rand))) < 1e-9);
    // Each site moves ≤ 0.01 Å, so every neighbour distance moves ≤ 0.02 Å.
    assert.ok(amdDistance(a, averageMinimumDistance(perturb(s, 0.01, rand))) <= 0.02 + 1e-12);
  }
});

test("amdDistance is the Chebyshev distance", () => {
  assert.is(amdDistance([1, 2, 3], [1.5, 2, 1]), 2);
  assert.is(amdDistance([1, 2], [1, 2]), 0);
});

test("bad input raises StructureError", () => {
  const lat = Lattice.cubic(3);
  assert.throws(() => averageMinimumDistance(new Structure(lat, [], [])), isStructureError);
  assert.throws(() => averageMinimumDistance(new Structure(lat, ["Na"], [[0, 0, 0]]), 0), isStructureError);
  assert.throws(() => averageMinimumDistance(new Structure(lat, ["Na"], [[Infinity, 0, 0]], { validate: false })), isStructureError);
  assert.throws(() => amdDistance([], []), isStructureError);
});

test.run();
