/**
 * Average Minimum Distance (AMD) fingerprints (Widdowson, Mosca, Pulido, Kurlin & Cooper,
 * "Average minimum distances of periodic point sets", MATCH Commun. Math. Comput. Chem. 87 (2022)).
 *
 * For every site of the unit cell, take the sorted distances to its k nearest neighbours in the
 * infinite crystal (all periodic images, other sites and its own images, excluding itself);
 * AMD_j is the mean over sites of the j-th of those distances. Averaging over all sites of the
 * cell equals the `amd` package's multiplicity-weighted mean over the asymmetric unit, and makes
 * the fingerprint independent of the choice of cell (primitive or supercell) and of site order.
 * Two crystals are compared with the L∞ (Chebyshev) distance, the `amd.AMD_cdist` default.
 */
import { StructureError } from "./errors.ts";
import { inv3, type Mat3 } from "./linalg.ts";
import { lllReduce } from "./matcher_lattice.ts";
import type { Structure } from "./structure.ts";

/**
 * AMD fingerprint of length k (Å).
 * @throws StructureError for an empty structure, non-finite coordinates or k < 1.
 */
export function averageMinimumDistance(structure: Structure, k = 100): Float64Array {
  if (!Number.isInteger(k) || k < 1) throw new StructureError(`AMD needs an integer k ≥ 1 neighbours, got ${k}.`);
  const n = structure.length;
  if (n === 0) throw new StructureError(`Cannot compute the AMD of a structure with zero atoms.`);
  if (!structure.fracCoords.every((f) => f.every(Number.isFinite)))
    throw new StructureError(`Cannot compute the AMD of a structure with non-finite coordinates: fix or drop it.`);
  const lll = lllReduce(structure.lattice.matrix).matrix;
  const sites = wrappedCart(structure, lll);
  const vol = Math.abs(structure.volume);
  // Radius whose ball holds about k + 1 points at the crystal's density, with margin; grown until
  // every site has k neighbours inside it, which makes the k nearest exact.
  let r = 1.2 * Math.cbrt((3 * (k + 1) * vol) / (4 * Math.PI * n));
  for (;;) {
    const rows = neighbourDistances(sites, lll, r, k);
    if (rows) return averageRows(rows, k);
    r *= 1.5;
  }
}

/** L∞ distance between two AMD fingerprints (compared over their common length). */
export function amdDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  if (n === 0) throw new StructureError(`amdDistance needs non-empty fingerprints.`);
  let d = 0;
  for (let i = 0; i < n; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** Cartesian positions of the sites wrapped into the LLL cell (so images within r need few translations). */
function wrappedCart(s: Structure, lll: Mat3): Float64Array {
  const inv = inv3(lll);
  const out = new Float64Array(s.length * 3);
  s.cartCoords.forEach((c, i) => {
    const f = [0, 1, 2].map((l) => {
      const x = c[0] * inv[0][l] + c[1] * inv[1][l] + c[2] * inv[2][l];
      return x - Math.floor(x);
    });
    for (let l = 0; l < 3; l++) out[3 * i + l] = f[0] * lll[0][l] + f[1] * lll[1][l] + f[2] * lll[2][l];
  });
  return out;
}

/**
 * Sorted distances ≤ r from each site to every other point of the crystal, or null when some
 * site has fewer than k of them (the radius must grow).
 */
function neighbourDistances(sites: Float64Array, lll: Mat3, r: number, k: number): Float64Array[] | null {
  const n = sites.length / 3;
  // Two sites of the wrapped cell are at most the cell diagonal apart, so translations longer
  // than r + diagonal cannot bring a point within r.
  const diag = Math.hypot(...[0, 1, 2].map((l) => Math.abs(lll[0][l]) + Math.abs(lll[1][l]) + Math.abs(lll[2][l])));
  const shifts = translationsWithin(lll, r + diag);
  const r2 = r * r;
  const rows: Float64Array[] = [];
  const buf: number[] = [];
  for (let i = 0; i < n; i++) {
    buf.length = 0;
    const x = sites[3 * i];
    const y = sites[3 * i + 1];
    const z = sites[3 * i + 2];
    for (let j = 0; j < n; j++) {
      const dx0 = sites[3 * j] - x;
      const dy0 = sites[3 * j + 1] - y;
      const dz0 = sites[3 * j + 2] - z;
      for (let t = 0; t < shifts.length; t += 3) {
        const dx = dx0 + shifts[t];
        const dy = dy0 + shifts[t + 1];
        const dz = dz0 + shifts[t + 2];
        const d2 = dx * dx + dy * dy + dz * dz;
        if (d2 <= r2 && !(j === i && shifts[t] === 0 && shifts[t + 1] === 0 && shifts[t + 2] === 0)) buf.push(d2);
      }
    }
    if (buf.length < k) return null;
    const row = Float64Array.from(buf).sort().subarray(0, k);
    for (let q = 0; q < k; q++) row[q] = Math.sqrt(row[q]);
    rows.push(row);
  }
  return rows;
}

/** Cartesian lattice translations shorter than `r` (flat xyz triples). */
function translationsWithin(m: Mat3, r: number): Float64Array {
  const inv = inv3(m);
  // |n_i| ≤ r·|i-th column of M⁻¹| bounds each integer coordinate.
  const nmax = [0, 1, 2].map((j) => Math.ceil(r * Math.hypot(inv[0][j], inv[1][j], inv[2][j])));
  const out: number[] = [];
  for (let i = -nmax[0]; i <= nmax[0]; i++)
    for (let j = -nmax[1]; j <= nmax[1]; j++)
      for (let k = -nmax[2]; k <= nmax[2]; k++) {
        const x = i * m[0][0] + j * m[1][0] + k * m[2][0];
        const y = i * m[0][1] + j * m[1][1] + k * m[2][1];
        const z = i * m[0][2] + j * m[1][2] + k * m[2][2];
        if (x * x + y * y + z * z <= r * r) out.push(x, y, z);
      }
  return Float64Array.from(out);
}

function averageRows(rows: Float64Array[], k: number): Float64Array {
  const out = new Float64Array(k);
  for (const row of rows) for (let q = 0; q < k; q++) out[q] += row[q];
  for (let q = 0; q < k; q++) out[q] /= rows.length;
  return out;
}
