/**
 * Small dense 3×3 / 3-vector linear algebra on plain arrays. The crystal core
 * knows nothing about tensors; these helpers keep lattice maths readable.
 */

export type Vec3 = [number, number, number];
export type Mat3 = [Vec3, Vec3, Vec3];

export function det3(m: readonly (readonly number[])[]): number {
  return (
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
    m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
    m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
  );
}

/** Inverse of a 3×3 matrix (caller guarantees it is not singular). */
export function inv3(m: readonly (readonly number[])[]): Mat3 {
  const d = det3(m);
  // Cofactors via a module-level helper, not an inner closure: tsx (esbuild keepNames) wraps every
  // named inner closure in a defineProperty call, which made this hot function ~20x slower.
  return [
    [minor2(m, 1, 1, 2, 2) / d, -minor2(m, 0, 1, 2, 2) / d, minor2(m, 0, 1, 1, 2) / d],
    [-minor2(m, 1, 0, 2, 2) / d, minor2(m, 0, 0, 2, 2) / d, -minor2(m, 0, 0, 1, 2) / d],
    [minor2(m, 1, 0, 2, 1) / d, -minor2(m, 0, 0, 2, 1) / d, minor2(m, 0, 0, 1, 1) / d],
  ];
}

/** 2×2 minor of rows r0, r1 and columns c0, c1. */
function minor2(m: readonly (readonly number[])[], r0: number, c0: number, r1: number, c1: number): number {
  return m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
}

export function transpose3(m: readonly (readonly number[])[]): Mat3 {
  return [
    [m[0][0], m[1][0], m[2][0]],
    [m[0][1], m[1][1], m[2][1]],
    [m[0][2], m[1][2], m[2][2]],
  ];
}

/** Matrix product a·b of 3×3 matrices. */
export function matmul3(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): Mat3 {
  const out: Mat3 = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) out[i][j] = a[i][0] * b[0][j] + a[i][1] * b[1][j] + a[i][2] * b[2][j];
  return out;
}

/** Row vector times matrix: v·M (fractional → Cartesian with rows = lattice vectors). */
export function vecmat3(v: readonly number[], m: readonly (readonly number[])[]): Vec3 {
  return [
    v[0] * m[0][0] + v[1] * m[1][0] + v[2] * m[2][0],
    v[0] * m[0][1] + v[1] * m[1][1] + v[2] * m[2][1],
    v[0] * m[0][2] + v[1] * m[1][2] + v[2] * m[2][2],
  ];
}

export function dot3(a: readonly number[], b: readonly number[]): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

export function cross3(a: readonly number[], b: readonly number[]): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

export function norm3(a: readonly number[]): number {
  return Math.sqrt(dot3(a, a));
}

export function copyMat3(m: readonly (readonly number[])[]): Mat3 {
  return [
    [m[0][0], m[0][1], m[0][2]],
    [m[1][0], m[1][1], m[1][2]],
    [m[2][0], m[2][1], m[2][2]],
  ];
}

/** Matrix with every entry scaled by `s`. */
export function scaleMat3(m: readonly (readonly number[])[], s: number): Mat3 {
  return [
    [m[0][0] * s, m[0][1] * s, m[0][2] * s],
    [m[1][0] * s, m[1][1] * s, m[1][2] * s],
    [m[2][0] * s, m[2][1] * s, m[2][2] * s],
  ];
}

export function identity3(): Mat3 {
  return [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];
}

export function sub3(a: readonly number[], b: readonly number[]): Vec3 {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}

export function add3(a: readonly number[], b: readonly number[]): Vec3 {
  return [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
}

/**
 * Round half to even, like Python's `round()` and numpy's `np.round`. Lattice reduction
 * rounds Gram–Schmidt coefficients that are exactly ±0.5 for hexagonal cells, so the
 * tie-breaking rule decides which (equally valid) basis comes out; matching Python's
 * rule keeps our bases identical to pymatgen's.
 */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round rounds ties towards +∞; fix the ties whose result is odd.
  if (Math.abs(x % 1) === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}

/** True when every entry is within `tol` of an integer. */
export function isIntegerMat3(m: readonly (readonly number[])[], tol = 1e-8): boolean {
  return m.every((r) => r.every((x) => Math.abs(x - Math.round(x)) <= tol));
}

/** x mod 1 in [0, 1): maps results that round to 1.0 (tiny negative x) back to 0. */
export function wrap01(x: number): number {
  const y = x - Math.floor(x);
  return y >= 1 ? 0 : y;
}
