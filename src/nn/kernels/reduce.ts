/**
 * Sum over leading axes for wasm — the reduction behind every bias gradient and the
 * LayerNorm affine gradients ([rows, cols] → [cols]).
 *
 * tfjs-backend-wasm first transposes the reduced axes to the back (a full copy) and then
 * sums rows; that was ~5x slower than a last-axis sum. Here the sum is a GEMV on
 * XNNPACK's threaded GEMM instead: ones[1, rows] · X[rows, cols]. A JS loop over the heap
 * measured 3x slower than that on this machine.
 */
import * as tf from "@tensorflow/tfjs";
import { f32, heapBackend, sizeOf, type KernelArgs } from "./heap.ts";

export function sumKernel(original: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((a, i) => a === i);
    if (x.dtype !== "float32" || !leading) return original(args);
    const rows = sizeOf(x.shape.slice(0, axes.length));
    const cols = sizeOf(x.shape.slice(axes.length));
    const shape = keepDims ? x.shape.map((d, i) => (i < axes.length ? 1 : d)) : x.shape.slice(axes.length);
    const backend = heapBackend(args);
    const ones = backend.makeOutput([1, 1, rows], "float32");
    f32(backend, ones).fill(1);
    try {
      const matMul = tf.getKernel("BatchMatMul", "wasm")!.kernelFunc;
      const inputs = { a: ones, b: { ...x, shape: [1, rows, cols] } };
      const out = matMul({ inputs, backend, attrs: { transposeA: false, transposeB: false } }) as tf.TensorInfo;
      return { ...out, shape };
    } finally {
      backend.disposeData(ones.dataId);
    }
  };
}
