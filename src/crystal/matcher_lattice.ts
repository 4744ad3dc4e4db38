/**
 * Lattice geometry on raw 3×3 matrices (rows = lattice vectors) for the structure matcher.
 *
 * The matcher must work with lattices the `Lattice` class rightly refuses (a lattice mapping may
 * be left-handed), and runs these steps millions of times, so they live here as small pure
 * functions on plain arrays: lattice parameters, LLL and Niggli reduction following pymatgen's
 * numerics (so reduced cells and tolerances agree with pymatgen's StructureMatcher), lattice
 * points inside a sphere, and the enumeration of lattice-vector triples that look like a target
 * lattice within length/angle tolerances (pymatgen's `Lattice.find_all_mappings`).
 */
import { LatticeError } from "./errors.ts";
import { det3, dot3, inv3, matmul3, norm3, roundHalfEven, transpose3, type Mat3, type Vec3 } from "./linalg.ts";

const RAD2DEG = 180 / Math.PI;

/** [a, b, c, α, β, γ] of any (even left-handed) matrix, angles in degrees. */
export function latticeParameters(m: Mat3): [number, number, number, number, number, number] {
  const a = norm3(m[0]);
  const b = norm3(m[1]);
  const c = norm3(m[2]);
  return [a, b, c, angleDeg(m[1], m[2], b, c), angleDeg(m[0], m[2], a, c), angleDeg(m[0], m[1], a, b)];
}

function angleDeg(u: Vec3, v: Vec3, lu: number, lv: number): number {
  return Math.acos(Math.max(-1, Math.min(1, dot3(u, v) / (lu * lv)))) * RAD2DEG;
}

/**
 * pymatgen-oriented matrix from parameters (c along z, a in the xz plane), the same construction
 * as `Lattice.fromParameters` without its validation (inputs here come from valid lattices).
 */
export function matrixFromParameters(p: readonly number[]): Mat3 {
  const d = Math.PI / 180;
  const ca = Math.cos(p[3] * d), cb = Math.cos(p[4] * d), cg = Math.cos(p[5] * d);
  const sa = Math.sin(p[3] * d), sb = Math.sin(p[4] * d);
  const gammaStar = Math.acos(Math.max(-1, Math.min(1, (ca * cb - cg) / (sa * sb))));
  return [
    [p[0] * sb, 0, p[0] * cb],
    [-p[1] * sa * Math.cos(gammaStar), p[1] * sa * Math.sin(gammaStar), p[1] * ca],
    [0, 0, p[2]],
  ];
}

/** Lengths of the reciprocal lattice vectors with the 2π factor (pymatgen `reciprocal_lattice.abc`). */
export function reciprocalLengths(m: Mat3): Vec3 {
  const inv = inv3(m);
  // Reciprocal vectors are the columns of M⁻¹ (times 2π).
  const t = 2 * Math.PI;
  return [t * Math.hypot(inv[0][0], inv[1][0], inv[2][0]), t * Math.hypot(inv[0][1], inv[1][1], inv[2][1]), t * Math.hypot(inv[0][2], inv[1][2], inv[2][2])];
}

export function scaleMatrix(m: Mat3, f: number): Mat3 {
  return m.map((r) => r.map((x) => x * f)) as Mat3;
}

/**
 * LLL reduction of the rows of `m` with pymatgen's exact step order (`Lattice._calculate_lll`),
 * so the reduced basis — and everything built on it, such as the Niggli cell's orientation — is
 * the basis pymatgen picks, not merely an equivalent one. Returns the reduced matrix and the
 * integer `mapping` with reduced = mapping · m. This is the project's only LLL: `Lattice.lllMatrix`,
 * the matcher, site mapping, AMD and novelty all call it.
 * @throws LatticeError when `delta` is outside (0.25, 1] or the loop does not converge
 *   (non-finite or degenerate rows).
 */
