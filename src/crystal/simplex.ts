/**
 * A small dense revised simplex for the linear programs of convex-hull (phase diagram)
 * queries:
 *
 *     minimise  c·λ   subject to  A λ = b,  λ ≥ 0
 *
 * with few rows (one per chemical element of the query, rarely more than 6) and up to a
 * few thousand columns (candidate entries). The caller must supply a starting basis that
 * is already feasible; for hull queries the elemental reference entries are exactly that
 * (their columns form the identity and λ = b ≥ 0), so no phase-one problem is needed.
 *
 * Why our own solver instead of the `highs` wasm package: the problems are tiny, a
 * synchronous call keeps `PhaseDiagram` constructible with `new`, and bench/hull.ts
 * measures this solver against highs on the same queries.
 *
 * Pivoting uses Bland's rule (lowest index enters, lowest basic index leaves on ties),
 * which cannot cycle on the degenerate vertices hull problems are full of (a query that
 * sits exactly on an entry's composition makes every other basic variable zero).
 */
import { SimplexError } from "./errors.ts";

/** Thresholds in the units of c (eV/atom for hulls) and of A (atom fractions). */
const REDUCED_COST_TOL = 1e-12;
const PIVOT_TOL = 1e-12;

/** Solution of a standard-form LP. */
export interface SimplexSolution {
  /** Optimal objective c·λ. */
  objective: number;
  /** Column indices of the final basis, one per row. */
  basis: number[];
  /** Values of the basic variables (same order as `basis`); every other λ is 0. */
  values: number[];
  /** Number of pivots taken. */
  iterations: number;
}

/** A standard-form LP given by columns: `columns[j]` is A's j-th column (length m). */
export interface StandardLP {
  columns: readonly ArrayLike<number>[];
  costs: ArrayLike<number>;
  rhs: ArrayLike<number>;
}


/**
 * Solves `lp` from the feasible starting basis `start` (column indices whose submatrix is
 * the identity, so the starting values are `rhs` itself, which must be ≥ 0).
 */
export function solveFromIdentityBasis(lp: StandardLP, start: readonly number[]): SimplexSolution {
  const m = lp.rhs.length;
  if (start.length !== m) throw new SimplexError(`starting basis has ${start.length} columns for ${m} rows`);
  const binv = identity(m);
  const basis = [...start];
  const values = Array.from(lp.rhs);
  const maxIterations = 50 * (m + lp.columns.length);
  for (let iter = 0; iter < maxIterations; iter++) {
    const duals = dualPrices(binv, basis, lp.costs);
    const entering = firstImprovingColumn(lp, duals, basis);
    if (entering < 0) return finish(lp, basis, iter);
    const direction = multiply(binv, lp.columns[entering]);
    const row = ratioTestRow(direction, values, basis);
    if (row < 0) throw new SimplexError(`LP is unbounded along column ${entering}`);
    pivot(binv, values, direction, row);
    basis[row] = entering;
  }
  throw new SimplexError(`no optimum after ${maxIterations} pivots (numerically degenerate input?)`);
}

function identity(m: number): Float64Array[] {
  return Array.from({ length: m }, (_, i) => {
    const r = new Float64Array(m);
    r[i] = 1;
    return r;
  });
}

/** y = c_B · B⁻¹: the simplex multipliers (hull energies per element at the current facet). */
function dualPrices(binv: Float64Array[], basis: number[], costs: ArrayLike<number>): Float64Array {
  const m = basis.length;
  const y = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const cb = costs[basis[i]];
    if (cb === 0) continue;
    const row = binv[i];
    for (let k = 0; k < m; k++) y[k] += cb * row[k];
  }
  return y;
}

/** Bland's entering rule: the lowest-index non-basic column with a negative reduced cost. */
function firstImprovingColumn(lp: StandardLP, duals: Float64Array, basis: number[]): number {
  const m = duals.length;
  for (let j = 0; j < lp.columns.length; j++) {
    const col = lp.columns[j];
    let reduced = lp.costs[j];
    for (let k = 0; k < m; k++) reduced -= duals[k] * col[k];
    if (reduced < -REDUCED_COST_TOL && !basis.includes(j)) return j;
  }
  return -1;
}

function multiply(binv: Float64Array[], col: ArrayLike<number>): Float64Array {
  const m = binv.length;
  const out = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let k = 0; k < m; k++) s += binv[i][k] * col[k];
    out[i] = s;
  }
  return out;
}

/** Minimum-ratio row; ties go to the lowest basic column index (Bland's leaving rule). */
function ratioTestRow(direction: Float64Array, values: number[], basis: number[]): number {
  let best = -1;
  let bestRatio = Infinity;
  for (let i = 0; i < direction.length; i++) {
    if (direction[i] <= PIVOT_TOL) continue;
    const ratio = Math.max(values[i], 0) / direction[i];
    const tie = best >= 0 && Math.abs(ratio - bestRatio) <= 1e-15 * Math.max(1, bestRatio);
    if (tie) {
      if (basis[i] < basis[best]) best = i;
    } else if (ratio < bestRatio) {
      best = i;
      bestRatio = ratio;
    }
  }
  return best;
}

/** Gauss–Jordan update of B⁻¹ and of the basic values for a pivot on `row`. */
function pivot(binv: Float64Array[], values: number[], direction: Float64Array, row: number): void {
  const m = binv.length;
  const p = direction[row];
  const pivotRow = binv[row];
  for (let k = 0; k < m; k++) pivotRow[k] /= p;
  values[row] /= p;
  for (let i = 0; i < m; i++) {
    if (i === row || direction[i] === 0) continue;
    const f = direction[i];
    const r = binv[i];
    for (let k = 0; k < m; k++) r[k] -= f * pivotRow[k];
    values[i] -= f * values[row];
  }
}

/**
 * Re-solves B λ_B = b from scratch (partial-pivoting Gaussian elimination) so the reported
 * values carry no accumulated pivot round-off, then evaluates the objective from them.
 */
function finish(lp: StandardLP, basis: number[], iterations: number): SimplexSolution {
  const m = basis.length;
  const a = Array.from({ length: m }, (_, i) => {
    const r = new Float64Array(m + 1);
    for (let k = 0; k < m; k++) r[k] = lp.columns[basis[k]][i];
    r[m] = lp.rhs[i];
    return r;
  });
  const values = gaussSolve(a);
  let objective = 0;
  for (let i = 0; i < m; i++) objective += lp.costs[basis[i]] * values[i];
  return { objective, basis, values, iterations };
}

/** Solves the augmented m×(m+1) system in place; returns the solution vector. */
function gaussSolve(a: Float64Array[]): number[] {
  const m = a.length;
  for (let col = 0; col < m; col++) {
    let piv = col;
    for (let r = col + 1; r < m; r++) if (Math.abs(a[r][col]) > Math.abs(a[piv][col])) piv = r;
    [a[col], a[piv]] = [a[piv], a[col]];
    const d = a[col][col];
    if (Math.abs(d) < 1e-300) throw new SimplexError("final basis is singular");
    for (let r = col + 1; r < m; r++) {
      const f = a[r][col] / d;
      if (f === 0) continue;
      for (let k = col; k <= m; k++) a[r][k] -= f * a[col][k];
    }
  }
  const x = new Array<number>(m).fill(0);
  for (let r = m - 1; r >= 0; r--) {
    let s = a[r][m];
    for (let k = r + 1; k < m; k++) s -= a[r][k] * x[k];
    x[r] = s / a[r][r];
  }
  return x;
}
