/**
 * matcher_lattice: the project's one Niggli reduction — pymatgen's exact basis (`niggliReduce`,
 * used by the structure matcher) and the orientation-free transform basis (`niggliReducedBasis`,
 * behind `Lattice.getNiggliReduced`) — against pymatgen fixtures (scripts/parity/lattice_parity.py).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Lattice } from "../../src/crystal/lattice.ts";
import { det3, inv3, matmul3, transpose3, type Mat3 } from "../../src/crystal/linalg.ts";
import { LatticeError } from "../../src/crystal/errors.ts";
import { firstMapping, latticeParameters, lllReduce, niggliReduce, niggliReducedBasis } from "../../src/crystal/matcher_lattice.ts";
import { LATTICE_FIXTURES, maxAbsDiff } from "../helpers/lattice_fixtures.ts";

const FIX = LATTICE_FIXTURES;

const isUnimodular = (m: Mat3) =>
  m.every((r) => r.every((x) => Math.abs(x - Math.round(x)) < 1e-6)) && Math.abs(Math.abs(det3(m)) - 1) < 1e-6;
const sameLattice = (a: Mat3, b: Mat3) => isUnimodular(matmul3(a, inv3(b)));

test(`niggliReduce returns pymatgen's Niggli matrix exactly (${FIX.length} lattices)`, () => {
  for (const e of FIX) assert.ok(maxAbsDiff(niggliReduce(e.matrix), e.niggli) < 1e-8, `${e.source}: differs from pymatgen`);
});

test("both bases come from one reduction: same lattice, same lengths, right-handed", () => {
  let sameMatrix = 0;
  for (const e of FIX) {
    const p = niggliReduce(e.matrix);
    const t = niggliReducedBasis(e.matrix);
    assert.ok(det3(p) > 0 && det3(t) > 0, `${e.source}: left-handed`);
    assert.ok(sameLattice(p, t), `${e.source}: different lattices`);
    const eps = 1e-5 * Math.cbrt(Math.abs(det3(e.matrix)));
    const [lp, lt] = [latticeParameters(p), latticeParameters(t)];
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(lp[i] - lt[i]) < eps, `${e.source}: length ${i} ${lp[i]} vs ${lt[i]}`);
    if (maxAbsDiff(p, t) < 1e-8) sameMatrix++;
    assert.equal(new Lattice(e.matrix).getNiggliReduced().matrix, t, `${e.source}: Lattice.getNiggliReduced is not niggliReducedBasis`);
  }
  // The transform basis is another orientation of pymatgen's cell for most lattices.
  assert.ok(sameMatrix < FIX.length, "expected some lattices where the two bases differ");
});

test("tol 0: pymatgen's search finds nothing (it raises), niggliReduce falls back on the transform basis", () => {
  for (const e of FIX.slice(0, 50)) {
    const m = niggliReduce(e.matrix, 0);
    assert.equal(m, niggliReducedBasis(e.matrix, 0), `${e.source}`);
    assert.ok(sameLattice(m, e.matrix), `${e.source}: another lattice`);
  }
});

test("a loose tolerance never turns the lattice into a supercell (pymatgen's search can)", () => {
  let sublattices = 0;
  for (const e of FIX) {
    const tol = 0.1;
    const reduced = niggliReduce(e.matrix, tol);
    assert.ok(sameLattice(reduced, e.matrix), `${e.source}: tol ${tol} gave another lattice`);
    // What pymatgen's first mapping would be: does it span a sublattice here?
    const eps = tol * Math.cbrt(Math.abs(det3(e.matrix)));
    if (eps > 1) continue;
    const first = firstMapping(e.matrix, latticeParameters(niggliReducedBasis(e.matrix, tol)), eps, 1);
    if (first && Math.abs(det3(first.scale)) > 1.5) sublattices++;
  }
  assert.ok(sublattices > 0, "the fixture should contain a lattice where pymatgen's search returns a supercell");
});

test("a huge tolerance terminates with a cell of the same lattice (no unbounded vector search)", () => {
  for (const e of FIX.slice(0, 20)) {
    const m = niggliReduce(e.matrix, 1e3);
    assert.ok(sameLattice(m, e.matrix) && det3(m) > 0, `${e.source}`);
  }
});

test("pymatgen's basis depends on the lattice's orientation (why Lattice uses the transform basis)", () => {
  // A rotated copy: niggliReducedBasis rotates with it; pymatgen's basis need not.
  const c = Math.cos(0.6), s = Math.sin(0.6);
  const rt: Mat3 = transpose3([[c, -s, 0], [s, c, 0], [0, 0, 1]]);
  let pymatgenMoved = 0;
  for (const e of FIX) {
    const rot = matmul3(e.matrix, rt);
    if (maxAbsDiff(niggliReduce(rot), matmul3(niggliReduce(e.matrix), rt)) > 1e-6) pymatgenMoved++;
  }
  assert.ok(pymatgenMoved > FIX.length / 10, `pymatgen's basis moved for only ${pymatgenMoved}/${FIX.length} rotated lattices`);
});

test(`lllReduce (the project's one LLL) returns pymatgen's lll_matrix and lll_mapping exactly (${FIX.length} lattices)`, () => {
  for (const e of FIX) {
    const { matrix, mapping } = lllReduce(e.matrix);
    assert.ok(maxAbsDiff(matrix, e.lll) < 1e-8, `${e.source}: lll_matrix differs from pymatgen`);
    assert.ok(maxAbsDiff(mapping, e.lllMapping) < 1e-8, `${e.source}: lll_mapping differs from pymatgen`);
    assert.ok(isUnimodular(mapping), `${e.source}: mapping is not unimodular`);
    assert.ok(maxAbsDiff(matmul3(mapping, e.matrix), matrix) < 1e-8, `${e.source}: lll != mapping · matrix`);
    // Lattice.lllMatrix / lllMapping delegate to lllReduce: the same numbers, bit for bit.
    const l = new Lattice(e.matrix);
    assert.equal(l.lllMatrix, matrix, `${e.source}: Lattice.lllMatrix differs from lllReduce`);
    assert.equal(l.lllMapping, mapping, `${e.source}: Lattice.lllMapping differs from lllReduce`);
  }
});

test("lllReduce: bad delta and non-finite rows are LatticeErrors, not a silently unreduced basis", () => {
  const isLatticeError = (re: RegExp) => (e: Error) => e instanceof LatticeError && re.test(e.message);
  const cubic: Mat3 = [[3, 0, 0], [0, 3, 0], [0, 0, 3]];
  for (const d of [0.25, 0.1, 1.5, NaN]) assert.throws(() => lllReduce(cubic, d), isLatticeError(/delta must be in \(0\.25, 1\]/));
  assert.throws(() => lllReduce([[NaN, 0, 0], [0, 3, 0], [0, 0, 3]]), isLatticeError(/did not converge/));
  assert.equal(lllReduce(cubic, 1).matrix, cubic);
});

test.run();
