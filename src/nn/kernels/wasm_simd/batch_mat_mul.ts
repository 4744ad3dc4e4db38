/**
 * BatchMatMul with a batched right operand (attention's Q·Kᵀ and P·V, and their gradients)
 * through our own WebAssembly SIMD kernel (bmm_code.ts), instantiated against
 * tfjs-backend-wasm's own linear memory so that it reads and writes tensors in place.
 *
 * Why: tfjs-wasm sends a product to XNNPACK only when the right operand is a single
 * matrix; with a batched one it runs a scalar C++ loop (~1.7 GFLOP/s here). A JS loop was
 * measured no faster than that loop, a SIMD one is several times faster on these shapes.
 *
 * How the memory is found: emscripten's module object is the back-end's `.wasm`; the
 * threaded build keeps its (shared, imported) memory in `wasmMemory`, the single-threaded
 * build exports it as `asm.memory`. If neither is there, or the engine rejects the module
 * (no SIMD), the kernel stays off and `simdBatchMatMulInfo().status` says why; products
 * then run exactly as before.
 */
import * as tf from "@tensorflow/tfjs";
import type { KernelArgs } from "../heap.ts";
import { batchMatMulModule, type BmmFunction } from "./bmm_code.ts";
import { webAssembly, type WasmMemory } from "./emitter.ts";

interface EmscriptenModule {
  wasmMemory?: WasmMemory;
  asm?: { memory?: WasmMemory };
}

interface OffsetBackend extends tf.KernelBackend {
  wasm?: EmscriptenModule;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  getMemoryOffset(dataId: tf.DataId): number;
}

/** Calls taken by the SIMD kernel, and whether it is usable (for tests and reports). */
export interface SimdBatchMatMulInfo {
  /** "active", "not started" (no product seen yet), "disabled", or why the kernel is unavailable. */
  status: string;
  /** Products computed by the SIMD kernel since the process started. */
  calls: number;
}

let calls = 0;
let enabled = true;
/** The kernel per memory object (a fresh back-end brings a fresh memory), or why it is unavailable. */
const instances = new WeakMap<WasmMemory, BmmFunction | string>();
let lastStatus = "not started";

export function simdBatchMatMulInfo(): SimdBatchMatMulInfo {
  return { status: enabled ? lastStatus : "disabled", calls };
}

/** Turns the SIMD path on or off (off: tfjs's own kernel, e.g. for an A/B benchmark). */
export function setSimdBatchMatMulEnabled(on: boolean): void {
  enabled = on;
}

function wasmMemoryOf(backend: OffsetBackend): WasmMemory | undefined {
  const module = backend.wasm;
  const memory = module?.wasmMemory ?? module?.asm?.memory;
  const api = webAssembly();
  return api && memory instanceof api.Memory ? memory : undefined;
}

/**
 * Compiles and instantiates the kernel against `memory` (synchronously: the module is
 * about 1 KB). The import's limits must admit tfjs's memory: shared memories are declared
 * shared with the wasm32 maximum, plain ones with no maximum.
 */
function instantiate(memory: WasmMemory): BmmFunction | string {
  const shared = typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer;
  const api = webAssembly()!; // wasmMemoryOf found a WebAssembly.Memory, so the API exists
  try {
    const module = new api.Module(batchMatMulModule({ shared }));
    const instance = new api.Instance(module, { env: { memory } });
    return instance.exports["bmm"] as BmmFunction;
  } catch (e) {
    return `WebAssembly SIMD kernel unavailable: ${(e as Error).message}`;
  }
}

function kernelFor(backend: OffsetBackend): BmmFunction | undefined {
  const memory = wasmMemoryOf(backend);
  if (!memory) {
    lastStatus = "tfjs-backend-wasm's WebAssembly.Memory was not found (no wasmMemory / asm.memory on the back-end's module)";
    return undefined;
  }
  let kernel = instances.get(memory);
  if (kernel === undefined) instances.set(memory, (kernel = instantiate(memory)));
  lastStatus = typeof kernel === "string" ? kernel : "active";
  return typeof kernel === "string" ? undefined : kernel;
}

/** Shapes and byte strides of one product, as the kernel takes them. */
export interface BmmPlan {
  outShape: number[];
  batch: number;
  m: number;
  k: number;
  n: number;
  /** Byte strides: per matrix, per row index (i / p), per column index (p / j). */
  a: [number, number, number];
  b: [number, number, number];
  /** B must be packed (transposed, or rows not a whole number of f32x4 vectors). */
  pack: boolean;
}

const size = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

/**
 * The plan for `op(a) · op(b)`, or undefined when the SIMD kernel does not take it:
 * not float32, a single right matrix (XNNPACK's case), empty, or a batch broadcast that
 * is not "one left matrix for all" (e.g. [2,1]×[1,3]).
 */
export function planBatchMatMul(a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): BmmPlan | undefined {
  if (a.dtype !== "float32" || b.dtype !== "float32" || a.shape.length < 2 || b.shape.length < 3) return undefined;
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const [m, k] = transposeA ? [ac, ar] : [ar, ac];
  const [kb, n] = transposeB ? [bc, br] : [br, bc];
  if (k !== kb) return undefined; // the original kernel raises tfjs's own error
  const batchA = size(a.shape.slice(0, -2));
  const batchB = size(b.shape.slice(0, -2));
  if (batchB <= 1 || m * n * k === 0 || (batchA !== 1 && batchA !== batchB)) return undefined;
  const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  if (size(outBatch) !== batchB) return undefined;
  return {
    outShape: [...outBatch, m, n],
    batch: batchB,
    m, k, n,
    a: [batchA === 1 ? 0 : 4 * m * k, transposeA ? 4 : 4 * k, transposeA ? 4 * m : 4],
    b: [4 * k * n, transposeB ? 4 : 4 * n, transposeB ? 4 * k : 4],
    pack: transposeB || n % 4 !== 0,
  };
}

/** Runs `plan` with the kernel; allocates the output and the packing scratch on the wasm heap. */
function run(kernel: BmmFunction, backend: OffsetBackend, a: tf.TensorInfo, b: tf.TensorInfo, plan: BmmPlan): tf.TensorInfo {
  const out = backend.makeOutput(plan.outShape, "float32");
  const scratch = backend.makeOutput([plan.k * ((plan.n + 3) & ~3) + 4], "float32");
  try {
    const offset = (x: tf.TensorInfo) => backend.getMemoryOffset(x.dataId);
    kernel(offset(a), offset(b), offset(out), offset(scratch), plan.batch, plan.m, plan.k, plan.n,
      ...plan.a, ...plan.b, plan.pack ? 1 : 0);
  } finally {
    backend.disposeData(scratch.dataId);
  }
  calls++;
  return out;
}

/**
 * Wraps a BatchMatMul kernel: products that `planBatchMatMul` accepts go to the SIMD
 * kernel, everything else (and everything, when the kernel is unavailable) to `fallback`.
 */
export function simdBatchMatMul(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const plan = enabled ? planBatchMatMul(a, b, transposeA, transposeB) : undefined;
    const backend = args.backend as OffsetBackend;
    const kernel = plan && kernelFor(backend);
    return plan && kernel ? run(kernel, backend, a, b, plan) : fallback(args);
  };
}
