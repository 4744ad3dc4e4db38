/**
 * Cheaper element-wise float32 kernels for wasm.
 *
 * Why: tfjs-backend-wasm runs Neg, Square, Sqrt, Rsqrt and Abs through XNNPACK operators
 * that it creates and destroys on every call, which costs ~1 ms even for a 1280-element
 * tensor, while its binary ops (Multiply) carry no such overhead. A training step calls
 * these hundreds of times (AdamW: Square and Sqrt once per parameter; every Sub gradient:
 * Neg), mostly on small tensors. So:
 * - Square(x) → Multiply(x, x) and Neg(x) → Multiply(x, −1): XNNPACK's fast binary path,
 *   bit-identical results (x·x and x·(−1) are exact IEEE products).
 * - Sqrt, Rsqrt, Abs on tensors below `JS_LOOP_MAX` elements → a JS loop on the heap view
 *   (no per-call cost); larger tensors keep XNNPACK, which is faster per element.
 */
import * as tf from "@tensorflow/tfjs";
import { f32, heapBackend, sizeOf, type KernelArgs, type WasmHeapBackend } from "./heap.ts";

/** Above this many elements XNNPACK's vectorised loop beats JS despite its set-up cost. */
export const JS_LOOP_MAX = 1 << 16;

type Loop = (x: Float32Array, out: Float32Array) => void;

/** One loop per op (not a shared loop with a callback) so that V8 compiles each tightly. */
export const JS_LOOPS: Readonly<Record<string, Loop>> = {
  Sqrt: (x, o) => {
    for (let i = 0, n = x.length; i < n; i++) o[i] = Math.sqrt(x[i]!);
  },
  Rsqrt: (x, o) => {
    for (let i = 0, n = x.length; i < n; i++) o[i] = 1 / Math.sqrt(x[i]!);
  },
  Abs: (x, o) => {
    for (let i = 0, n = x.length; i < n; i++) o[i] = Math.abs(x[i]!);
  },
};

/** Sqrt/Rsqrt/Abs: small float32 tensors through the JS loop of `name`. */
export function smallTensorKernel(name: string): (original: tf.KernelFunc) => tf.KernelFunc {
  const loop = JS_LOOPS[name]!;
  return (original) => (args: KernelArgs) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype !== "float32" || sizeOf(x.shape) > JS_LOOP_MAX) return original(args);
    const backend = heapBackend(args);
    const out = backend.makeOutput(x.shape, "float32");
    loop(f32(backend, x), f32(backend, out));
    return out;
  };
}

function multiply(args: KernelArgs, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo {
  const mul = tf.getKernel("Multiply", "wasm")!.kernelFunc;
  return mul({ inputs: { a, b }, backend: args.backend, attrs: {} }) as tf.TensorInfo;
}

/** Square(x) = x·x on the binary fast path. */
export function squareKernel(original: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    return x.dtype === "float32" ? multiply(args, x, x) : original(args);
  };
}

/** A float32 scalar on the wasm heap; the caller disposes it. */
function scalar(backend: WasmHeapBackend, value: number): tf.TensorInfo {
  const s = backend.makeOutput([], "float32");
  f32(backend, s)[0] = value;
  return s;
}

/** Neg(x) = x·(−1) on the binary fast path. */
export function negKernel(original: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype !== "float32") return original(args);
    const backend = heapBackend(args);
    const minusOne = scalar(backend, -1);
    try {
      return multiply(args, x, minusOne);
    } finally {
      backend.disposeData(minusOne.dataId);
    }
  };
}
