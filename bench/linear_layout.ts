/**
 * Why `Linear` stores its weight as [in, out]: times one Linear forward + backward with
 * the weight stored [in, out] (plain `x · W`) against PyTorch's [out, in] layout
 * (`x · Wᵀ`, i.e. matMul with transposeB) on the same back-end, and prints the ratio.
 * Usage: node --import tsx bench/linear_layout.ts [wasm|cpu|auto]
 */
import { tf } from "../src/nn/tf.ts";
import { initBackend } from "../src/nn/backend.ts";

const info = await initBackend({ backend: (process.argv[2] as "wasm" | "cpu" | "auto") ?? "wasm" });
const [rows, din, dout] = [1280, 256, 1024];
const x = tf.randomNormal([rows, din]);
const wInOut = tf.variable(tf.randomNormal([din, dout]));
const wOutIn = tf.variable(tf.randomNormal([dout, din]));

function step(transposed: boolean): void {
  const { value, grads } = tf.variableGrads(
    () => tf.mean(tf.square(transposed ? tf.matMul(x, wOutIn, false, true) : tf.matMul(x, wInOut))) as tf.Scalar,
    [transposed ? wOutIn : wInOut],
  );
  value.dataSync();
  value.dispose();
  tf.dispose(Object.values(grads));
}

function time(transposed: boolean, reps: number): number {
  step(transposed); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) step(transposed);
  return (performance.now() - t0) / reps;
}

const reps = info.backend === "cpu" ? 3 : 10;
const plain = time(false, reps);
const transposed = time(true, reps);
console.log(
  JSON.stringify({
    backend: info.backend,
    threads: info.threads,
    shape: [rows, din, dout],
    ms_in_out: +plain.toFixed(2),
    ms_out_in_transposeB: +transposed.toFixed(2),
    ratio_transposed_over_plain: +(transposed / plain).toFixed(3),
  }),
);
