/**
 * Direct access to tfjs-backend-wasm tensor memory for the JS-side fast kernels.
 *
 * `makeOutput`, `typedArrayFromHeap` and `incRef` are public methods of `BackendWasm`
 * (see its .d.ts); the kernels here use only those. A heap view must be taken after the
 * last allocation of a kernel: allocating can grow the wasm memory, and views created
 * before a growth no longer cover new memory.
 */
import * as tf from "@tensorflow/tfjs";

export interface WasmHeapBackend extends tf.KernelBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  incRef(dataId: tf.DataId): void;
}

export type KernelArgs = Parameters<tf.KernelFunc>[0];

/** The heap-accessible back-end of a kernel call. */
export function heapBackend(args: KernelArgs): WasmHeapBackend {
  return args.backend as WasmHeapBackend;
}

/** The float32 data of `info` as a view on the wasm heap (valid until the next allocation). */
export function f32(backend: WasmHeapBackend, info: tf.TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/** A new TensorInfo that shares `x`'s memory (tfjs tensors are immutable), with `shape`. */
export function shareData(backend: WasmHeapBackend, x: tf.TensorInfo, shape: number[] = x.shape): tf.TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape, dtype: x.dtype };
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}
