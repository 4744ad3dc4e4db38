/**
 * Memory-movement kernels for wasm without needless copies.
 *
 * - Identity and same-dtype Cast share the input's memory (like tfjs's cpu back-end)
 *   instead of copying it: the tape clones every saved activation through Identity, so a
 *   training step copied each of them once more.
 * - Slice, SplitV and Unpack copy contiguous runs with `TypedArray.set` instead of wasm's
 *   per-element loop (splitting a [64,20,768] q/k/v tensor took ~80 ms, now ~1 ms).
 */
import * as tf from "@tensorflow/tfjs";
import { heapBackend, shareData, sizeOf, type KernelArgs, type WasmHeapBackend } from "./heap.ts";

/** Identity: a new reference to the same memory. */
export function identityKernel(_original: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    return shareData(heapBackend(args), x);
  };
}

/** Cast to the dtype the tensor already has: shared memory; real conversions unchanged. */
export function castKernel(original: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { dtype } = args.attrs as { dtype: tf.DataType };
    return x.dtype === dtype ? shareData(heapBackend(args), x) : original(args);
  };
}

/** Shortest run worth a `TypedArray.set` call; shorter runs are copied element-wise. */
const MIN_RUN = 16;

/**
 * Copies the box `begin`/`size` of `x` (row-major) into a new tensor. Trailing axes that
 * are taken whole are merged into one contiguous run per outer index.
 */
export function copyBox(backend: WasmHeapBackend, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const rank = x.shape.length;
  const strides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) (strides[i] = s), (s *= x.shape[i]!);
  // Axes after `split` are taken whole, so axes split.. form one contiguous source run.
  let split = Math.max(rank - 1, 0);
  while (split > 0 && size[split] === x.shape[split] && begin[split] === 0) split--;
  const run = sizeOf(size.slice(split));
  const outer = sizeOf(size.slice(0, split));
  const index = new Array<number>(split).fill(0);
  for (let o = 0; o < outer; o++) {
    let offset = rank ? begin[split]! * strides[split]! : 0;
    for (let i = 0; i < split; i++) offset += (begin[i]! + index[i]!) * strides[i]!;
    if (run >= MIN_RUN) dst.set(src.subarray(offset, offset + run), o * run);
    else for (let k = 0; k < run; k++) dst[o * run + k] = src[offset + k]!;
    for (let i = split - 1; i >= 0 && ++index[i]! === size[i]; i--) index[i] = 0;
  }
  return out;
}

export function sliceKernel(_original: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
    const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
    return copyBox(heapBackend(args), x, b, s);
  };
}

export function splitVKernel(_original: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
    const ax = tf.util.parseAxisParam(axis, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
    const begin = x.shape.map(() => 0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[ax] = s;
      const piece = copyBox(heapBackend(args), x, [...begin], size);
      begin[ax]! += s;
      return piece;
    });
  };
}

export function unpackKernel(_original: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { value } = args.inputs as { value: tf.TensorInfo };
    const { axis } = args.attrs as unknown as { axis: number };
    const ax = axis < 0 ? axis + value.shape.length : axis;
    const size = [...value.shape];
    size[ax] = 1;
    const outShape = value.shape.filter((_, i) => i !== ax);
    return Array.from({ length: value.shape[ax]! }, (_, i) => {
      const begin = value.shape.map((_, j) => (j === ax ? i : 0));
      return { ...copyBox(heapBackend(args), value, begin, size), shape: outShape };
    });
  };
}
