/**
 * Lattice: three lattice vectors as the ROWS of a 3×3 matrix (pymatgen's convention).
 * Fractional coordinates are row vectors, so cart = frac · matrix.
 */
import { LatticeError } from "./errors.ts";
import {
  copyMat3,
  det3,
  dot3,
  inv3,
  matmul3,
  norm3,
  scaleMat3,
  transpose3,
  vecmat3,
  type Mat3,
  type Vec3,
} from "./linalg.ts";
import { lllReduce, niggliReducedBasis } from "./matcher_lattice.ts";

/** One lattice image of a point found by `Lattice.getPointsInSphere`. */
export interface PointInSphere {
  /** Fractional coordinates of the image: `fracPoints[index] + image`. */
  fracCoords: Vec3;
  /** Cartesian distance (Å) from the sphere centre. */
  distance: number;
  /** Index of the point in the input list. */
  index: number;
  /** Integer lattice translation added to the input point. */
  image: Vec3;
}

/** Result of `Lattice.getDistanceAndImage`: the distance from frac1 to `frac2 + image`. */
export interface DistanceAndImage {
  distance: number;
  image: Vec3;
}

const DEG = Math.PI / 180;

/** Smallest |volume| (Å³) we accept; below it the matrix is treated as singular. */
const MIN_VOLUME = 1e-8;

export class Lattice {
  /** Rows are the lattice vectors a, b, c in Å. */
  readonly matrix: Mat3;
  private _inv?: Mat3;
  private _lll = new Map<number, LllResult>();
  private _kernel?: PeriodicKernel;

  /**
   * @param matrix 3×3 matrix whose rows are the lattice vectors (Å).
   * @throws LatticeError for a non-3×3, non-finite, singular or left-handed (negative-volume) matrix.
   */
  constructor(matrix: readonly (readonly number[])[]) {
    if (!Array.isArray(matrix) || matrix.length !== 3 || matrix.some((r) => !r || r.length !== 3))
      throw new LatticeError(`Lattice matrix must be 3×3 (rows = lattice vectors), got ${JSON.stringify(matrix)}`);
    if (matrix.some((r) => r.some((x: number) => typeof x !== "number" || !Number.isFinite(x))))
      throw new LatticeError(`Lattice matrix has a non-finite entry: ${JSON.stringify(matrix)}`);
    const vol = det3(matrix);
    if (Math.abs(vol) < MIN_VOLUME)
      throw new LatticeError(
        `Lattice matrix is singular (volume ${vol.toExponential(3)} Å³): the three vectors are (nearly) linearly dependent. ` +
          `Check the cell parameters or the matrix rows ${JSON.stringify(matrix)}.`,
      );
    if (vol < 0)
      throw new LatticeError(
        `Lattice matrix is left-handed (volume ${vol.toFixed(4)} Å³ < 0). Swap two lattice vectors or negate one to make it right-handed.`,
      );
    this.matrix = copyMat3(matrix);
  }

  /**
   * Lattice from parameters (Å, degrees), in pymatgen's orientation convention
   * (c along z, a in the xz plane), so matrices agree with pymatgen's `Lattice.from_parameters`.
   */
  static fromParameters(a: number, b: number, c: number, alpha: number, beta: number, gamma: number): Lattice {
    const params = { a, b, c, alpha, beta, gamma };
    for (const [k, v] of Object.entries(params))
      if (!Number.isFinite(v)) throw new LatticeError(`Lattice parameter ${k} is not finite (${v}).`);
    for (const k of ["a", "b", "c"] as const)
      if (params[k] <= 0) throw new LatticeError(`Lattice length ${k} must be > 0 Å, got ${params[k]}.`);
    for (const k of ["alpha", "beta", "gamma"] as const)
      if (params[k] <= 0 || params[k] >= 180)
        throw new LatticeError(`Lattice angle ${k} must be in (0, 180) degrees, got ${params[k]}.`);
    const [ca, cb, cg] = [Math.cos(alpha * DEG), Math.cos(beta * DEG), Math.cos(gamma * DEG)];
    const [sa, sb] = [Math.sin(alpha * DEG), Math.sin(beta * DEG)];
    let val = (ca * cb - cg) / (sa * sb);
    val = Math.max(-1, Math.min(1, val)); // rounding can push it just outside [-1, 1]
    const gammaStar = Math.acos(val);
    const va: Vec3 = [a * sb, 0, a * cb];
    const vb: Vec3 = [-b * sa * Math.cos(gammaStar), b * sa * Math.sin(gammaStar), b * ca];
    const vc: Vec3 = [0, 0, c];
    return new Lattice([va, vb, vc]);
  }