export function lllReduce(m: Mat3, delta = 0.75): { matrix: Mat3; mapping: Mat3 } {
  if (!(delta > 0.25 && delta <= 1))
    throw new LatticeError(`LLL delta must be in (0.25, 1], got ${delta}; the usual value is 0.75.`);
  const a = m.map((r) => [...r]); // a[i] is basis vector i
  const map = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];
  const b: number[][] = [[], [], []]; // Gram–Schmidt vectors
  const u = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  const nb = [0, 0, 0];
  for (let s = 0; s < 3; s++) gramSchmidt(a, b, u, nb, s);
  let k = 2;
  for (let guard = 0; k <= 3; guard++) {
    if (guard > 10000) throw new LatticeError(`LLL reduction did not converge for ${JSON.stringify(m)}.`);
    for (let i = k - 1; i > 0; i--) {
      const q = roundHalfEven(u[k - 1][i - 1]);
      if (q === 0) continue;
      for (let l = 0; l < 3; l++) {
        a[k - 1][l] -= q * a[i - 1][l];
        map[k - 1][l] -= q * map[i - 1][l];
      }
      for (let t = 0; t < i - 1; t++) u[k - 1][t] -= q * u[i - 1][t];
      u[k - 1][i - 1] -= q;
    }
    if (nb[k - 1] >= (delta - u[k - 1][k - 2] ** 2) * nb[k - 2]) {
      k++;
      continue;
    }
    [a[k - 1], a[k - 2]] = [a[k - 2], a[k - 1]];
    [map[k - 1], map[k - 2]] = [map[k - 2], map[k - 1]];
    for (let s = k - 2; s <= k - 1; s++) gramSchmidt(a, b, u, nb, s);
    if (k > 2) k--;
    else for (let t = 0; t < 2; t++) u[2][t] = dot3(a[2], b[t]) / nb[t];
  }
  return { matrix: a as Mat3, mapping: map as Mat3 };
}

/** Gram–Schmidt step s of LLL: b[s], its projections u[s][·] and squared norm nb[s], in place. */
function gramSchmidt(a: number[][], b: number[][], u: number[][], nb: number[], s: number): void {
  b[s] = [...a[s]];
  for (let t = 0; t < s; t++) {
    u[s][t] = dot3(a[s], b[t]) / nb[t];
    for (let l = 0; l < 3; l++) b[s][l] -= u[s][t] * b[t][l];
  }
  nb[s] = dot3(b[s], b[s]);
}

/**
 * All lattice points (integer combinations) within `r` of the origin, origin included, in the
 * order pymatgen's cell-list search (`find_points_in_spheres`) returns them. The order matters:
 * pymatgen's Niggli reduction keeps the *first* matching basis, and the tolerance-based
 * primitive finder depends on which equivalent basis that is. `keep` drops points (by length)
 * without changing the order of the others. pymatgen bins the image points into
 * cubes of edge r spanning [−r, r]³, visits the 27 cubes in lexicographic order and, within a
 * cube, yields points newest-first (linked-list insertion).
 */
