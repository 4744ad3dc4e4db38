/**
 * Lattice: construction errors, LLL and Niggli reduction against pymatgen fixtures
 * (scripts/parity/lattice_parity.py), minimum-image distances and sphere searches.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { LatticeError } from "../../src/crystal/errors.ts";
import { Lattice } from "../../src/crystal/lattice.ts";
import { det3, inv3, matmul3, transpose3, type Mat3 } from "../../src/crystal/linalg.ts";
import { LATTICE_FIXTURES, maxAbsDiff } from "../helpers/lattice_fixtures.ts";

const FIX = LATTICE_FIXTURES;

/** uvu's throws() takes a predicate, not a class. */
const isA = (C: new (...a: never[]) => Error) => (e: unknown) => e instanceof C;
const isUnimodular = (m: Mat3) =>
  m.every((r) => r.every((x) => Math.abs(x - Math.round(x)) < 1e-6)) && Math.abs(Math.abs(det3(m)) - 1) < 1e-6;

test("constructor rejects singular, left-handed, non-finite and malformed matrices", () => {
  assert.throws(() => new Lattice([[1, 0, 0], [2, 0, 0], [0, 0, 1]]), (e: Error) => e instanceof LatticeError && /singular/.test(e.message));
  assert.throws(() => new Lattice([[1, 0, 0], [0, 1, 0], [0, 0, -1]]), (e: Error) => e instanceof LatticeError && /left-handed/.test(e.message));
  assert.throws(() => new Lattice([[NaN, 0, 0], [0, 1, 0], [0, 0, 1]]), isA(LatticeError));
  assert.throws(() => new Lattice([[1, 0], [0, 1]]), isA(LatticeError));
  assert.throws(() => Lattice.fromParameters(1, 1, 1, 90, 90, 180), isA(LatticeError));
});

test("fromParameters round-trips parameters", () => {
  const l = Lattice.fromParameters(3, 4, 5, 80, 95, 110);
  const p = l.parameters;
  [3, 4, 5, 80, 95, 110].forEach((x, i) => assert.ok(Math.abs(p[i] - x) < 1e-9, `param ${i}: ${p[i]} vs ${x}`));
});

test(`LLL basis and mapping equal pymatgen's exactly (${FIX.length} lattices)`, () => {
  for (const e of FIX) {
    const l = new Lattice(e.matrix);
    assert.ok(maxAbsDiff(l.lllMatrix, e.lll) < 1e-8, `${e.source}: lll_matrix differs`);
    assert.ok(maxAbsDiff(l.lllMapping, e.lllMapping) < 1e-8, `${e.source}: lll_mapping differs`);
    assert.ok(maxAbsDiff(matmul3(l.lllMapping, l.matrix), l.lllMatrix) < 1e-8, `${e.source}: lll = mapping · matrix`);
    assert.ok(isUnimodular(l.lllInverse));
  }
});

test("LLL fractional coordinates round-trip and give the same Cartesian point", () => {
  const l = new Lattice(FIX.find((e) => e.source.endsWith(":skewed"))!.matrix);
  const f = [0.3, -1.2, 2.7];
  const g = l.getLllFracCoords(f);
  const back = l.getFracCoordsFromLll(g);
  f.forEach((x, i) => assert.ok(Math.abs(back[i] - x) < 1e-9));
  const c1 = l.getCartesianCoords(f);
  const lll = l.lllMatrix;
  const c2 = [0, 1, 2].map((k) => g[0] * lll[0][k] + g[1] * lll[1][k] + g[2] * lll[2][k]);
  c1.forEach((x, i) => assert.ok(Math.abs(x - c2[i]) < 1e-9));
  assert.ok(Math.abs(l.getLllReduced().volume - l.volume) < 1e-8 * l.volume);
  assert.throws(() => l.getLllReduced(0.1), isA(LatticeError));
});

test(`Niggli cell equals pymatgen's within its tolerances (${FIX.length} lattices)`, () => {
  let sameGram = 0;
  for (const e of FIX) {
    const l = new Lattice(e.matrix);
    const n = l.getNiggliReduced();
    const eps = 1e-5 * Math.cbrt(l.volume);
    const p = n.parameters;
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(p[i] - e.niggliParams[i]) < eps, `${e.source}: length ${i} ${p[i]} vs ${e.niggliParams[i]}`);
    for (let i = 3; i < 6; i++) {
      // pymatgen maps its reduced metric back onto lattice vectors with a 1° angle tolerance, so
      // where an angle is within 1° of 90° it may report the supplementary one.
      const same = Math.abs(p[i] - e.niggliParams[i]) < 1e-3;
      const flipped = Math.abs(p[i] + e.niggliParams[i] - 180) < 1e-3 && Math.abs(p[i] - 90) < 0.5;
      assert.ok(same || flipped, `${e.source}: angle ${i} ${p[i]} vs ${e.niggliParams[i]}`);
    }
    // Same lattice: pymatgen's matrix = U · ours with U integer, |det U| = 1; both right-handed.
    assert.ok(isUnimodular(matmul3(e.niggli, inv3(n.matrix))), `${e.source}: not the same lattice`);
    assert.ok(det3(n.matrix) > 0);
    const g1 = matmul3(n.matrix, transpose3(n.matrix));
    const g2 = matmul3(e.niggli, transpose3(e.niggli));
    if (maxAbsDiff(g1, g2) < 1e-3) sameGram++;
  }
  // Only the near-90° supplementary-angle cases (3 in this fixture) may differ in the metric.
  assert.ok(sameGram >= FIX.length - 5, `metric tensor agrees for ${sameGram}/${FIX.length}`);
});

