/**
 * Structure: periodic distances/neighbours (exact for skewed cells), pymatgen parity for density,
 * sort order and distance matrices (fixture from scripts/parity/lattice_parity.py), supercells,
 * perturbation, and validation errors.
 */
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { LatticeError, StructureError } from "../../src/crystal/errors.ts";
import { Lattice } from "../../src/crystal/lattice.ts";
import type { Mat3, Vec3 } from "../../src/crystal/linalg.ts";
import { Structure } from "../../src/crystal/structure.ts";

interface StructureFixture {
  materialId: string;
  lattice: Mat3;
  species: string[];
  fracCoords: Vec3[];
  density: number;
  sortedSpecies: string[];
  distanceMatrix?: number[][];
}
const FIX: StructureFixture[] = JSON.parse(
  readFileSync(new URL("../fixtures/crystal/structure_parity.json", import.meta.url), "utf8"),
).structures;
const load = (e: StructureFixture) => new Structure(e.lattice, e.species, e.fracCoords);
const isA = (C: new (...a: never[]) => Error, re?: RegExp) => (e: unknown) => e instanceof C && (!re || re.test((e as Error).message));

/** Deterministic uniform [0, 1) generator (mulberry32) for reproducible perturbations. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** NaCl rock salt, conventional cubic cell (a = 5.64 Å). */
function rockSalt(): Structure {
  const na = [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]];
  const cl = na.map((f) => f.map((x) => (x + 0.5) % 1));
  return new Structure(Lattice.cubic(5.64), [...na.map(() => "Na"), ...cl.map(() => "Cl")], [...na, ...cl]);
}

/** A cell whose a and b are nearly parallel: naive fractional rounding gets distances wrong. */
const SKEWED = new Lattice([[10, 0, 0], [9.5, 0.8, 0], [3.1, 0.2, 1.5]]);

function bruteDistance(l: Lattice, f1: readonly number[], f2: readonly number[], n = 12): number {
  let best = Infinity;
  for (let i = -n; i <= n; i++)
    for (let j = -n; j <= n; j++)
      for (let k = -n; k <= n; k++) best = Math.min(best, Math.hypot(...l.getCartesianCoords([f2[0] + i - f1[0], f2[1] + j - f1[1], f2[2] + k - f1[2]])));
  return best;
}

test(`density equals pymatgen's (${FIX.length} MP-20 structures)`, () => {
  for (const e of FIX) assert.ok(Math.abs(load(e).density - e.density) < 1e-6 * e.density, `${e.materialId}`);
  const s = rockSalt();
  assert.ok(Math.abs(s.volumePerAtom - 5.64 ** 3 / 8) < 1e-9);
});

test("getSortedStructure orders sites as pymatgen does (electronegativity, then symbol, stable)", () => {
  for (const e of FIX) assert.equal(load(e).getSortedStructure().species, e.sortedSpecies, e.materialId);
  const s = new Structure(Lattice.cubic(4), ["O", "Li", "Fe", "Li"], [[0, 0, 0], [0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5]]);
  const sorted = s.getSortedStructure();
  assert.equal(sorted.species, ["Li", "Li", "Fe", "O"]);
  assert.equal(sorted.fracCoords[0], [0.5, 0, 0], "stable: first Li stays first");
  assert.equal(s.getSortedStructure({ reverse: true }).species, ["O", "Fe", "Li", "Li"]);
});

test("distanceMatrix equals pymatgen's", () => {
  let n = 0;
  for (const e of FIX.filter((x) => x.distanceMatrix)) {
    const dm = load(e).distanceMatrix;
    e.distanceMatrix!.forEach((r, i) => r.forEach((x, j) => assert.ok(Math.abs(dm[i][j] - x) < 1e-8, `${e.materialId} [${i},${j}]`)));
    n++;
  }
  assert.ok(n >= 10);
});