  static cubic(a: number): Lattice {
    return new Lattice([
      [a, 0, 0],
      [0, a, 0],
      [0, 0, a],
    ]);
  }

  /** Lengths |a|, |b|, |c| in Å. */
  get abc(): Vec3 {
    return [norm3(this.matrix[0]), norm3(this.matrix[1]), norm3(this.matrix[2])];
  }
  get a(): number {
    return this.abc[0];
  }
  get b(): number {
    return this.abc[1];
  }
  get c(): number {
    return this.abc[2];
  }

  /** Angles α (b∠c), β (a∠c), γ (a∠b) in degrees. */
  get angles(): Vec3 {
    const m = this.matrix;
    const [la, lb, lc] = this.abc;
    const ang = (u: Vec3, v: Vec3, lu: number, lv: number) =>
      Math.acos(Math.max(-1, Math.min(1, dot3(u, v) / (lu * lv)))) / DEG;
    return [ang(m[1], m[2], lb, lc), ang(m[0], m[2], la, lc), ang(m[0], m[1], la, lb)];
  }
  get alpha(): number {
    return this.angles[0];
  }
  get beta(): number {
    return this.angles[1];
  }
  get gamma(): number {
    return this.angles[2];
  }

  /** [a, b, c, α, β, γ] (Å, degrees). */
  get parameters(): [number, number, number, number, number, number] {
    return [...this.abc, ...this.angles];
  }

  /** Cell volume in Å³ (always positive: left-handed matrices are rejected). */
  get volume(): number {
    return det3(this.matrix);
  }

  /** Inverse of the matrix, cached: frac = cart · inv. */
  get invMatrix(): Mat3 {
    return (this._inv ??= inv3(this.matrix));
  }

  /** Metric tensor G = M Mᵀ (dot products of the lattice vectors). */
  get metricTensor(): Mat3 {
    return matmul3(this.matrix, transpose3(this.matrix));
  }

  /** Reciprocal lattice with the 2π factor (physics convention, as pymatgen's `reciprocal_lattice`). */
  get reciprocalLattice(): Lattice {
    const t = transpose3(this.invMatrix);
    return new Lattice(t.map((r) => r.map((x) => 2 * Math.PI * x)));
  }

  /** Reciprocal lattice without 2π (crystallographic convention). */
  get reciprocalLatticeCrystallographic(): Lattice {
    return new Lattice(transpose3(this.invMatrix));
  }

  getCartesianCoords(frac: readonly number[]): Vec3 {
    return vecmat3(frac, this.matrix);
  }

  getFractionalCoords(cart: readonly number[]): Vec3 {
    return vecmat3(cart, this.invMatrix);
  }

  /** Lattice with every vector scaled so that the volume becomes `newVolume` (shape kept). */
  scale(newVolume: number): Lattice {
    if (!(newVolume > 0)) throw new LatticeError(`Cannot scale a lattice to volume ${newVolume} Å³: it must be > 0.`);
    const f = Math.cbrt(newVolume / this.volume);
    return new Lattice(this.matrix.map((r) => r.map((x) => x * f)));
  }

  // --- reduction -------------------------------------------------------------------------

  /** LLL basis and mapping for `delta`, computed once per delta. */
  private lll(delta = 0.75): LllResult {
    let res = this._lll.get(delta);
    if (!res) {
      const { matrix, mapping } = lllReduce(this.matrix, delta); // validates delta
      res = { matrix, mapping, inverse: roundMat(inv3(mapping)) };
      this._lll.set(delta, res);
    }
    return res;
  }

  /**
   * LLL-reduced basis (pymatgen's `lll_matrix`, delta 0.75): rows are short, nearly orthogonal
   * vectors of the same lattice. It may be left-handed, so it is a raw matrix, not a Lattice.
   */
  get lllMatrix(): Mat3 {
    return copyMat3(this.lll().matrix);
  }

