/**
 * Tolerance-based primitive cell finding, the way pymatgen's `Structure.get_primitive_structure`
 * does it (not spglib's symmetry search). StructureMatcher reduces both crystals with it before
 * comparing, and its tolerance (0.25 Å per coordinate) decides whether a slightly perturbed
 * supercell collapses to its primitive cell — so verdicts agree with pymatgen only if this step
 * behaves the same.
 *
 * Algorithm: candidate translation vectors are the differences between sites of the rarest
 * species that map every site onto a same-species site (within 2× the tolerance). For each
 * candidate cell size (a divisor of the gcd of species counts), Hermite-normal-form supercell
 * matrices whose inverse rows are such translations are tried; a cell is accepted when the sites
 * fall into cliques of exactly `size` equivalent positions, which are averaged. The search recurses
 * on the smaller cell, then Niggli-reduces.
 */
import { det3, inv3, matmul3, type Mat3, type Vec3 } from "./linalg.ts";
import { fracToCart, cartToFrac, niggliReduce } from "./matcher_lattice.ts";

/** A bare periodic cell: rows of `matrix` are lattice vectors, `frac` fractional coordinates. */
export interface RawCell {
  matrix: Mat3;
  species: string[];
  frac: Vec3[];
}

const wrapDiff = (d: number) => d - Math.round(d);

/** |u − v| modulo 1 below tol on every axis (the hot test of this module, kept allocation-free). */
function closeMod(u: readonly number[], v: readonly number[], tol: readonly number[]): boolean {
  return Math.abs(wrapDiff(u[0] - v[0])) < tol[0] && Math.abs(wrapDiff(u[1] - v[1])) < tol[1] && Math.abs(wrapDiff(u[2] - v[2])) < tol[2];
}
const mod1 = (x: number) => x - Math.floor(x);

/** Niggli-reduced copy, coordinates re-expressed and wrapped into [0, 1) (pymatgen `get_reduced_structure`). */
export function niggliReducedCell(cell: RawCell): RawCell {
  const matrix = niggliReduce(cell.matrix);
  const frac = cartToFrac(fracToCart(cell.frac, cell.matrix), matrix).map((f) => f.map(mod1) as Vec3);
  return { matrix, species: [...cell.species], frac };
}

/** pymatgen-equivalent `get_primitive_structure(tolerance)`; returns the input when no smaller cell exists. */
export function primitiveCell(cell: RawCell, tolerance = 0.25): RawCell {
  const order = cell.species.map((_, i) => i).sort((i, j) => (cell.species[i] < cell.species[j] ? -1 : cell.species[i] > cell.species[j] ? 1 : i - j));
  const groups = groupBySpecies(order, cell);
  const numFu = groups.map((g) => g.frac.length).reduce(gcd);
  // No supercell size divides every species count: nothing below can succeed, skip its setup.
  if (numFu === 1) return copyCell(cell);
  const abc = cell.matrix.map((r) => Math.hypot(r[0], r[1], r[2]));
  const superFtol = abc.map((l) => tolerance / l) as Vec3;
  const minVecs = candidateTranslations(groups.map((g) => g.frac), superFtol);
  // Built on the first supercell that passes the translation test (most cells have none).
  let nonNbrs: boolean[][][] | undefined;
  for (const [size, m] of translationSupercells(numFu, (row) => minVecs.some((v) => closeMod(row, v, superFtol)))) {
    const invM = inv3(m);
    nonNbrs ??= groups.map((g) => nonNeighbours(g.frac, superFtol));
    const reduced = collapse(cell, groups, nonNbrs, m, invM, size, tolerance);
    if (reduced) return niggliReducedCell(primitiveCell(reduced, tolerance));
  }
  return copyCell(cell);
}

function copyCell(cell: RawCell): RawCell {
  return { matrix: cell.matrix, species: [...cell.species], frac: cell.frac.map((f) => [...f] as Vec3) };
}

interface SpeciesGroup {
  species: string;
  frac: Vec3[];
}

function groupBySpecies(order: number[], cell: RawCell): SpeciesGroup[] {
  const groups: SpeciesGroup[] = [];
  for (const i of order) {
    const sp = cell.species[i];
    if (!groups.length || groups[groups.length - 1].species !== sp) groups.push({ species: sp, frac: [] });
    groups[groups.length - 1].frac.push(cell.frac[i]);
  }
  return groups;
}

/** Approximate lattice translations: differences within the smallest group that map every group onto itself. */
function candidateTranslations(groups: Vec3[][], superFtol: Vec3): Vec3[] {
  let smallest = groups[0];
  for (const g of groups) if (g.length < smallest.length) smallest = g;
  let vecs = smallest.map((f) => [f[0] - smallest[0][0], f[1] - smallest[0][1], f[2] - smallest[0][2]] as Vec3);
  const tol2 = superFtol.map((x) => 2 * x);
  const bySize = groups.map((g, i) => [g, i] as const).sort((x, y) => x[0].length - y[0].length || x[1] - y[1]);
  const shifted: Vec3 = [0, 0, 0];
  for (const [g] of bySize)
    for (const f of g)
      vecs = vecs.filter((v) => {
        // v + f must land (within 2× tolerance) on a site of the same group.
        shifted[0] = v[0] + f[0];
        shifted[1] = v[1] + f[1];
        shifted[2] = v[2] + f[2];
        return g.some((x) => closeMod(shifted, x, tol2));
      });
  return vecs;
}