test("getDistance and distanceMatrix are exact minimum images in a skewed cell", () => {
  const fr = [[0.1, 0.2, 0.3], [0.85, 0.05, 0.9], [0.4, 0.95, 0.1], [0.6, 0.5, 0.55]];
  const s = new Structure(SKEWED, ["Si", "O", "O", "Si"], fr);
  const dm = s.distanceMatrix;
  for (let i = 0; i < 4; i++)
    for (let j = 0; j < 4; j++) {
      const truth = bruteDistance(SKEWED, fr[i], fr[j]);
      assert.ok(Math.abs(s.getDistance(i, j) - truth) < 1e-9, `getDistance(${i},${j})`);
      assert.ok(Math.abs(dm[i][j] - truth) < 1e-9, `distanceMatrix[${i}][${j}]`);
    }
  assert.ok(Math.abs(s.getDistance(0, 0, [1, 0, 0]) - 10) < 1e-12, "explicit image");
  assert.throws(() => s.getDistance(0, 4), isA(StructureError, /out of range/));
});

test("getNeighbors finds every image within r, sorted, excluding the site itself", () => {
  const s = new Structure(SKEWED, ["Si", "O"], [[0.1, 0.2, 0.3], [0.85, 0.05, 0.9]]);
  const r = 3.5;
  const nb = s.getNeighbors(0, r);
  let expected = 0;
  let nearest = Infinity;
  const c0 = SKEWED.getCartesianCoords(s.fracCoords[0]);
  s.fracCoords.forEach((f, idx) => {
    for (let i = -15; i <= 15; i++)
      for (let j = -15; j <= 15; j++)
        for (let k = -15; k <= 15; k++) {
          if (idx === 0 && i === 0 && j === 0 && k === 0) continue;
          const c = SKEWED.getCartesianCoords([f[0] + i, f[1] + j, f[2] + k]);
          const d = Math.hypot(c[0] - c0[0], c[1] - c0[1], c[2] - c0[2]);
          nearest = Math.min(nearest, d);
          if (d <= r) expected++;
        }
  });
  assert.ok(expected > 3);
  assert.is(nb.length, expected);
  for (let i = 1; i < nb.length; i++) assert.ok(nb[i].distance >= nb[i - 1].distance);
  assert.ok(Math.abs(nb[0].distance - nearest) < 1e-9, "closest neighbour first");
  // Rock salt: 6 Cl at a/2 around Na.
  const rs = rockSalt();
  const first = rs.getNeighbors(0, 2.9);
  assert.is(first.length, 6);
  assert.ok(first.every((n) => n.species === "Cl" && Math.abs(n.distance - 2.82) < 1e-9));
  assert.equal(rs.getAllNeighbors(2.9).map((x) => x.length), Array(8).fill(6));
});

test("makeSupercell: number, factors and 3×3 matrix; pymatgen site order; errors", () => {
  const rs = rockSalt();
  const s2 = rs.makeSupercell(2);
  assert.is(s2.length, 64);
  assert.ok(Math.abs(s2.volume - 8 * rs.volume) < 1e-6);
  assert.equal(s2.species.slice(0, 8), Array(8).fill("Na"), "copies of site 0 come first");
  assert.ok(s2.fracCoords.every((f) => f.every((x) => x >= 0 && x < 1)));
  const s211 = rs.makeSupercell([2, 1, 1]);
  assert.is(s211.length, 16);
  const sm = rs.makeSupercell([[1, 1, 0], [0, 1, 0], [0, 0, 2]]);
  assert.is(sm.length, 16);
  assert.ok(Math.abs(Math.min(...sm.getNeighbors(0, 3).map((n) => n.distance)) - 2.82) < 1e-9, "bond length kept");
  assert.ok(sm.isValid(2.5), "no duplicated sites");
  assert.throws(() => rs.makeSupercell(1.5), isA(StructureError, /integers/));
  assert.throws(() => rs.makeSupercell([[1, 0, 0], [0, 1, 0], [0, 0, -1]]), isA(StructureError, /determinant/));
  assert.throws(() => rs.makeSupercell([1, 2]), isA(StructureError));
});