export function latticePointsInSphere(
  m: Mat3,
  r: number,
  keep: (d: number) => boolean = () => true,
): { frac: Vec3[]; cart: Vec3[]; dist: number[] } {
  const tol = 1e-8;
  const edge = r < 0.1 ? 0.1 : r;
  const recip = reciprocalLengths(m);
  // Every point inside the sphere has |n_i| ≤ r·|b_i|/2π; pymatgen enumerates more images, but
  // the extra ones fall outside the sphere and the order within a cube is the same.
  const nmax = recip.map((x) => Math.ceil((r * x) / (2 * Math.PI) + 1e-9));
  const ncube = Math.ceil((2 * r + 2 * tol) / edge);
  const lim = r + tol;
  const rr = r * r + tol;
  const keys: number[] = [];
  const pts: number[] = [];
  // Entries read once: the loop then never touches `m` (whose arrays come in several V8 element kinds).
  const m00 = m[0][0], m01 = m[0][1], m02 = m[0][2];
  const m10 = m[1][0], m11 = m[1][1], m12 = m[1][2];
  const m20 = m[2][0], m21 = m[2][1], m22 = m[2][2];
  const c2 = m20 * m20 + m21 * m21 + m22 * m22;
  for (let i = -nmax[0]; i <= nmax[0]; i++)
    for (let j = -nmax[1]; j <= nmax[1]; j++) {
      // |p + k·c|² < r² is a quadratic in k (p = i·a + j·b): only k between its roots can pass the
      // test below. The line p + t·c misses the sphere when its closest approach exceeds r by
      // more than 1e-9 relative (rounding in d2 is ~1e-16 relative), and the k range is widened
      // by 1 on each side, so no point that passes the unchanged test is skipped; points are
      // visited in the same (i, j, k) order, so the output is identical to the full box scan.
      const px = i * m00 + j * m10;
      const py = i * m01 + j * m11;
      const pz = i * m02 + j * m12;
      const p2 = px * px + py * py + pz * pz;
      const half = (px * m20 + py * m21 + pz * m22) / c2;
      const gap = p2 - half * half * c2 - rr;
      if (gap > 1e-9 * (rr + p2)) continue;
      const root = Math.sqrt(Math.max(-gap / c2, 0));
      const kLo = Math.max(-nmax[2], Math.ceil(-half - root) - 1);
      const kHi = Math.min(nmax[2], Math.floor(-half + root) + 1);
      for (let k = kLo; k <= kHi; k++) {
        const x = i * m00 + j * m10 + k * m20;
        const y = i * m01 + j * m11 + k * m21;
        const z = i * m02 + j * m12 + k * m22;
        const d2 = x * x + y * y + z * z;
        if (!(d2 < rr && Math.abs(x) < lim && Math.abs(y) < lim && Math.abs(z) < lim) || !keep(Math.sqrt(d2))) continue;
        const cube = (Math.floor((x + lim + 1e-8) / edge) * ncube + Math.floor((y + lim + 1e-8) / edge)) * ncube + Math.floor((z + lim + 1e-8) / edge);
        keys.push(cube);
        pts.push(i, j, k, x, y, z, d2);
      }
    }
  // Cubes in lexicographic order (all lie next to the centre cube), newest point first within a cube.
  const order = keys.map((_, q) => q).sort((p, q) => keys[p] - keys[q] || q - p);
  const frac: Vec3[] = [];
  const cart: Vec3[] = [];
  const dist: number[] = [];
  for (const q of order) {
    const o = 7 * q;
    frac.push([pts[o], pts[o + 1], pts[o + 2]]);
    cart.push([pts[o + 3], pts[o + 4], pts[o + 5]]);
    dist.push(Math.sqrt(pts[o + 6]));
  }
  return { frac, cart, dist };
}

export interface LatticeMapping {
  /** Three vectors of the searched lattice whose lengths/angles resemble the target's. */
  aligned: Mat3;
  /** Integer matrix with aligned = scale · searched. */
  scale: Mat3;
}

/**
 * Every triple of lattice vectors of `m` whose lengths are within a factor (1 + ltol) of the
 * target parameters' and whose angles are within `atol` degrees (pymatgen `find_all_mappings`).
 * Triples with zero determinant are skipped; left-handed ones are kept.
 */
export function* findAllMappings(m: Mat3, target: readonly number[], ltol: number, atol: number): Generator<LatticeMapping> {
  const c = mappingCandidates(m, target, ltol, atol);
  if (!c) return;
  for (let x = 0; x < c.ia.length; x++)
    for (let y = 0; y < c.ib.length; y++) {
      if (!c.gammaOk[x * c.ib.length + y]) continue;
      for (let z = 0; z < c.ic.length; z++) {
        const mapping = tripleMapping(c, x, y, z);
        if (mapping) yield mapping;
      }
    }
}

/**
 * The first mapping `findAllMappings` would yield, or null: the same search without the
 * generator, which costs far more than the search itself in code that has not been optimised
 * yet (Niggli reduction runs once per structure, often in cold code).
 */
export function firstMapping(m: Mat3, target: readonly number[], ltol: number, atol: number): LatticeMapping | null {
  const c = mappingCandidates(m, target, ltol, atol);
  if (!c) return null;
  for (let x = 0; x < c.ia.length; x++)
    for (let y = 0; y < c.ib.length; y++) {
      if (!c.gammaOk[x * c.ib.length + y]) continue;
      for (let z = 0; z < c.ic.length; z++) {
        const mapping = tripleMapping(c, x, y, z);
        if (mapping) return mapping;
      }
    }
  return null;
}

interface MappingCandidates {
  pts: { frac: Vec3[]; cart: Vec3[]; dist: number[] };
  /** Indices of points whose lengths resemble a, b and c. */
  ia: number[];
  ib: number[];
  ic: number[];
  alphaOk: Uint8Array;
  betaOk: Uint8Array;
  gammaOk: Uint8Array;
}

