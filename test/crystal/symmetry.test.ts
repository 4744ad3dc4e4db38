/**
 * Symmetry via moyo-wasm against spglib (through pymatgen's SpacegroupAnalyzer, symprec 0.1) on
 * 300 MP-20 structures (fixture from scripts/parity/lattice_parity.py), plus hand-built cases
 * and error handling.
 */
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SymmetryError } from "../../src/crystal/errors.ts";
import { Lattice } from "../../src/crystal/lattice.ts";
import type { Mat3, Vec3 } from "../../src/crystal/linalg.ts";
import { Structure } from "../../src/crystal/structure.ts";
import {
  getConventionalStandardStructure,
  getPrimitiveStandardStructure,
  getSpaceGroupNumber,
  getSpaceGroupSymbol,
  getSymmetryDataset,
} from "../../src/crystal/symmetry.ts";

interface SymFixture {
  materialId: string;
  lattice: Mat3;
  species: string[];
  fracCoords: Vec3[];
  spacegroup: number;
  symbol: string;
  datasetSpacegroup: number;
  equivalentAtoms: number[];
  primitiveNumSites: number;
  conventionalNumSites: number;
}
const FIX: SymFixture[] = JSON.parse(
  readFileSync(new URL("../fixtures/crystal/structure_parity.json", import.meta.url), "utf8"),
).structures;
const load = (e: SymFixture) => new Structure(e.lattice, e.species, e.fracCoords);
const isA = (C: new (...a: never[]) => Error, re?: RegExp) => (e: unknown) => e instanceof C && (!re || re.test((e as Error).message));

function rockSalt(a = 5.64): Structure {
  const na = [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]];
  const cl = na.map((f) => f.map((x) => (x + 0.5) % 1));
  return new Structure(Lattice.cubic(a), [...na.map(() => "Na"), ...cl.map(() => "Cl")], [...na, ...cl]);
}

test(`space group, symbol and equivalent atoms equal spglib's at symprec 0.1 (${FIX.length} MP-20 structures)`, () => {
  const misses: string[] = [];
  for (const e of FIX) {
    const d = getSymmetryDataset(load(e), { symprec: 0.1 });
    if (d.number !== e.spacegroup) misses.push(`${e.materialId}: moyo ${d.number} vs spglib ${e.spacegroup}`);
    assert.is(d.number, e.datasetSpacegroup, `${e.materialId} vs MP-20's spacegroup.number`);
    assert.is(d.symbol.replace(/ /g, ""), e.symbol, e.materialId);
    assert.equal(d.equivalentAtoms, e.equivalentAtoms, e.materialId);
    assert.is(d.wyckoffs.length, e.species.length);
    assert.ok(d.operations.length >= 1);
  }
  assert.equal(misses, []);
});

test("standard primitive / conventional cells have spglib's site counts and the same space group", () => {
  for (const e of FIX.slice(0, 80)) {
    const s = load(e);
    const prim = getPrimitiveStandardStructure(s);
    const conv = getConventionalStandardStructure(s);
    assert.is(prim.length, e.primitiveNumSites, `${e.materialId} primitive`);
    assert.is(conv.length, e.conventionalNumSites, `${e.materialId} conventional`);
    assert.is(getSpaceGroupNumber(prim), e.spacegroup, `${e.materialId} primitive keeps the group`);
    assert.ok(Math.abs(prim.volume / prim.length - s.volume / s.length) < 1e-3 * s.volume, "volume per atom kept");
    assert.equal(prim.composition.reducedFormula, s.composition.reducedFormula);
  }
});

test("rock salt: Fm-3m in any basis, primitive 2 sites, conventional 8", () => {
  const rs = rockSalt();
  assert.is(getSpaceGroupNumber(rs), 225);
  assert.is(getSpaceGroupSymbol(rs).replace(/ /g, ""), "Fm-3m");
  const ds = getSymmetryDataset(rs);
  assert.is(ds.operations.length, 192, "48 point operations × 4 centring translations");
  assert.equal(ds.equivalentAtoms, [0, 0, 0, 0, 4, 4, 4, 4]);
  const prim = getPrimitiveStandardStructure(rs);
  assert.is(prim.length, 2);
  assert.ok(Math.abs(prim.volume - rs.volume / 4) < 1e-6);
  assert.is(getConventionalStandardStructure(prim).length, 8);
  // Same crystal in a skewed (unimodular) basis, coordinates re-expressed.
  const skew = rs.makeSupercell([[1, 2, 0], [0, 1, 0], [1, 1, 1]]);
  assert.is(getSpaceGroupNumber(skew), 225);
  // Small noise is absorbed at symprec 0.1 but not at 1e-4.
  let seed = 3;
  const rng = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const noisy = rs.perturb(0.01, undefined, rng);
  assert.is(getSpaceGroupNumber(noisy, { symprec: 0.1 }), 225);
  assert.ok(getSpaceGroupNumber(noisy, { symprec: 1e-4 }) < 225);
});

test("bad input gives SymmetryError naming the structure and the fix", () => {
  const rs = rockSalt();
  assert.throws(() => getSpaceGroupNumber(rs, { symprec: 0 }), isA(SymmetryError, /symprec/));
  assert.throws(() => getSpaceGroupNumber(rs, { symprec: NaN }), isA(SymmetryError, /symprec/));
  assert.throws(() => getSpaceGroupNumber(rs, { angleTolerance: 5 }), isA(SymmetryError, /angleTolerance is not supported/));
  assert.throws(() => getSpaceGroupNumber(new Structure(Lattice.cubic(3), [], [])), isA(SymmetryError, /no sites/));
  // Two Na atoms 0.003 Å apart: moyo's primitive search fails; the message names the formula
  // and suggests a looser symprec.
  const bad = new Structure(Lattice.cubic(3), ["Na", "Na"], [[0, 0, 0], [0.001, 0, 0]]);
  assert.throws(() => getSpaceGroupNumber(bad, { symprec: 0.1 }), isA(SymmetryError, /Na2 at symprec=0\.1.*looser symprec/));
});

test.run();
