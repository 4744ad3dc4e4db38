/**
 * The inner loops of structure matching, on plain arrays: does one set of fractional positions
 * sit (within per-axis tolerances) on top of another, and what is the optimal one-to-one pairing
 * of sites with its normalised Cartesian displacements (pymatgen's `is_coord_subset_pbc` and
 * `_cart_dists` with `pbc_shortest_vectors`).
 *
 * Species compatibility is given by integer species ids per row/column: a row may only pair with a
 * column carrying the same id.
 */
import { linearSumAssignment } from "./assignment.ts";
import { inv3, type Mat3, type Vec3 } from "./linalg.ts";
import { lllReduce, reciprocalLengths } from "./matcher_lattice.ts";

/** Cost of a forbidden pairing, pymatgen's 1e20 sentinel; any assignment using it is rejected. */
const FORBIDDEN = 1e20;

/**
 * True when every row position (translated) lies within `tol` (per fractional axis, modulo 1) of
 * some column position of the same species (not necessarily one-to-one).
 */
export function isSubsetPbc(rows: Float64Array, rowSp: Int32Array, cols: Float64Array, colSp: Int32Array, tol: Vec3): boolean {
  const nr = rowSp.length;
  const nc = colSp.length;
  for (let i = 0; i < nr; i++) {
    const x = rows[3 * i];
    const y = rows[3 * i + 1];
    const z = rows[3 * i + 2];
    let found = false;
    for (let j = 0; j < nc && !found; j++) {
      if (colSp[j] !== rowSp[i]) continue;
      let d = x - cols[3 * j];
      if (Math.abs(d - Math.round(d)) >= tol[0]) continue;
      d = y - cols[3 * j + 1];
      if (Math.abs(d - Math.round(d)) >= tol[1]) continue;
      d = z - cols[3 * j + 2];
      found = Math.abs(d - Math.round(d)) < tol[2];
    }
    if (!found) return false;
  }
  return true;
}

/** The 27 neighbouring-cell translations (−1..1)³. */
const IMAGES: Vec3[] = [];
for (let i = -1; i <= 1; i++) for (let j = -1; j <= 1; j++) for (let k = -1; k <= 1; k++) IMAGES.push([i, j, k]);

/** Per-lattice data for distance evaluation, computed once per candidate average lattice. */
export interface DistanceFrame {
  lll: Mat3;
  /** Fractional (lattice basis) → fractional (LLL basis). */
  toLll: Mat3;
  /** Cartesian translations of the 27 neighbouring LLL cells. */
  images: Float64Array;
  /** Per-axis fractional tolerance in the LLL basis for the site tolerance. */
  lllFracTol: Vec3;
}

export function distanceFrame(avg: Mat3, stol: number, normalization: number): DistanceFrame {
  const { matrix: lll, mapping } = lllReduce(avg);
  const images = new Float64Array(27 * 3);
  IMAGES.forEach((im, k) => {
    for (let l = 0; l < 3; l++) images[3 * k + l] = im[0] * lll[0][l] + im[1] * lll[1][l] + im[2] * lll[2][l];
  });
  const inv = reciprocalLengths(lll);
  const lllFracTol = inv.map((x) => (x * stol) / (Math.PI * normalization)) as Vec3;
  return { lll, toLll: inv3(mapping), images, lllFracTol };
}

/** LLL fractional coordinates (unwrapped) and the Cartesian position of their [0,1) image. */
function lllCoords(f: Float64Array, frame: DistanceFrame): { lf: Float64Array; cart: Float64Array } {
  const n = f.length / 3;
  const lf = new Float64Array(3 * n);
  const cart = new Float64Array(3 * n);
  const t = frame.toLll;
  const m = frame.lll;
  for (let i = 0; i < n; i++) {
    const x = f[3 * i];
    const y = f[3 * i + 1];
    const z = f[3 * i + 2];
    const a = x * t[0][0] + y * t[1][0] + z * t[2][0];
    const b = x * t[0][1] + y * t[1][1] + z * t[2][1];
    const c = x * t[0][2] + y * t[1][2] + z * t[2][2];
    lf[3 * i] = a;
    lf[3 * i + 1] = b;
    lf[3 * i + 2] = c;
    const wa = a - Math.floor(a);
    const wb = b - Math.floor(b);
    const wc = c - Math.floor(c);
    for (let l = 0; l < 3; l++) cart[3 * i + l] = wa * m[0][l] + wb * m[1][l] + wc * m[2][l];
  }
  return { lf, cart };
}