/** Lattice points with lengths near a, b, c and their pairwise angle tests; null when some length has none. */
function mappingCandidates(m: Mat3, target: readonly number[], ltol: number, atol: number): MappingCandidates | null {
  const lengths = [target[0], target[1], target[2]];
  // An anonymous callback: tsx (esbuild keepNames) wraps each *named* inner closure in a
  // defineProperty call, a measurable cost on paths run millions of times.
  const pts = latticePointsInSphere(m, Math.max(lengths[0], lengths[1], lengths[2]) * (1 + ltol), (d) => nearAny(d, lengths, ltol));
  const ia = nearIndices(pts.dist, lengths[0], ltol);
  const ib = nearIndices(pts.dist, lengths[1], ltol);
  const ic = nearIndices(pts.dist, lengths[2], ltol);
  if (!ia.length || !ib.length || !ic.length) return null;
  const alphaOk = angleTable(pts, ib, ic, target[3], atol);
  const betaOk = angleTable(pts, ia, ic, target[4], atol);
  const gammaOk = angleTable(pts, ia, ib, target[5], atol);
  return { pts, ia, ib, ic, alphaOk, betaOk, gammaOk };
}

function nearIndices(dist: readonly number[], l: number, ltol: number): number[] {
  const idx: number[] = [];
  for (let i = 0; i < dist.length; i++) {
    const q = dist[i] / l;
    if (q < 1 + ltol && q > 1 / (1 + ltol)) idx.push(i);
  }
  return idx;
}

/** The mapping of candidate triple (x, y, z) when its α and β pass (γ is tested by the caller) and it is not flat. */
function tripleMapping(c: MappingCandidates, x: number, y: number, z: number): LatticeMapping | null {
  const n = c.ic.length;
  if (!c.alphaOk[y * n + z] || !c.betaOk[x * n + z]) return null;
  const { frac, cart } = c.pts;
  const scale: Mat3 = [frac[c.ia[x]], frac[c.ib[y]], frac[c.ic[z]]];
  if (Math.abs(det3(scale)) < 1e-8) return null;
  return { aligned: [cart[c.ia[x]], cart[c.ib[y]], cart[c.ic[z]]], scale };
}

/** Is length d within a factor (1 + ltol) of any of `lengths`? */
function nearAny(d: number, lengths: readonly number[], ltol: number): boolean {
  for (const l of lengths) if (d / l < 1 + ltol && d / l > 1 / (1 + ltol)) return true;
  return false;
}

/** ok[p·|q|+q] = |angle(p, q) − want| < atol for candidate index lists p, q. */
function angleTable(pts: { cart: Vec3[]; dist: number[] }, p: number[], q: number[], want: number, atol: number): Uint8Array {
  const ok = new Uint8Array(p.length * q.length);
  for (let x = 0; x < p.length; x++) {
    const u = pts.cart[p[x]];
    const lu = pts.dist[p[x]];
    for (let y = 0; y < q.length; y++) {
      const v = pts.cart[q[y]];
      const c = (u[0] * v[0] + u[1] * v[1] + u[2] * v[2]) / lu / pts.dist[q[y]];
      const ang = Math.acos(c > 1 ? 1 : c < -1 ? -1 : c) * RAD2DEG;
      ok[x * q.length + y] = Math.abs(ang - want) < atol ? 1 : 0;
    }
  }
  return ok;
}

// --- Niggli reduction ------------------------------------------------------------------------
// The project's only Niggli reduction. One loop (A1–A8 on the LLL metric) and two ways to turn
// its result into a basis: pymatgen's vector search (`niggliReduce`, used by the structure
// matcher so that reduced and primitive cells are pymatgen's) and the reduction's own integer
// transform (`niggliReducedBasis`, used by `Lattice.getNiggliReduced`), which depends on the
// metric only and is therefore the same for a rotated copy of the lattice.

/**
 * Above this relative length tolerance (the scaled tolerance e, which pymatgen passes to
 * `find_mapping` as a *fractional* length tolerance) the mapping search would admit vectors of
 * any length and its sphere would hold a huge number of lattice points; the reduced basis
 * itself is used instead. With the default tol = 1e-5 this needs a cell edge near 10⁵ Å.
 */
const MAX_MAPPING_LTOL = 1;

/** Outcome of the Niggli loop on the LLL basis of a lattice. */
interface NiggliReduction {
  /** Scaled tolerance e = tol·V^(1/3) (Å²-compared against metric entries, as pymatgen does). */
  e: number;
  /** LLL basis the loop started from (pymatgen's `lll_matrix`). */
  lll: Mat3;
  /** Reduced metric tensor G and integer transform T (det +1) with reduced basis = T · lll. */
  state: NiggliState;
}