test("perturb: seeded, exact displacement lengths, minDistance range, errors", () => {
  const rs = rockSalt();
  const a = rs.perturb(0.1, undefined, seeded(7));
  const b = rs.perturb(0.1, undefined, seeded(7));
  assert.equal(a.fracCoords, b.fracCoords, "same seed, same result");
  assert.not.equal(a.fracCoords, rs.perturb(0.1, undefined, seeded(8)).fracCoords);
  for (let i = 0; i < rs.length; i++) {
    const d = rs.lattice.getDistanceAndImage(rs.fracCoords[i], a.fracCoords[i]).distance;
    assert.ok(Math.abs(d - 0.1) < 1e-9, `site ${i} moved ${d}`);
  }
  assert.ok(a.fracCoords.every((f) => f.every((x) => x >= 0 && x < 1)));
  const c = rs.perturb(0.3, 0.1, seeded(1));
  const moves = rs.fracCoords.map((f, i) => rs.lattice.getDistanceAndImage(f, c.fracCoords[i]).distance);
  assert.ok(moves.every((d) => d >= 0.1 - 1e-9 && d <= 0.3 + 1e-9));
  assert.ok(Math.max(...moves) - Math.min(...moves) > 1e-3, "lengths vary");
  assert.throws(() => rs.perturb(-1), isA(StructureError));
  assert.throws(() => rs.perturb(0.1, 0.2), isA(StructureError));
});

test("translateSites, wrapped, scaleLattice, fromSites, copy", () => {
  const rs = rockSalt();
  const t = rs.translateSites([0], [-0.25, 0, 1.5]);
  assert.equal(t.fracCoords[0], [0.75, 0, 0.5]);
  assert.equal(t.fracCoords[1], rs.fracCoords[1], "other sites untouched");
  const raw = rs.translateSites(0, [-0.25, 0, 0], { toUnitCell: false });
  assert.equal(raw.fracCoords[0], [-0.25, 0, 0]);
  const cart = rs.translateSites(0, [0.564, 0, 0], { fracCoords: false });
  assert.ok(Math.abs(cart.fracCoords[0][0] - 0.1) < 1e-12);
  assert.equal(raw.wrapped().fracCoords[0], [0.75, 0, 0]);
  assert.equal(new Structure(Lattice.cubic(3), ["Fe"], [[-1e-17, 1, 2.25]]).wrapped().fracCoords[0], [0, 0, 0.25]);
  const sc = rs.scaleLattice(2 * rs.volume);
  assert.ok(Math.abs(sc.volume - 2 * rs.volume) < 1e-9);
  assert.equal(sc.fracCoords, rs.fracCoords);
  const fs = Structure.fromSites(rs.lattice, rs.sites);
  assert.equal(fs.species, rs.species);
  assert.equal(fs.fracCoords, rs.fracCoords);
  const cp = rs.copy();
  assert.ok(cp !== rs && cp.fracCoords !== rs.fracCoords);
  assert.throws(() => rs.translateSites([9], [0, 0, 0]), isA(StructureError, /out of range/));
  assert.throws(() => rs.translateSites([0], [NaN, 0, 0]), isA(StructureError));
});

test("isValid and assertReasonable: empty, overlapping and fine structures", () => {
  const rs = rockSalt();
  assert.ok(rs.isValid());
  assert.not.ok(rs.isValid(3), "Na–Cl at 2.82 Å < 3");
  assert.is(rs.assertReasonable(), rs);
  const empty = new Structure(Lattice.cubic(3), [], []);
  assert.throws(() => empty.assertReasonable(), isA(StructureError, /no sites/));
  // Overlap across the periodic boundary: 0.999 and 0.001 are 0.0064 Å apart in a 3.2 Å cell.
  const ov = new Structure(Lattice.cubic(3.2), ["Fe", "O", "Fe"], [[0.5, 0.5, 0.5], [0.999, 0, 0], [0.001, 0, 0]]);
  assert.not.ok(ov.isValid());
  assert.throws(() => ov.assertReasonable(), isA(StructureError, /sites 1 \(O\) and 2 \(Fe\) overlap/));
});

test("constructor rejects NaN coordinates, mismatched arrays and bad lattices", () => {
  assert.throws(() => new Structure(Lattice.cubic(3), ["Fe"], [[NaN, 0, 0]]), isA(StructureError, /non-finite/));
  assert.throws(() => new Structure(Lattice.cubic(3), ["Fe", "O"], [[0, 0, 0]]), isA(StructureError, /must match/));
  assert.throws(() => new Structure([[1, 0, 0], [0, 1, 0], [0, 0, -1]], ["Fe"], [[0, 0, 0]]), isA(LatticeError, /left-handed/));
  assert.throws(() => new Structure([[1, 0, 0], [1, 0, 0], [0, 0, 1]], ["Fe"], [[0, 0, 0]]), isA(LatticeError, /singular/));
});

test.run();