export interface SiteDistances {
  /** Per row site: distance to its partner after removing the mean shift, divided by (V/n)^(1/3). */
  dist: Float64Array;
  /** Column paired with each row. */
  mapping: Int32Array;
}

/**
 * Optimal pairing of row sites with column sites (minimal summed squared distance over shortest
 * periodic images), then the mean displacement is removed and distances are normalised.
 * Pairs further apart than the LLL fractional tolerance are forbidden, as in pymatgen.
 */
export function siteDistances(
  rows: Float64Array,
  rowSp: Int32Array,
  cols: Float64Array,
  colSp: Int32Array,
  frame: DistanceFrame,
  normalization: number,
): SiteDistances {
  const nr = rowSp.length;
  const nc = colSp.length;
  const a = lllCoords(rows, frame);
  const b = lllCoords(cols, frame);
  const d2 = new Float64Array(nr * nc);
  const vec = new Float64Array(nr * nc * 3);
  for (let i = 0; i < nr; i++)
    for (let j = 0; j < nc; j++) shortestImage(a, b, i, j, nc, rowSp[i] === colSp[j], frame, d2, vec);
  const { rowToCol } = linearSumAssignment(d2, nr, nc);
  const mean = [0, 0, 0];
  for (let i = 0; i < nr; i++) for (let l = 0; l < 3; l++) mean[l] += vec[3 * (i * nc + rowToCol[i]) + l] / nr;
  const dist = new Float64Array(nr);
  for (let i = 0; i < nr; i++) {
    const o = 3 * (i * nc + rowToCol[i]);
    dist[i] = Math.hypot(vec[o] - mean[0], vec[o + 1] - mean[1], vec[o + 2] - mean[2]) * normalization;
  }
  return { dist, mapping: rowToCol };
}

/** Fill d2/vec for pair (i, j): the shortest of the 27 images, or the forbidden sentinel. */
function shortestImage(
  a: { lf: Float64Array; cart: Float64Array },
  b: { lf: Float64Array; cart: Float64Array },
  i: number,
  j: number,
  nc: number,
  allowed: boolean,
  frame: DistanceFrame,
  d2: Float64Array,
  vec: Float64Array,
): void {
  const o = i * nc + j;
  if (allowed)
    for (let l = 0; l < 3; l++) {
      const fd = b.lf[3 * j + l] - a.lf[3 * i + l];
      if (Math.abs(fd - Math.round(fd)) > frame.lllFracTol[l]) allowed = false;
    }
  if (!allowed) {
    d2[o] = FORBIDDEN;
    vec[3 * o] = vec[3 * o + 1] = vec[3 * o + 2] = FORBIDDEN;
    return;
  }
  const px = b.cart[3 * j] - a.cart[3 * i];
  const py = b.cart[3 * j + 1] - a.cart[3 * i + 1];
  const pz = b.cart[3 * j + 2] - a.cart[3 * i + 2];
  let best = Infinity;
  let bk = 0;
  const im = frame.images;
  for (let k = 0; k < 27; k++) {
    const dx = px + im[3 * k];
    const dy = py + im[3 * k + 1];
    const dz = pz + im[3 * k + 2];
    const d = dx * dx + dy * dy + dz * dz;
    if (d < best) {
      best = d;
      bk = k;
    }
  }
  d2[o] = best;
  vec[3 * o] = px + im[3 * bk];
  vec[3 * o + 1] = py + im[3 * bk + 1];
  vec[3 * o + 2] = pz + im[3 * bk + 2];
}
