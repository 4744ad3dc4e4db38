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
  const abc = cell.matrix.map((r) => Math.hypot(r[0], r[1], r[2]));
  const superFtol = abc.map((l) => tolerance / l) as Vec3;
  const minVecs = candidateTranslations(groups.map((g) => g.frac), superFtol);
  const nonNbrs = groups.map((g) => nonNeighbours(g.frac, superFtol));
  const numFu = groups.map((g) => g.frac.length).reduce(gcd);
  for (const [size, ms] of hermiteSupercells(numFu)) {
    for (const m of ms) {
      const invM = inv3(m);
      if (!invM.every((row) => minVecs.some((v) => closeMod(row, v, superFtol)))) continue;
      const reduced = collapse(cell, groups, nonNbrs, m, invM, size, tolerance);
      if (reduced) return niggliReducedCell(primitiveCell(reduced, tolerance));
    }
  }
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
  // "Not within 2× tolerance on every axis" (a strict > on some axis, as pymatgen tests it).
  const far = (u: Vec3, v: Vec3) => [0, 1, 2].some((k) => Math.abs(wrapDiff(v[k] - u[k])) > tol2[k]);
  return frac.map((fi, i) => frac.map((fj, j) => i === j || far(fi, fj)));
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function divisors(n: number): number[] {
  const out: number[] = [];
  for (let i = 1; i <= n; i++) if (n % i === 0) out.push(i);
  return out;
}

/** Upper-triangular Hermite normal forms of determinant `det` for each divisor det > 1 of fu, in pymatgen's order. */
function* hermiteSupercells(fu: number): Generator<[number, Mat3[]]> {
  for (const det of divisors(fu)) {
    if (det === 1) continue;
    const ms: Mat3[] = [];
    for (const a of divisors(det))
      for (const e of divisors(det / a)) {
        const g = det / a / e;
        for (let b = 0; b < a; b++)
          for (let c = 0; c < a; c++)
            for (let f = 0; f < e; f++)
              ms.push([
                [a, b, c],
                [0, e, f],
                [0, 0, g],
              ]);
      }
    yield [det, ms];
  }
}

/** Try to merge each group of `size` equivalent sites under the supercell matrix m; null when it does not partition cleanly. */
function collapse(cell: RawCell, groups: SpeciesGroup[], nonNbrs: boolean[][][], m: Mat3, invM: Mat3, size: number, tolerance: number): RawCell | null {
  const newMatrix = matmul3(invM, cell.matrix);
  const ftol = newMatrix.map((r) => tolerance / Math.hypot(r[0], r[1], r[2]));
  const species: string[] = [];
  const frac: Vec3[] = [];
  for (let gi = 0; gi < groups.length; gi++) {
    const all = groups[gi].frac.map((f) => [0, 1, 2].map((k) => f[0] * m[0][k] + f[1] * m[1][k] + f[2] * m[2][k]) as Vec3);
    const n = all.length;
    const adj = all.map((fi, i) => all.map((fj, j) => nonNbrs[gi][i][j] && closeMod(fj, fi, ftol)));
    for (let j = 0; j < n; j++) if (adj.reduce((s, row) => s + (row[j] ? 1 : 0), 0) !== size) return null;
    for (const row of adj) {
      const members = row.flatMap((x, j) => (x ? [j] : []));
      if (!members.every((p) => members.every((q) => adj[p][q]))) return null;
    }
    const added = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      if (added[i]) continue;
      const members = adj[i].flatMap((x, j) => (x ? [j] : []));
      for (const j of members) added[j] = 1;
      frac.push(averagePeriodic(members.map((j) => all[j].map(mod1) as Vec3)));
      species.push(groups[gi].species);
    }
  }
  if (!(det3(newMatrix) > 0)) return null;
  return { matrix: newMatrix, species, frac };
}

/** Running mean of periodic positions, each taken as the image nearest the running mean. */
function averagePeriodic(points: Vec3[]): Vec3 {
  const c: Vec3 = [...points[0]];
  for (let n = 1; n < points.length; n++)
    for (let k = 0; k < 3; k++) c[k] += wrapDiff(points[n][k] - c[k]) / (n + 1);
  return c;
}