/** Runs the Niggli loop (Grosse-Kunstleve, Sauter & Adams, Acta Cryst. A60 (2004) 1–6) on the LLL basis of `m`. */
function niggliReduction(m: Mat3, tol: number): NiggliReduction {
  const e = tol * Math.cbrt(Math.abs(det3(m)));
  const lll = lllReduce(m).matrix;
  return { e, lll, state: niggliMetric(matmul3(lll, transpose3(lll)), e) };
}

/** T · LLL of a reduction, negated when left-handed (negation keeps the lattice). */
function transformedBasis(r: NiggliReduction): Mat3 {
  const basis = matmul3(r.state.t, r.lll);
  return det3(basis) > 0 ? basis : scaleMatrix(basis, -1);
}

/**
 * Niggli-reduced basis of `m` from the reduction's own integer transform: T · LLL(m), made
 * right-handed, in `m`'s Cartesian frame. Same cell parameters as pymatgen's
 * `get_niggli_reduced_lattice` (up to its 1° angle tolerance), but the basis is chosen from the
 * metric alone, so rotating the lattice rotates the result (pymatgen's choice depends on the
 * Cartesian orientation). Works for tol = 0, where pymatgen's search finds nothing.
 */
export function niggliReducedBasis(m: Mat3, tol = 1e-5): Mat3 {
  return transformedBasis(niggliReduction(m, tol));
}

/**
 * Niggli-reduced lattice in pymatgen's formulation (`get_niggli_reduced_lattice`): the Niggli
 * loop on the LLL metric with tolerance e = tol·V^(1/3), then the first triple of actual
 * lattice vectors of `m` with the reduced parameters (`find_mapping(…, ltol = e, atol = 1°)`),
 * so the basis — not only the cell shape — is the one pymatgen returns. Negated when
 * left-handed, so the result is right-handed and in `m`'s Cartesian frame.
 *
 * Where pymatgen's search finds nothing (it raises "can't find niggli"; e.g. tol = 0, where its
 * strict length test admits no vector), finds a sublattice (loose tol; pymatgen then returns
 * a supercell), or would search an enormous sphere (e > MAX_MAPPING_LTOL), the transform basis
 * of `niggliReducedBasis` is returned instead: a Niggli cell of the same lattice.
 * `tol` is not validated here (callers own their inputs; `Lattice.getNiggliReduced` checks it).
 */
export function niggliReduce(m: Mat3, tol = 1e-5): Mat3 {
  const r = niggliReduction(m, tol);
  const first = r.e <= MAX_MAPPING_LTOL ? firstMapping(m, metricTarget(r.state.g), r.e, 1) : null;
  // A triple with |det| ≥ 2 spans a sublattice (e.g. c doubled): a different lattice.
  if (!first || Math.abs(det3(first.scale)) > 1.5) return transformedBasis(r);
  return det3(first.aligned) > 0 ? first.aligned : scaleMatrix(first.aligned, -1);
}

/** Lattice parameters of a metric tensor, round-tripped through pymatgen's `from_parameters` as pymatgen does. */
function metricTarget(g: Mat3): [number, number, number, number, number, number] {
  const a = Math.sqrt(g[0][0]);
  const b = Math.sqrt(g[1][1]);
  const c = Math.sqrt(g[2][2]);
  const params = [a, b, c, Math.acos(g[1][2] / b / c) * RAD2DEG, Math.acos(g[0][2] / a / c) * RAD2DEG, Math.acos(g[0][1] / a / b) * RAD2DEG];
  return latticeParameters(matrixFromParameters(params));
}

/** Metric tensor being reduced and the accumulated integer transform (reduced basis = t · start basis). */
interface NiggliState {
  g: Mat3;
  t: Mat3;
}

/** One change of basis M of the Niggli loop: G ← Mᵀ G M, T ← Mᵀ T. */
function transform(s: NiggliState, mt: readonly (readonly number[])[]): void {
  const mT = transpose3(mt);
  s.g = matmul3(mT, matmul3(s.g, mt));
  s.t = matmul3(mT, s.t);
}

/**
 * The Niggli iteration on a metric tensor (steps A1–A8, at most 100 passes, pymatgen's order:
 * A1 and A2 may both run in one pass; A2 and A5–A8 restart the pass).
 */