  /** Integer matrix U with `lllMatrix = U · matrix` (pymatgen's `lll_mapping`). */
  get lllMapping(): Mat3 {
    return copyMat3(this.lll().mapping);
  }

  /** Inverse of `lllMapping` (integer too, since |det U| = 1). */
  get lllInverse(): Mat3 {
    return copyMat3(this.lll().inverse);
  }

  /**
   * LLL-reduced lattice (pymatgen's `get_lll_reduced_lattice`). A left-handed reduced basis is
   * negated so that the result is a valid (right-handed) Lattice; negation keeps the lattice.
   */
  getLllReduced(delta = 0.75): Lattice {
    const m = this.lll(delta).matrix;
    return new Lattice(det3(m) < 0 ? scaleMat3(m, -1) : m);
  }

  /** Fractional coordinates in this basis → fractional coordinates in the LLL basis. */
  getLllFracCoords(frac: readonly number[]): Vec3 {
    return vecmat3(frac, this.lll().inverse);
  }

  /** Fractional coordinates in the LLL basis → fractional coordinates in this basis. */
  getFracCoordsFromLll(lllFrac: readonly number[]): Vec3 {
    return vecmat3(lllFrac, this.lll().mapping);
  }

  /**
   * Niggli-reduced lattice with pymatgen's tolerance semantics (`get_niggli_reduced_lattice`):
   * the Křivý–Gruber steps A1–A8 in the numerically stable form of Grosse-Kunstleve et al.
   * (2004), run on the LLL basis with the tolerance scaled to `tol · volume^(1/3)`.
   * The basis is the reduction's own integer transform of the LLL basis (`niggliReducedBasis`,
   * shared with the structure matcher's `niggliReduce`): its parameters are pymatgen's, but
   * unlike pymatgen's vector search it does not depend on how the lattice is oriented in
   * space, so a rotated structure reduces to the rotated cell (the seed batches rely on this).
   * The result is in this lattice's Cartesian frame (its rows are lattice vectors of this
   * lattice) and right-handed.
   * @throws LatticeError when `tol` is negative or not finite.
   */
  getNiggliReduced(tol = 1e-5): Lattice {
    if (!(tol >= 0) || !Number.isFinite(tol))
      throw new LatticeError(`Niggli tolerance must be a finite number >= 0, got ${tol}; the usual value is 1e-5.`);
    return new Lattice(niggliReducedBasis(this.matrix, tol));
  }

  // --- periodic distances ----------------------------------------------------------------

  private get kernel(): PeriodicKernel {
    return (this._kernel ??= new PeriodicKernel(this));
  }

  /**
   * All lattice images of `fracPoints` within `r` Å of the Cartesian point `center`
   * (pymatgen's `get_points_in_sphere`). Images are enumerated over the box that the sphere's
   * reciprocal-lattice projections bound, so the search is exact for any cell shape.
   * Results are ordered by point index, then image (a, b, c ascending).
   */
  getPointsInSphere(fracPoints: readonly (readonly number[])[], center: readonly number[], r: number): PointInSphere[] {
    if (!(r >= 0) || !Number.isFinite(r)) throw new LatticeError(`Sphere radius must be a finite number >= 0 Å, got ${r}.`);
    const out: PointInSphere[] = [];
    const pc = this.getFractionalCoords(center);
    const nmax = this.reciprocalLengths().map((l) => r * l + 1e-8);
    const m = this.matrix;
    fracPoints.forEach((f, index) => {
      const lo = [0, 1, 2].map((k) => Math.ceil(pc[k] - nmax[k] - f[k]));
      const hi = [0, 1, 2].map((k) => Math.floor(pc[k] + nmax[k] - f[k]));
      for (let i = lo[0]; i <= hi[0]; i++)
        for (let j = lo[1]; j <= hi[1]; j++)
          for (let k = lo[2]; k <= hi[2]; k++) {
            const fc: Vec3 = [f[0] + i, f[1] + j, f[2] + k];
            const d = norm3(vecmat3([fc[0] - pc[0], fc[1] - pc[1], fc[2] - pc[2]], m));
            if (d <= r + 1e-8) out.push({ fracCoords: fc, distance: d, index, image: [i, j, k] });
          }
    });
    return out;
  }

