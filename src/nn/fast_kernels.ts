/**
 * Fast paths for tfjs-backend-wasm, installed through tfjs's public kernel registry
 * (`getKernel` → wrap → `unregisterKernel` + `registerKernel`, and `registerGradient`),
 * never by patching tfjs. Chosen by profiling (tf.profile) a forward+backward+AdamW step
 * of the pre-norm transformer stack in bench/ — the kernels that dominated, and why:
 *
 * - BatchMatMul / _FusedMatMul: XNNPACK's GEMM serves only non-transposed operands; with
 *   `transposeA`/`transposeB` (every matMul gradient: dA = dY·Bᵀ, dB = Aᵀ·dY) wasm fell
 *   back to a loop 15–170x slower. Now: explicit transpose + plain GEMM, and batched
 *   left operands against a single matrix are flattened into one GEMM (below). Batched
 *   right operands (attention) go to our f32x4 kernel (kernels/wasm_simd/, 6–14x faster
 *   than wasm's scalar loop there), with its own tests in test/nn/simd_bmm.test.ts.
 * - Transpose: rank-5 permutations (the [B,N,3,H,d] → [3,B,H,N,d] q/k/v split) took
 *   ~200 ms each in wasm's generic loop; now reduced and done as rank-≤4 moves.
 * - Identity / Cast, Slice / SplitV / Unpack, Sum over leading axes, Square / Neg /
 *   Sqrt / Rsqrt / Abs: see kernels/copy.ts, kernels/reduce.ts, kernels/unary.ts.
 * - The BatchMatMul gradient is re-registered so that broadcast batch shapes work.
 *
 * Each wrapped kernel keeps the original `setupFunc`, so registering before or after the
 * wasm back-end starts both work; `registerFastKernels` is idempotent. Every fast path is
 * tested against tfjs's cpu back-end (values and gradients) in test/nn/fast_kernels.test.ts.
 */
import * as tf from "@tensorflow/tfjs";
import { castKernel, identityKernel, sliceKernel, splitVKernel, unpackKernel } from "./kernels/copy.ts";
import { JS_LOOPS, negKernel, smallTensorKernel, squareKernel } from "./kernels/unary.ts";
import { sumKernel } from "./kernels/reduce.ts";
import { geluGradient, geluKernels } from "./kernels/gelu.ts";
import { layerNormGradient, layerNormKernels } from "./kernels/layer_norm.ts";
import { simdBatchMatMul } from "./kernels/wasm_simd/batch_mat_mul.ts";

type KernelArgs = Parameters<tf.KernelFunc>[0];
type WasmBackend = tf.KernelBackend;

/** Replacement kernel factories by kernel name (wasm only). */
const WRAPPERS: Readonly<Record<string, (original: tf.KernelFunc) => tf.KernelFunc>> = {
  // Batched right operands (attention) → our f32x4 kernel (kernels/wasm_simd/), the rest as below.
  BatchMatMul: (original) => simdBatchMatMul(plainOperandMatMul(original)),
  _FusedMatMul: plainOperandMatMul,
  Transpose: stepwiseTranspose,
  Identity: identityKernel,
  Cast: castKernel,
  Slice: sliceKernel,
  SplitV: splitVKernel,
  Unpack: unpackKernel,
  Sum: sumKernel,
  Square: squareKernel,
  Neg: negKernel,
  ...Object.fromEntries(Object.keys(JS_LOOPS).map((name) => [name, smallTensorKernel(name)])),
};

/** Names of the kernels that `registerFastKernels` replaces on wasm (for tests and reports). */
export const FAST_KERNELS: readonly string[] = Object.keys(WRAPPERS);
/** Gradients that `registerFastKernels` replaces (all back-ends). */
export const FAST_GRADIENTS: readonly string[] = ["BatchMatMul"];

/**
 * Kernels of our own (wasm only) behind fused ops that tfjs lacks: GELU and LayerNorm
 * (kernels/gelu.ts, layer_norm.ts), each with its gradient. Their ops fall back to tf-op
 * compositions on other back-ends. (A fused masked softmax was tried and dropped: wasm's
 * own Softmax plus the mask Add measured 3x faster than a JS loop with a polynomial exp.)
 */
const FUSED_KERNELS: readonly tf.KernelConfig[] = [...geluKernels, ...layerNormKernels];
const FUSED_GRADIENTS: readonly tf.GradConfig[] = [geluGradient, layerNormGradient];
/** Names of the fused kernels that `registerFastKernels` adds on wasm. */
export const FUSED_KERNEL_NAMES: readonly string[] = FUSED_KERNELS.map((k) => k.kernelName);

const originals = new Map<string, tf.KernelConfig>();