function niggliMetric(g0: Mat3, e: number): NiggliState {
  const s: NiggliState = { g: g0, t: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] };
  for (let iter = 0; iter < 100; iter++) {
    // Plain assignments rather than array destructuring, which is slow until optimised.
    let g = s.g;
    let A = g[0][0], B = g[1][1], E = 2 * g[1][2], N = 2 * g[0][2], Y = 2 * g[0][1];
    const C = g[2][2];
    // As in pymatgen, the A2 test and the sign step below use the values from the top of the
    // iteration even when A1 has just swapped a and b; reproducing this keeps reduced cells
    // (and therefore primitive-cell detection) identical to pymatgen's — it decides, for
    // instance, between the equally reduced 60° and 120° cells of a hexagonal lattice.
    if (A > B + e || (Math.abs(A - B) < e && Math.abs(E) > Math.abs(N) + e)) transform(s, [[0, -1, 0], [-1, 0, 0], [0, 0, -1]]);
    if (B > C + e || (Math.abs(B - C) < e && Math.abs(N) > Math.abs(Y) + e)) {
      transform(s, [[-1, 0, 0], [0, 0, -1], [0, -1, 0]]);
      continue;
    }
    signStep(s, signTol(E, e), signTol(N, e), signTol(Y, e));
    g = s.g;
    A = g[0][0];
    B = g[1][1];
    E = 2 * g[1][2];
    N = 2 * g[0][2];
    Y = 2 * g[0][1];
    const step = offDiagonalStep(A, B, E, N, Y, e);
    if (!step) break;
    transform(s, step);
  }
  return s;
}

/** Steps A5–A8: the first applicable reduction of an off-diagonal term, or null when the metric is reduced. */
function offDiagonalStep(A: number, B: number, E: number, N: number, Y: number, e: number): Mat3 | null {
  if (Math.abs(E) > B + e || (Math.abs(E - B) < e && 2 * N < Y - e) || (Math.abs(E + B) < e && Y < -e))
    return [[1, 0, 0], [0, 1, -E / Math.abs(E)], [0, 0, 1]];
  if (Math.abs(N) > A + e || (Math.abs(A - N) < e && 2 * E < Y - e) || (Math.abs(A + N) < e && Y < -e))
    return [[1, 0, -N / Math.abs(N)], [0, 1, 0], [0, 0, 1]];
  if (Math.abs(Y) > A + e || (Math.abs(A - Y) < e && 2 * E < N - e) || (Math.abs(A + Y) < e && N < -e))
    return [[1, -Y / Math.abs(Y), 0], [0, 1, 0], [0, 0, 1]];
  const sum = E + N + Y + A + B;
  if (sum < -e || (Math.abs(sum) < e && e < Y + (A + N) * 2)) return [[1, 0, 1], [0, 1, 1], [0, 0, 1]];
  return null;
}

/** Sign of x, zero within ±e. */
function signTol(x: number, e: number): number {
  return Math.abs(x) < e ? 0 : x / Math.abs(x);
}

/** Steps A3/A4: flip axes (det +1) so the off-diagonal signs (l, m, n) become all positive or all non-positive. */
function signStep(s: NiggliState, l: number, m: number, n: number): void {
  if (l * m * n === 1) {
    transform(s, [[l === -1 ? -1 : 1, 0, 0], [0, m === -1 ? -1 : 1, 0], [0, 0, n === -1 ? -1 : 1]]);
    return;
  }
  let i = l === 1 ? -1 : 1;
  let j = m === 1 ? -1 : 1;
  let k = n === 1 ? -1 : 1;
  if (i * j * k === -1) {
    if (n === 0) k = -1;
    else if (m === 0) j = -1;
    else if (l === 0) i = -1;
  }
  transform(s, [[i, 0, 0], [0, j, 0], [0, 0, k]]);
}

/** frac · M for many rows. */
export function fracToCart(frac: readonly (readonly number[])[], m: Mat3): Vec3[] {
  return frac.map((f) => [
    f[0] * m[0][0] + f[1] * m[1][0] + f[2] * m[2][0],
    f[0] * m[0][1] + f[1] * m[1][1] + f[2] * m[2][1],
    f[0] * m[0][2] + f[1] * m[1][2] + f[2] * m[2][2],
  ]);
}

/** cart · M⁻¹ for many rows. */
export function cartToFrac(cart: readonly (readonly number[])[], m: Mat3): Vec3[] {
  return fracToCart(cart, inv3(m));
}