  /**
   * Distance from `frac1` to the nearest periodic image of `frac2` and that image's lattice
   * translation (pymatgen's `get_distance_and_image`); with `jimage` given, the distance to
   * that specific image. Correct for skewed cells (see `getAllDistances`).
   */
  getDistanceAndImage(frac1: readonly number[], frac2: readonly number[], jimage?: readonly number[]): DistanceAndImage {
    if (jimage) {
      const v = vecmat3([jimage[0] + frac2[0] - frac1[0], jimage[1] + frac2[1] - frac1[1], jimage[2] + frac2[2] - frac1[2]], this.matrix);
      return { distance: norm3(v), image: [jimage[0], jimage[1], jimage[2]] };
    }
    return this.kernel.shortest(frac1, frac2);
  }

  /**
   * Minimum-image distances between two lists of fractional coordinates (pymatgen's
   * `get_all_distances`), row-major `n1 × n2` in a Float64Array. Differences are taken in the
   * LLL basis and the 27 neighbouring images searched, as pymatgen's `pbc_shortest_vectors`
   * does; where the reciprocal-lattice bound shows that a farther image could be closer, the
   * search widens, so the result is the true minimum image.
   */
  getAllDistances(fracCoords1: readonly (readonly number[])[], fracCoords2: readonly (readonly number[])[]): Float64Array {
    return this.kernel.allDistances(fracCoords1, fracCoords2);
  }

  /** Lengths of the crystallographic reciprocal vectors |a*|, |b*|, |c*| (1/Å). */
  reciprocalLengths(): Vec3 {
    const inv = this.invMatrix;
    return [0, 1, 2].map((k) => Math.hypot(inv[0][k], inv[1][k], inv[2][k])) as Vec3;
  }

  /** True when both matrices agree entrywise within `tol` Å. */
  equals(other: Lattice, tol = 1e-8): boolean {
    return this.matrix.every((r, i) => r.every((x, j) => Math.abs(x - other.matrix[i][j]) <= tol));
  }

  toString(): string {
    return this.matrix.map((r) => r.map((x) => x.toFixed(6).padStart(12)).join(" ")).join("\n");
  }
}

// --- LLL reduction ---------------------------------------------------------------------------
// The reduction itself is `lllReduce` (matcher_lattice.ts), shared with the structure matcher;
// Lattice only caches its result per delta and adds the inverse mapping.

interface LllResult {
  /** Reduced basis (rows). */
  matrix: Mat3;
  /** Integer U with matrix = U · original. */
  mapping: Mat3;
  inverse: Mat3;
}

/** Rounds an (almost) integer matrix to exact integers, turning -0 into 0. */
function roundMat(m: Mat3): Mat3 {
  return m.map((r) => r.map((x) => Math.round(x) + 0)) as Mat3;
}

// --- minimum-image distances -----------------------------------------------------------------

/**
 * Minimum-image search for one lattice: coordinates are moved to the LLL basis (where the
 * nearest image is almost always among the 27 neighbouring cells), and a reciprocal-length
 * bound decides when a wider search is needed, so results are exact for any cell.
 */
class PeriodicKernel {
  private readonly lll: Mat3;
  private readonly lllInv: Mat3;
  private readonly mapping: Mat3;
  /** Cartesian vectors of the 27 images n ∈ {-1,0,1}³ of the LLL basis, flattened. */
  private readonly images = new Float64Array(81);
  private readonly imageIdx: Vec3[] = [];
  /** |a*|, |b*|, |c*| of the LLL basis. */
  private readonly recip: Vec3;

  constructor(lattice: Lattice) {
    this.lll = lattice.lllMatrix;
    this.mapping = lattice.lllMapping;
    this.lllInv = lattice.lllInverse;
    let p = 0;
    for (let i = -1; i <= 1; i++)
      for (let j = -1; j <= 1; j++)
        for (let k = -1; k <= 1; k++) {
          const v = vecmat3([i, j, k], this.lll);
          this.images.set(v, 3 * p++);
          this.imageIdx.push([i, j, k]);
        }
    const inv = inv3(this.lll);
    this.recip = [0, 1, 2].map((k) => Math.hypot(inv[0][k], inv[1][k], inv[2][k])) as Vec3;
  }