/** nonNbrs[i][j]: sites i and j are far enough apart that they may not merge (a site may merge with itself). */
function nonNeighbours(frac: Vec3[], superFtol: Vec3): boolean[][] {
  const tol2 = superFtol.map((x) => 2 * x);
  return frac.map((fi, i) => frac.map((fj, j) => i === j || far(fi, fj, tol2)));
}

/** "Not within tol on every axis" (a strict > on some axis, as pymatgen tests it). */
function far(u: Vec3, v: Vec3, tol: readonly number[]): boolean {
  return Math.abs(wrapDiff(v[0] - u[0])) > tol[0] || Math.abs(wrapDiff(v[1] - u[1])) > tol[1] || Math.abs(wrapDiff(v[2] - u[2])) > tol[2];
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function divisors(n: number): number[] {
  const out: number[] = [];
  for (let i = 1; i <= n; i++) if (n % i === 0) out.push(i);
  return out;
}

/**
 * Upper-triangular Hermite normal forms M = [[a, b, c], [0, e, f], [0, 0, g]] of determinant
 * det for each divisor det > 1 of fu, in pymatgen's order, keeping those whose inverse rows all
 * pass `isTranslation` (pymatgen's test). The rows of M⁻¹ are [1/a, −b/(ae), (bf − ce)/(aeg)],
 * [0, 1/e, −f/(eg)] and [0, 0, 1/g]; the last two do not depend on b and c, so they are tested
 * once per (a, e) and (a, e, f) instead of once per matrix. Each entry is a ratio of small
 * integers, the same correctly rounded double `inv3` gives, so the outcome is unchanged.
 */
function* translationSupercells(fu: number, isTranslation: (row: readonly number[]) => boolean): Generator<[number, Mat3]> {
  for (const det of divisors(fu)) {
    if (det === 1) continue;
    for (const a of divisors(det))
      for (const e of divisors(det / a)) {
        const g = det / a / e;
        if (!isTranslation([0, 0, 1 / g])) continue;
        const row1Ok = Array.from({ length: e }, (_, f) => isTranslation([0, 1 / e, -f / (e * g)]));
        for (let b = 0; b < a; b++)
          for (let c = 0; c < a; c++)
            for (let f = 0; f < e; f++) {
              if (!row1Ok[f] || !isTranslation([1 / a, -b / (a * e), (b * f - c * e) / (a * e * g)])) continue;
              yield [det, [[a, b, c], [0, e, f], [0, 0, g]]];
            }
      }
  }
}

/** Try to merge each group of `size` equivalent sites under the supercell matrix m; null when it does not partition cleanly. */
function collapse(cell: RawCell, groups: SpeciesGroup[], nonNbrs: boolean[][][], m: Mat3, invM: Mat3, size: number, tolerance: number): RawCell | null {
  const newMatrix = matmul3(invM, cell.matrix);
  // Checked first (it is independent of the sites): a left-handed or flat cell is rejected anyway.
  if (!(det3(newMatrix) > 0)) return null;
  const ftol = newMatrix.map((r) => tolerance / Math.hypot(r[0], r[1], r[2]));
  const species: string[] = [];
  const frac: Vec3[] = [];
  for (let gi = 0; gi < groups.length; gi++) {
    const all = groups[gi].frac.map((f) => [0, 1, 2].map((k) => f[0] * m[0][k] + f[1] * m[1][k] + f[2] * m[2][k]) as Vec3);
    const cliques = equivalenceCliques(all, nonNbrs[gi], ftol, size);
    if (!cliques) return null;
    for (const members of cliques) {
      frac.push(averagePeriodic(members.map((j) => all[j].map(mod1) as Vec3)));
      species.push(groups[gi].species);
    }
  }
  return { matrix: newMatrix, species, frac };
}

/**
 * Partition of the sites into groups of exactly `size` mutually equivalent positions (pymatgen's
 * test): adj[i][j] = i, j may merge and coincide modulo the new cell. Null unless every column of
 * adj has `size` entries and every row's members are pairwise adjacent. Groups are listed by
 * their first member, each as the members of that row in increasing order.
 */
function equivalenceCliques(all: Vec3[], nonNbrs: boolean[][], ftol: readonly number[], size: number): number[][] | null {
  const n = all.length;
  const adj = new Uint8Array(n * n);
  const colCount = new Int32Array(n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++)
      if (nonNbrs[i][j] && closeMod(all[j], all[i], ftol)) {
        adj[i * n + j] = 1;
        colCount[j]++;
      }
  for (let j = 0; j < n; j++) if (colCount[j] !== size) return null;
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    const members: number[] = [];
    for (let j = 0; j < n; j++) if (adj[i * n + j]) members.push(j);
    for (const p of members) for (const q of members) if (!adj[p * n + q]) return null;
    rows.push(members);
  }
  const added = new Uint8Array(n);
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    if (added[i]) continue;
    for (const j of rows[i]) added[j] = 1;
    out.push(rows[i]);
  }
  return out;
}

/** Running mean of periodic positions, each taken as the image nearest the running mean. */
function averagePeriodic(points: Vec3[]): Vec3 {
  const c: Vec3 = [...points[0]];
  for (let n = 1; n < points.length; n++)
    for (let k = 0; k < 3; k++) c[k] += wrapDiff(points[n][k] - c[k]) / (n + 1);
  return c;
}
