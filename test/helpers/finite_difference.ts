/**
 * Central finite difference of a scalar function of model parameters along a direction:
 * (F(θ + h·d) − F(θ − h·d)) / 2h. The parameters are shifted in place and restored before
 * returning, so gradient checks can compare it with Σ ⟨∇F, d⟩ from the analytic gradients.
 */
import { tf } from "../../src/nn/tf.ts";

export function directionalDifference(vars: readonly tf.Variable[], dirs: readonly tf.Tensor[], F: () => number, h: number): number {
  const shift = (sign: number) => vars.forEach((v, k) => v.assign(tf.tidy(() => tf.add(v, tf.mul(dirs[k]!, sign * h)))));
  shift(+1);
  const fPlus = F();
  shift(-2);
  const fMinus = F();
  shift(+1);
  return (fPlus - fMinus) / (2 * h);
}