/** Niggli conditions violated by a basis (main conditions only, with tolerance eps). */
function niggliViolations(m: Mat3, eps: number): string[] {
  const g = matmul3(m, transpose3(m));
  const [A, B, C, xi, eta, zeta] = [g[0][0], g[1][1], g[2][2], 2 * g[1][2], 2 * g[0][2], 2 * g[0][1]];
  const out: string[] = [];
  if (!(A <= B + eps && B <= C + eps)) out.push("A ≤ B ≤ C");
  if (!(Math.abs(xi) <= B + eps && Math.abs(eta) <= A + eps && Math.abs(zeta) <= A + eps)) out.push("off-diagonal bounds");
  if (!((xi > eps && eta > eps && zeta > eps) || (xi <= eps && eta <= eps && zeta <= eps))) out.push("sign condition");
  return out;
}

test("Niggli cell meets the reduction conditions wherever pymatgen's does, and is idempotent", () => {
  let reduced = 0;
  for (const e of FIX) {
    const l = new Lattice(e.matrix);
    const n = l.getNiggliReduced();
    const eps = 1e-5 * Math.cbrt(l.volume) * 10;
    // pymatgen re-reads A…ζ only once per pass (after A1 the values are stale), which in rare
    // near-degenerate cells stops with B slightly > C; we keep its semantics, so we only demand
    // the conditions where pymatgen's own cell meets them.
    if (niggliViolations(e.niggli, eps).length === 0) {
      assert.equal(niggliViolations(n.matrix, eps), [], `${e.source}`);
      reduced++;
      const nn = n.getNiggliReduced().parameters;
      n.parameters.forEach((x, i) => assert.ok(Math.abs(x - nn[i]) < 1e-4, `${e.source}: idempotent param ${i}: ${x} vs ${nn[i]}`));
    }
  }
  // 14/200 of pymatgen's cells are not strictly reduced: the stale-value quirk leaves hexagonal cells at 60° (+,0,0).
  assert.ok(reduced >= FIX.length * 0.9, `pymatgen's cells meet the conditions in ${reduced}/${FIX.length}`);
  assert.throws(() => Lattice.cubic(3).getNiggliReduced(-1), isA(LatticeError));
});

/** Rotation by `deg` degrees about the (normalised) axis u, as a 3×3 matrix R (x' = R x). */
function rotation(u: number[], deg: number): Mat3 {
  const n = Math.hypot(u[0], u[1], u[2]);
  const [x, y, z] = [u[0] / n, u[1] / n, u[2] / n];
  const c = Math.cos((deg * Math.PI) / 180);
  const s = Math.sin((deg * Math.PI) / 180);
  const t = 1 - c;
  return [
    [t * x * x + c, t * x * y - s * z, t * x * z + s * y],
    [t * x * y + s * z, t * y * y + c, t * y * z - s * x],
    [t * x * z - s * y, t * y * z + s * x, t * z * z + c],
  ];
}

test("Niggli cell follows a rotation of the lattice wherever its LLL basis does", () => {
  // The basis comes from the metric alone (pymatgen's vector search would pick another
  // equivalent basis for most rotated cells), so the seed batches (lengths, angles, fractional
  // coordinates) do not change when a structure is rotated. pymatgen's LLL (reproduced exactly)
  // breaks exact ties by rounding, so a symmetric cell may start from another LLL basis.
  const rt = transpose3(rotation([0.3, -0.7, 0.65], 37));
  let followed = 0;
  for (const e of FIX) {
    const l = new Lattice(e.matrix);
    const rotated = new Lattice(matmul3(e.matrix, rt));
    if (maxAbsDiff(rotated.lllMatrix, matmul3(l.lllMatrix, rt)) > 1e-8) continue;
    followed++;
    const n = l.getNiggliReduced().matrix;
    assert.ok(maxAbsDiff(rotated.getNiggliReduced().matrix, matmul3(n, rt)) < 1e-8, `${e.source}: rotated lattice reduced to another basis`);
  }
  assert.ok(followed >= FIX.length * 0.8, `LLL basis follows the rotation for only ${followed}/${FIX.length}`);
});

