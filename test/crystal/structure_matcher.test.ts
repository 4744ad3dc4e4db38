import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { StructureError } from "../../src/crystal/errors.ts";
import { Lattice } from "../../src/crystal/lattice.ts";
import { Structure } from "../../src/crystal/structure.ts";
import { StructureMatcher } from "../../src/crystal/structure_matcher.ts";
import { latticePointsInSphere, reciprocalLengths } from "../../src/crystal/matcher_lattice.ts";
import { det3, type Mat3 } from "../../src/crystal/linalg.ts";
import { loadMp20 } from "./matcher_data.ts";
import { buildPair, camelOptions, mulberry32, perturb, supercell, type PairSpec, type PymatgenOptions } from "./matcher_pairs.ts";

const isStructureError = (e: unknown) => e instanceof StructureError;
const rows = [...loadMp20("train"), ...loadMp20("val"), ...loadMp20("test")];
const byId = new Map(rows.map((r) => [r.materialId, r.structure]));
const fixture = JSON.parse(readFileSync(new URL("../fixtures/matcher/pymatgen_verdicts.json", import.meta.url), "utf8")) as {
  rows: [PairSpec["kind"], string, string, number, number, boolean, boolean, number | null, number | null][];
};
const specOf = (r: (typeof fixture.rows)[number]): PairSpec => ({ kind: r[0], a: r[1], b: r[2], seed: r[3], mag: r[4], reversed: r[5] });

test("agrees with pymatgen StructureMatcher() verdicts and get_rms_dist on ≥ 3000 MP-20 pairs", () => {
  const m = new StructureMatcher();
  let agree = 0;
  let rmsChecked = 0;
  const rmsBad: string[] = [];
  for (const r of fixture.rows) {
    const [a, b] = buildPair(specOf(r), byId);
    const fit = m.fit(a, b);
    if (fit === r[6]) agree++;
    if (fit && r[6] && r[7] !== null) {
      const rms = m.getRmsDist(a, b);
      rmsChecked++;
      if (!rms || Math.abs(rms[0] - r[7]) > 1e-4 || Math.abs(rms[1] - r[8]!) > 1e-4) rmsBad.push(`${JSON.stringify(r)} → ${rms}`);
    }
  }
  const n = fixture.rows.length;
  assert.ok(n >= 3000, `${n} pairs`);
  assert.ok(new Set(fixture.rows.map((r) => r[0])).size >= 6, "all pair kinds present");
  assert.ok(agree / n >= 0.995, `agreement ${agree}/${n}`);
  assert.ok(rmsChecked > 1000, `rms checked on ${rmsChecked} pairs`);
  assert.equal(rmsBad, [], "rms within 1e-4");
});

test("non-default options (attemptSupercell, allowSubset, symmetric, scale) agree with pymatgen", () => {
  const opt = JSON.parse(readFileSync(new URL("../fixtures/matcher/pymatgen_options.json", import.meta.url), "utf8")) as {
    rows: [PairSpec["kind"], string, string, number, number, boolean, PymatgenOptions, boolean][];
  };
  const matchers = new Map<string, StructureMatcher>();
  const wrong: string[] = [];
  for (const r of opt.rows) {
    const key = JSON.stringify(r[6]);
    if (!matchers.has(key)) matchers.set(key, new StructureMatcher(camelOptions(r[6])));
    const [a, b] = buildPair({ kind: r[0], a: r[1], b: r[2], seed: r[3], mag: r[4], reversed: r[5] }, byId);
    if (matchers.get(key)!.fit(a, b) !== r[7]) wrong.push(JSON.stringify(r));
  }
  assert.ok(opt.rows.length >= 400 && matchers.size === 4);
  assert.equal(wrong, []);
});

const nacl = () =>
  new Structure(
    Lattice.cubic(5.64),
    ["Na", "Na", "Na", "Na", "Cl", "Cl", "Cl", "Cl"],
    [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0], [0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5], [0.5, 0.5, 0.5]],
  );

test("identity, rotation, site order and volume scaling", () => {
  const m = new StructureMatcher();
  const s = nacl();
  assert.ok(m.fit(s, s));
  const rms = m.getRmsDist(s, s)!;
  assert.ok(rms[0] < 1e-8 && rms[1] < 1e-8);
  const order = [7, 3, 5, 0, 1, 6, 2, 4];
  const shuffled = new Structure(s.lattice, order.map((i) => s.species[i]), order.map((i) => s.fracCoords[i]));
  assert.ok(m.fit(s, shuffled));
  const bigger = s.copy({ lattice: s.lattice.scale(s.volume * 2) });
  assert.ok(m.fit(s, bigger), "scale=true ignores volume");
  assert.not.ok(new StructureMatcher({ scale: false }).fit(s, bigger), "scale=false: 26 % longer axes exceed ltol");
  const c = Math.cos(0.7);
  const sn = Math.sin(0.7);
  const rotated = s.copy({ lattice: new Lattice(s.lattice.matrix.map((r) => [c * r[0] - sn * r[1], sn * r[0] + c * r[1], r[2]])) });
  assert.ok(m.fit(s, rotated), "rigid rotation");
});

test("primitive reduction and supercells", () => {
  const s = rows.find((r) => r.materialId === "mp-2204")?.structure ?? rows[0].structure;
  const sc = supercell(s, [[2, 0, 0], [0, 1, 0], [0, 0, 1]]);
  assert.ok(new StructureMatcher().fit(s, sc), "primitive cells agree");
  assert.not.ok(new StructureMatcher({ primitiveCell: false }).fit(s, sc), "different site counts without reduction");
  assert.ok(new StructureMatcher({ primitiveCell: false, attemptSupercell: true }).fit(s, sc), "attemptSupercell builds the supercell");
  assert.ok(new StructureMatcher({ primitiveCell: false, attemptSupercell: true }).fit(sc, s), "either order");
});

