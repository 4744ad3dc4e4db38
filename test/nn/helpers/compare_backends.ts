/**
 * Runs an op on wasm (where the fast paths are) and on tfjs's pure-JS `cpu` back-end (an
 * independent reference) and checks forward values and gradients of sum(op(xs)·w), for a
 * fixed random weight w, agree to `tol` (relative for entries larger than 1, absolute
 * otherwise).
 */
import * as assert from "uvu/assert";
import { tf } from "../../../src/nn/tf.ts";

/** Deterministic pseudo-random values in [-1, 1) (a 32-bit LCG), so failures reproduce. */
export function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

export type Op = (...xs: tf.Tensor[]) => tf.Tensor;

async function run(backend: string, op: Op, shapes: number[][]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const xs = shapes.map((s, i) => tf.tensor(values(s.reduce((p, d) => p * d, 1), 7 + i), s));
    const y = op(...xs);
    const w = tf.tensor(values(y.size, 99), y.shape);
    const grads = tf.grads((...args: tf.Tensor[]) => op(...args).mul(w).sum())(xs);
    return [y, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

export function assertClose(actual: Float32Array, expected: Float32Array, what: string, tol: number): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!));
    if (!(err <= tol)) assert.unreachable(`${what}[${i}]: wasm ${actual[i]} vs cpu ${expected[i]}`);
  }
}

/** Values and gradients of `op` on wasm vs cpu; inputs are `values()` in [-1, 1). */
export async function compareBackends(name: string, op: Op, shapes: number[][], tol = 1e-5): Promise<void> {
  const fast = await run("wasm", op, shapes);
  const ref = await run("cpu", op, shapes);
  const labels = ["value", ...shapes.map((_, i) => `grad${i}`)];
  fast.forEach((f, i) => assertClose(f, ref[i]!, `${name} ${labels[i]}`, tol));
}

/** Names of the kernels that `fn` runs (on the current back-end). */
export async function kernelsRun(fn: () => tf.Tensor): Promise<string[]> {
  const info = await tf.profile(() => fn());
  return info.kernels.map((k) => k.name);
}