test("Niggli tolerance: 0 works (pymatgen raises there), non-finite is a LatticeError, a huge one terminates", () => {
  for (const e of FIX.slice(0, 40)) {
    const l = new Lattice(e.matrix);
    const exact = l.getNiggliReduced(0);
    assert.ok(isUnimodular(matmul3(e.niggli, inv3(exact.matrix))), `${e.source}: tol 0 gave another lattice`);
    // Sorted: at tol 0 ties are not broken, and pymatgen's stale-value quirk may leave b > c.
    const sorted = (v: number[]) => [...v].sort((x, y) => x - y);
    const want = sorted(e.niggliParams.slice(0, 3));
    sorted(exact.abc).forEach((x, i) => assert.ok(Math.abs(x - want[i]) < 1e-4, `${e.source}: tol 0 length ${i}: ${x} vs ${want[i]}`));
    const loose = l.getNiggliReduced(1e3);
    assert.ok(isUnimodular(matmul3(e.matrix, inv3(loose.matrix))), `${e.source}: tol 1e3 gave another lattice`);
  }
  for (const bad of [Infinity, NaN, -1e-9]) assert.throws(() => Lattice.cubic(3).getNiggliReduced(bad), isA(LatticeError));
});

test("getDistanceAndImage and getAllDistances equal pymatgen's", () => {
  for (const e of FIX) {
    const l = new Lattice(e.matrix);
    const d = l.getDistanceAndImage(e.distance.frac1, e.distance.frac2);
    assert.ok(Math.abs(d.distance - e.distance.distance) < 1e-8, `${e.source}: ${d.distance} vs ${e.distance.distance}`);
    assert.equal(d.image, e.distance.image, `${e.source}: image`);
    const all = l.getAllDistances(e.points, e.points);
    e.allDistances.forEach((r, i) => r.forEach((x, j) => assert.ok(Math.abs(all[i * 3 + j] - x) < 1e-8)));
  }
  const l = Lattice.cubic(2);
  assert.equal(l.getDistanceAndImage([0, 0, 0], [0.5, 0, 0], [1, 0, 0]), { distance: 3, image: [1, 0, 0] });
});

/** Brute-force nearest image over a wide box, as ground truth for very skewed cells. */
function bruteNearest(l: Lattice, f1: number[], f2: number[], n: number): number {
  let best = Infinity;
  for (let i = -n; i <= n; i++)
    for (let j = -n; j <= n; j++)
      for (let k = -n; k <= n; k++) {
        const c = l.getCartesianCoords([f2[0] + i - f1[0], f2[1] + j - f1[1], f2[2] + k - f1[2]]);
        best = Math.min(best, Math.hypot(...c));
      }
  return best;
}

test("minimum image is exact for an extremely skewed cell", () => {
  // a, b nearly parallel: the naive round-the-fractional-difference answer is wrong here.
  const l = new Lattice([[10, 0, 0], [9.5, 0.8, 0], [3.1, 0.2, 1.5]]);
  const pts = [[0.1, 0.2, 0.3], [0.85, 0.05, 0.9], [0.4, 0.95, 0.1], [0.6, 0.5, 0.55]];
  let naiveWrong = 0;
  for (const p of pts)
    for (const q of pts) {
      const truth = bruteNearest(l, p, q, 12);
      const d = l.getDistanceAndImage(p, q);
      assert.ok(Math.abs(d.distance - truth) < 1e-9, `${d.distance} vs ${truth}`);
      const c = l.getCartesianCoords([q[0] + d.image[0] - p[0], q[1] + d.image[1] - p[1], q[2] + d.image[2] - p[2]]);
      assert.ok(Math.abs(Math.hypot(...c) - truth) < 1e-9, "image reproduces the distance");
      const naive = Math.hypot(...l.getCartesianCoords([0, 1, 2].map((k) => q[k] - p[k] - Math.round(q[k] - p[k]))));
      if (naive > truth + 1e-6) naiveWrong++;
    }
  assert.ok(naiveWrong > 0, "the test cell must defeat naive rounding");
});

test("getPointsInSphere finds exactly the images within r (skewed cell)", () => {
  const l = new Lattice([[6, 0, 0], [5.2, 1.1, 0], [1.3, 0.4, 2.2]]);
  const pts = [[0.1, 0.9, 0.4], [1.6, -0.3, 0.2]];
  const center = l.getCartesianCoords([0.5, 0.5, 0.5]);
  const r = 4.2;
  const found = l.getPointsInSphere(pts, center, r);
  let expected = 0;
  pts.forEach((f) => {
    for (let i = -20; i <= 20; i++)
      for (let j = -20; j <= 20; j++)
        for (let k = -20; k <= 20; k++) {
          const c = l.getCartesianCoords([f[0] + i, f[1] + j, f[2] + k]);
          if (Math.hypot(c[0] - center[0], c[1] - center[1], c[2] - center[2]) <= r) expected++;
        }
  });
  assert.ok(expected > 5);
  assert.is(found.length, expected);
  for (const p of found) {
    const c = l.getCartesianCoords(p.fracCoords);
    assert.ok(Math.abs(Math.hypot(c[0] - center[0], c[1] - center[1], c[2] - center[2]) - p.distance) < 1e-9);
    p.fracCoords.forEach((x, k) => assert.ok(Math.abs(x - (pts[p.index][k] + p.image[k])) < 1e-12));
  }
  assert.throws(() => l.getPointsInSphere(pts, center, -1), isA(LatticeError));
});

test.run();
