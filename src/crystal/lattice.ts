/**
 * Lattice: three lattice vectors as the ROWS of a 3×3 matrix (pymatgen's convention).
 * Fractional coordinates are row vectors, so cart = frac · matrix.
 */
import { LatticeError } from "./errors.ts";
import { copyMat3, det3, dot3, inv3, matmul3, norm3, transpose3, vecmat3, type Mat3, type Vec3 } from "./linalg.ts";

const DEG = Math.PI / 180;

/** Smallest |volume| (Å³) we accept; below it the matrix is treated as singular. */
const MIN_VOLUME = 1e-8;

export class Lattice {
  /** Rows are the lattice vectors a, b, c in Å. */
  readonly matrix: Mat3;
  private _inv?: Mat3;

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

  /** True when both matrices agree entrywise within `tol` Å. */
  equals(other: Lattice, tol = 1e-8): boolean {
    return this.matrix.every((r, i) => r.every((x, j) => Math.abs(x - other.matrix[i][j]) <= tol));
  }

  toString(): string {
    return this.matrix.map((r) => r.map((x) => x.toFixed(6).padStart(12)).join(" ")).join("\n");
  }
}