/** Replaces the wasm kernels listed in `FAST_KERNELS` by their fast versions. Idempotent. */
export function registerFastKernels(): void {
  for (const [name, wrap] of Object.entries(WRAPPERS)) wrapWasmKernel(name, wrap);
  for (const config of FUSED_KERNELS) if (!tf.getKernel(config.kernelName, "wasm")) tf.registerKernel(config);
  if (!gradientRegistered) for (const grad of [batchMatMulGradient, ...FUSED_GRADIENTS]) tf.registerGradient(grad);
  gradientRegistered = true;
}

let gradientRegistered = false;

/**
 * The kernel tfjs shipped for `name` on wasm, before our replacement. Tests compare the
 * fast path against it.
 */
export function originalWasmKernel(name: string): tf.KernelConfig | undefined {
  return originals.get(name) ?? tf.getKernel(name, "wasm");
}

function wrapWasmKernel(name: string, wrap: (original: tf.KernelFunc) => tf.KernelFunc): void {
  if (originals.has(name)) return;
  const original = tf.getKernel(name, "wasm");
  if (!original) return; // wasm back-end not installed: nothing to speed up
  originals.set(name, original);
  tf.unregisterKernel(name, "wasm");
  tf.registerKernel({ ...original, kernelFunc: wrap(original.kernelFunc) });
}

/** Swaps the last two axes with wasm's Transpose kernel; the caller frees the result. */
function transposeInner(x: tf.TensorInfo, backend: WasmBackend): tf.TensorInfo {
  const rank = x.shape.length;
  const perm = Array.from({ length: rank }, (_, i) => (i < rank - 2 ? i : 2 * rank - 3 - i));
  const transpose = tf.getKernel("Transpose", "wasm")!.kernelFunc;
  return transpose({ inputs: { x }, backend, attrs: { perm } }) as tf.TensorInfo;
}

/** Number of matrices in a batched operand (product of all but the last two axes). */
function batchSize(x: tf.TensorInfo): number {
  return x.shape.slice(0, -2).reduce((p, d) => p * d, 1);
}

/**
 * matMul / fused matMul → one plain XNNPACK GEMM whenever the right operand is a single
 * matrix (batch size 1): transposed operands are transposed explicitly first, and a
 * batched left operand ([..., m, k], not transposed) is viewed as one [batch·m, k] matrix
 * — what a Linear layer on [batch, tokens, width] activations needs. Products with a
 * batched right operand (attention) are taken before this by `simdBatchMatMul`; the ones
 * it declines reach tfjs's own kernel here. (A JS loop computing four outputs per loaded
 * element was tried for them and measured no faster than that scalar wasm loop.)
 */