  /** LLL fractional difference frac2 − frac1, wrapped into [-0.5, 0.5], and the shift removed. */
  private wrappedDiff(l1: readonly number[], l2: readonly number[]): { d: Vec3; shift: Vec3 } {
    const raw: Vec3 = [l2[0] - l1[0], l2[1] - l1[1], l2[2] - l1[2]];
    const shift = raw.map((x) => Math.round(x)) as Vec3;
    return { d: [raw[0] - shift[0], raw[1] - shift[1], raw[2] - shift[2]], shift };
  }

  /** Best squared distance and image index among the 27 neighbours for wrapped LLL difference d. */
  private best27(d: Vec3): { d2: number; p: number } {
    const c = vecmat3(d, this.lll);
    let d2 = Infinity;
    let best = 13;
    const im = this.images;
    for (let p = 0; p < 27; p++) {
      const x = c[0] + im[3 * p];
      const y = c[1] + im[3 * p + 1];
      const z = c[2] + im[3 * p + 2];
      const s = x * x + y * y + z * z;
      if (s < d2) {
        d2 = s;
        best = p;
      }
    }
    return { d2, p: best };
  }

  /** True when the bound |n_i + d_i| ≤ D |b*_i| admits images outside {-1,0,1}³. */
  private needsWideSearch(d2: number): boolean {
    const dist = Math.sqrt(d2);
    return this.recip.some((r) => dist * r >= 1.5 - 1e-12);
  }

  /** Exhaustive search over the image box allowed by the reciprocal bound. */
  private wideSearch(d: Vec3, d2: number): { d2: number; n: Vec3 } {
    const dist = Math.sqrt(d2) * (1 + 1e-12);
    const lo = [0, 1, 2].map((k) => Math.ceil(-dist * this.recip[k] - d[k]));
    const hi = [0, 1, 2].map((k) => Math.floor(dist * this.recip[k] - d[k]));
    let best = { d2, n: [0, 0, 0] as Vec3 };
    for (let i = lo[0]; i <= hi[0]; i++)
      for (let j = lo[1]; j <= hi[1]; j++)
        for (let k = lo[2]; k <= hi[2]; k++) {
          const c = vecmat3([d[0] + i, d[1] + j, d[2] + k], this.lll);
          const s = dot3(c, c);
          if (s < best.d2) best = { d2: s, n: [i, j, k] };
        }
    return best;
  }

  /** Nearest image of frac2 seen from frac1, with the image in the ORIGINAL basis. */
  shortest(frac1: readonly number[], frac2: readonly number[]): DistanceAndImage {
    const { d, shift } = this.wrappedDiff(vecmat3(frac1, this.lllInv), vecmat3(frac2, this.lllInv));
    const b = this.best27(d);
    let n = this.imageIdx[b.p];
    if (this.needsWideSearch(b.d2)) {
      const w = this.wideSearch(d, b.d2);
      if (w.d2 < b.d2) n = w.n;
    }
    const imgLll: Vec3 = [n[0] - shift[0], n[1] - shift[1], n[2] - shift[2]];
    const image = vecmat3(imgLll, this.mapping).map((x) => Math.round(x) + 0) as Vec3;
    const cart = vecmat3([d[0] + n[0], d[1] + n[1], d[2] + n[2]], this.lll);
    return { distance: norm3(cart), image };
  }

  allDistances(f1: readonly (readonly number[])[], f2: readonly (readonly number[])[]): Float64Array {
    const l1 = f1.map((f) => vecmat3(f, this.lllInv));
    const l2 = f2.map((f) => vecmat3(f, this.lllInv));
    const out = new Float64Array(f1.length * f2.length);
    for (let i = 0; i < l1.length; i++)
      for (let j = 0; j < l2.length; j++) {
        const { d } = this.wrappedDiff(l1[i], l2[j]);
        let { d2 } = this.best27(d);
        if (this.needsWideSearch(d2)) d2 = this.wideSearch(d, d2).d2;
        out[i * l2.length + j] = Math.sqrt(d2);
      }
    return out;
  }
}
