/**
 * Scalar maths behind the JS kernels' lookup tables. Evaluating a special function per
 * element in JS (even with a hand-made exp: V8's `Math.exp` is a full double-precision
 * routine) measured slower than tfjs's wasm loops, so the kernels read tables that are
 * built once, in double precision, by the functions here.
 */

/** 1/√(2π), the standard normal density at 0. */
export const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * erf(z) for z ≥ 0 to double precision, for building tables (not per element): the series
 * erf(z) = 2/√π·e^(−z²)·Σₙ 2ⁿz^(2n+1)/(1·3·…·(2n+1)) has only positive terms, so unlike
 * the Maclaurin series it loses no digits to cancellation at large z.
 */
export function erfSeries(z: number): number {
  let term = z;
  let sum = z;
  for (let n = 1; term > 1e-17 * sum; n++) {
    term *= (2 * z * z) / (2 * n + 1);
    sum += term;
  }
  return Math.min(1, (2 / Math.sqrt(Math.PI)) * Math.exp(-z * z) * sum);
}

/** Φ(x) = ½(1 + erf(x/√2)), the standard normal CDF, in double precision. */
export function normalCdfExact(x: number): number {
  const e = erfSeries(Math.abs(x) * Math.SQRT1_2);
  return 0.5 * (x < 0 ? 1 - e : 1 + e);
}

/**
 * A function sampled on [−range, range] with `perUnit` points per unit, read back by linear
 * interpolation (error ≤ h²/8·max|f''|, h = 1/perUnit). Outside the range the caller
 * substitutes the function's limits.
 */
export interface SampledFunction {
  values: Float64Array;
  range: number;
  perUnit: number;
}

export function sampleFunction(f: (x: number) => number, range: number, perUnit: number): SampledFunction {
  const values = Float64Array.from({ length: 2 * range * perUnit + 2 }, (_, i) => f(i / perUnit - range));
  return { values, range, perUnit };
}