function plainOperandMatMul(original: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs) => {
    const attrs = args.attrs as { transposeA: boolean; transposeB: boolean };
    const { a, b, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined> & { a: tf.TensorInfo; b: tf.TensorInfo };
    const alreadyPlain = !attrs.transposeA && !attrs.transposeB && a.shape.length <= 2 && b.shape.length <= 2;
    const rowWisePrelu = (preluActivationWeights?.shape.length ?? 0) > 1;
    if (alreadyPlain || rowWisePrelu || batchSize(b) !== 1 || (attrs.transposeA && batchSize(a) !== 1)) return original(args);
    const backend = args.backend as WasmBackend;
    const temps: tf.TensorInfo[] = [];
    const explicit = (x: tf.TensorInfo, transposed: boolean): tf.TensorInfo => {
      if (!transposed) return x;
      const t = transposeInner(x, backend);
      temps.push(t);
      return t;
    };
    try {
      const a2 = explicit(a, attrs.transposeA);
      const b2 = explicit(b, attrs.transposeB);
      const [m, k] = a2.shape.slice(-2) as [number, number];
      const n = b2.shape[b2.shape.length - 1]!;
      const inputs = { ...args.inputs, a: { ...a2, shape: [1, batchSize(a2) * m, k] }, b: { ...b2, shape: [1, k, n] } };
      const out = original({ ...args, inputs, attrs: { ...args.attrs, transposeA: false, transposeB: false } }) as tf.TensorInfo;
      const batch = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
      return { ...out, shape: [...batch, m, n] };
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  };
}

/** A transpose after dropping size-1 axes and merging axes that stay neighbours. */
export interface ReducedTranspose {
  shape: number[];
  perm: number[];
}

/**
 * Simplest equivalent of transposing `shape` by `perm`: size-1 axes removed, and runs of
 * input axes that appear consecutively (in order) in `perm` merged into one axis. A
 * [64,20,3,8,32] tensor permuted by [0,2,1,3,4] is a [64,20,3,256] one permuted by [0,2,1,3].
 */
export function reduceTranspose(shape: readonly number[], perm: readonly number[]): ReducedTranspose {
  const kept = perm.filter((axis) => shape[axis] !== 1);
  const runs: number[][] = [];
  for (const axis of kept) {
    const last = runs[runs.length - 1];
    if (last && axis === last[last.length - 1]! + 1) last.push(axis);
    else runs.push([axis]);
  }
  // Runs sorted by their first input axis give the merged input layout.
  const inputOrder = [...runs].sort((a, b) => a[0]! - b[0]!);
  return {
    shape: inputOrder.map((run) => run.reduce((p, axis) => p * shape[axis]!, 1)),
    perm: runs.map((run) => inputOrder.indexOf(run)),
  };
}

/**
 * The moves that realise `perm` one axis at a time: each brings the axis that belongs at
 * output position i forward from position j, i.e. a [pre, mid, moved, post] → [pre, moved,
 * mid, post] transpose, which wasm runs on its fast rank-≤4 path.
 */
export function transposeMoves(shape: readonly number[], perm: readonly number[]): Array<[number, number, number, number]> {
  let order = shape.map((_, axis) => axis);
  const moves: Array<[number, number, number, number]> = [];
  const prod = (axes: number[]) => axes.reduce((p, axis) => p * shape[axis]!, 1);
  perm.forEach((axis, i) => {
    const j = order.indexOf(axis);
    if (j === i) return;
    moves.push([prod(order.slice(0, i)), prod(order.slice(i, j)), shape[axis]!, prod(order.slice(j + 1))]);
    order = [...order.slice(0, i), axis, ...order.slice(i, j), ...order.slice(j + 1)];
  });
  return moves;
}

/**
 * Transpose that avoids wasm's generic rank-5+ loop (~20x slower than its rank-≤4 paths,
 * e.g. the [B,N,3,H,d] → [3,B,H,N,d] split of fused q/k/v). The permutation is first
 * reduced; what stays above rank 3 is done as a chain of single-axis moves.
 */
function stepwiseTranspose(original: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { perm } = args.attrs as { perm: number[] };
    const outShape = perm.map((axis) => x.shape[axis]!);
    const reduced = reduceTranspose(x.shape, perm);
    if (reduced.shape.length <= 3) {
      const out = original({ ...args, inputs: { x: { ...x, shape: reduced.shape } }, attrs: { perm: reduced.perm } }) as tf.TensorInfo;
      return { ...out, shape: outShape };
    }
    const backend = args.backend as WasmBackend;
    let current: tf.TensorInfo = x;
    for (const view of transposeMoves(reduced.shape, reduced.perm)) {
      const next = original({ ...args, inputs: { x: { ...current, shape: view } }, attrs: { perm: [0, 2, 1, 3] } }) as tf.TensorInfo;
      if (current !== x) backend.disposeData(current.dataId);
      current = next;
    }
    return { ...current, shape: outShape };
  };
}

/** The product `op(x, transposeX) · op(y, transposeY)` as a deferred gradient term. */
function product(x: tf.Tensor, y: tf.Tensor, tx: boolean, ty: boolean): () => tf.Tensor {
  return () => tf.matMul(x, y, tx, ty);
}

/**
 * Sums a gradient over the batch axes its input was broadcast along, so that `g` gets the
 * input's `shape` ([5,8] · [3,8,6] → dA summed over the 3 products).
 */
export function sumToShape(g: tf.Tensor, shape: readonly number[]): tf.Tensor {
  const lead = g.rank - shape.length;
  const axes = g.shape.map((_, i) => i).filter((i) => i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1));
  return axes.length ? g.sum(axes).reshape([...shape]) : g;
}

/**
 * Gradient of BatchMatMul for all transpose flags (dA = dY·Bᵀ, dB = Aᵀ·dY and their
 * transposed variants), plus the reduction over broadcast batch axes that tfjs 4.22's
 * own gradient lacks (it fails with "gradient of input 'a' has shape [3,5,8]..." for a
 * [1,5,8] · [3,8,6] product, on every back-end).
 */
const batchMatMulGradient: tf.GradConfig = {
  kernelName: "BatchMatMul",
  inputsToSave: ["a", "b"],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const [a, b] = saved as [tf.Tensor, tf.Tensor];
    const d = dy as tf.Tensor;
    const { transposeA: ta, transposeB: tb } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const [da, db] = !ta && !tb
      ? [product(d, b, false, true), product(a, d, true, false)]
      : !ta && tb
        ? [product(d, b, false, false), product(d, a, true, false)]
        : ta && !tb
          ? [product(b, d, false, true), product(a, d, false, false)]
          : [product(b, d, true, true), product(d, a, true, true)];
    return { a: () => sumToShape(da(), a.shape), b: () => sumToShape(db(), b.shape) };
  },
};