test("allowSubset matches a structure with sites removed", () => {
  const s = nacl();
  const missing = new Structure(s.lattice, s.species.slice(0, 7), s.fracCoords.slice(0, 7));
  assert.not.ok(new StructureMatcher().fit(s, missing));
  assert.ok(new StructureMatcher({ allowSubset: true, primitiveCell: false }).fit(s, missing));
});

test("different compositions are false without reducing anything", () => {
  const m = new StructureMatcher();
  const a = nacl();
  const b = a.copy({ species: a.species.map((x) => (x === "Cl" ? "Br" : x)) });
  assert.not.ok(m.fit(a, b));
  assert.is(m.getRmsDist(a, b), null);
});

test("symmetric option is fit(a,b) && fit(b,a) on the order-swapped fixture pairs", () => {
  const plain = new StructureMatcher();
  const sym = new StructureMatcher({ symmetric: true });
  const reversed = fixture.rows.filter((r) => r[5]).slice(0, 120);
  assert.ok(reversed.length >= 100);
  for (const r of reversed) {
    const [a, b] = buildPair(specOf(r), byId);
    assert.is(sym.fit(a, b), plain.fit(a, b) && plain.fit(b, a), JSON.stringify(r));
    assert.is(sym.fit(a, b), sym.fit(b, a), "symmetric verdicts do not depend on order");
  }
});

test("group follows pymatgen group_structures", () => {
  const rand = mulberry32(3);
  const a = rows[0].structure;
  const b = rows[1].structure;
  const list = [a, b, perturb(a, 0.05, rand), perturb(b, 0.05, rand), perturb(a, 0.05, rand)];
  const groups = new StructureMatcher().group(list);
  assert.is(groups.length, 2);
  const withA = groups.find((g) => g.includes(a))!;
  assert.equal(withA, [a, list[2], list[4]], "first structure leads, later matches follow in input order");
  assert.throws(() => new StructureMatcher({ allowSubset: true }).group(list), isStructureError);
});

test("bad input raises StructureError", () => {
  const m = new StructureMatcher();
  const s = nacl();
  const empty = new Structure(s.lattice, [], []);
  assert.throws(() => m.fit(empty, s), isStructureError);
  const overlap = new Structure(s.lattice, ["Na", "Na"], [[0, 0, 0], [1e-5, 0, 0]]);
  assert.throws(() => m.fit(overlap, overlap), isStructureError);
  const nan = new Structure(s.lattice, ["Na"], [[NaN, 0, 0]], { validate: false });
  assert.throws(() => m.fit(nan, s), isStructureError);
  assert.throws(() => new StructureMatcher({ ltol: -1 }), isStructureError);
  assert.throws(() => new StructureMatcher({ allowSubset: true, attemptSupercell: true }), isStructureError);
});

/**
 * Independent reference for latticePointsInSphere: scan the whole box |n_i| ≤ nmax_i (no pruning),
 * keep points strictly inside the sphere, order by pymatgen's cube index, newest first in a cube.
 */
function boxScan(m: Mat3, r: number): number[][] {
  const lim = r + 1e-8;
  const edge = r < 0.1 ? 0.1 : r;
  const ncube = Math.ceil((2 * r + 2e-8) / edge);
  const nmax = reciprocalLengths(m).map((x) => Math.ceil((r * x) / (2 * Math.PI) + 1e-9));
  const found: { key: number; seq: number; p: number[] }[] = [];
  for (let i = -nmax[0]; i <= nmax[0]; i++)
    for (let j = -nmax[1]; j <= nmax[1]; j++)
      for (let k = -nmax[2]; k <= nmax[2]; k++) {
        const [x, y, z] = [0, 1, 2].map((l) => i * m[0][l] + j * m[1][l] + k * m[2][l]);
        const d2 = x * x + y * y + z * z;
        if (!(d2 < r * r + 1e-8 && Math.abs(x) < lim && Math.abs(y) < lim && Math.abs(z) < lim)) continue;
        const cube = [x, y, z].map((v) => Math.floor((v + lim + 1e-8) / edge));
        found.push({ key: (cube[0] * ncube + cube[1]) * ncube + cube[2], seq: found.length, p: [i, j, k] });
      }
  return found.sort((a, b) => a.key - b.key || b.seq - a.seq).map((f) => f.p);
}

test("latticePointsInSphere (pruned scan) equals a full box scan, order included, on skewed cells", () => {
  const rand = mulberry32(11);
  const cells: Mat3[] = [
    [[1, 0, 0], [10, 1, 0], [7, 5, 1]],
    [[3, 0, 0], [1.5, 2.598, 0], [0, 0, 5]],
    ...rows.slice(0, 40).map((r) => r.structure.lattice.matrix as Mat3),
  ];
  for (let t = 0; t < 40; t++) cells.push([0, 1, 2].map(() => [0, 1, 2].map(() => (rand() - 0.5) * 8)) as Mat3);
  let points = 0;
  for (const m of cells) {
    if (Math.abs(det3(m)) < 1) continue; // near-flat random cells have huge boxes; left-handed ones are kept
    const longest = Math.max(...m.map((v) => Math.hypot(v[0], v[1], v[2])));
    for (const r of [longest * (1 + 1e-5), longest * 1.2, 2.7]) {
      const want = boxScan(m, r);
      points += want.length;
      assert.equal(latticePointsInSphere(m, r).frac, want, `cell ${JSON.stringify(m)}, r = ${r}`);
    }
  }
  assert.ok(points > 1000, `${points} points compared`);
});

test.run();
