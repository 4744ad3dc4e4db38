/**
 * Layer normalisation over the last axis as one wasm kernel (forward) and one gradient
 * kernel, both JS loops on the heap.
 *
 * Why: built from tf ops (moments, sub, mul, rsqrt, mul, add) a LayerNorm on wasm is
 * eight passes, and the two that broadcast a [rows, 1] statistic over [rows, cols]
 * (Sub, Multiply) fall off XNNPACK onto wasm's generic broadcasting loop — profiled at
 * 10–17% of the benchmark transformer's forward pass; its autodiff gradient is more passes
 * still. Here the forward reads each row twice (statistics, output) and the gradient
 * three times.
 *
 * Numerics: mean and (biased) variance are accumulated in float64 per row, so the result
 * matches `nn.LayerNorm` to float32 rounding. The gradient recomputes the row statistics
 * from x (two passes, mean then squared deviations) instead of saving them, so the kernel
 * keeps a single output.
 *
 * Measured (quiet 2-core Xeon, [64, 20, 256]): forward on par with the tf-op version,
 * forward + backward 1.1–1.9x faster; the gain is the gradient.
 */
import * as tf from "@tensorflow/tfjs";
import { f32, heapBackend, sizeOf, type KernelArgs } from "./heap.ts";

export const LAYER_NORM = "CrystalLayerNorm";
export const LAYER_NORM_GRAD = "CrystalLayerNormGrad";

interface Stats {
  mean: number;
  rstd: number;
}

/** Mean and 1/√(var + eps) of x[offset, offset + cols). */
function rowStats(x: Float32Array, offset: number, cols: number, eps: number): Stats {
  let sum = 0;
  for (let j = 0; j < cols; j++) sum += x[offset + j]!;
  const mean = sum / cols;
  let sq = 0;
  for (let j = 0; j < cols; j++) {
    const d = x[offset + j]! - mean;
    sq += d * d;
  }
  return { mean, rstd: 1 / Math.sqrt(sq / cols + eps) };
}

/**
 * y = (x − mean)·rstd·γ + β, row by row: one pass for Σx and Σx² (float64, so the
 * E[x²] − mean² form loses nothing for activations whose |mean|/std is below ~1e5), one
 * for the output. No per-row objects: this loop runs 1280 rows per call in the benchmark.
 */
function layerNormRows(x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array, cols: number, eps: number): void {
  for (let offset = 0; offset < x.length; offset += cols) {
    let sum = 0;
    let sq = 0;
    for (let j = offset, end = offset + cols; j < end; j++) {
      const v = x[j]!;
      sum += v;
      sq += v * v;
    }
    const mean = sum / cols;
    const rstd = 1 / Math.sqrt(Math.max(sq / cols - mean * mean, 0) + eps);
    for (let j = 0; j < cols; j++) y[offset + j] = (x[offset + j]! - mean) * rstd * gamma[j]! + beta[j]!;
  }
}

/**
 * With x̂ = (x − mean)·rstd and g = dy·γ: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)),
 * dγ = Σ_rows dy·x̂, dβ = Σ_rows dy. dγ and dβ accumulate in float64.
 */
function layerNormGradRows(
  dy: Float32Array, x: Float32Array, gamma: Float32Array, dx: Float32Array,
  dGamma: Float64Array, dBeta: Float64Array, cols: number, eps: number,
): void {
  for (let offset = 0; offset < x.length; offset += cols) {
    const { mean, rstd } = rowStats(x, offset, cols, eps);
    let sumG = 0;
    let sumGX = 0;
    for (let j = 0; j < cols; j++) {
      const d = dy[offset + j]!;
      const xHat = (x[offset + j]! - mean) * rstd;
      const g = d * gamma[j]!;
      sumG += g;
      sumGX += g * xHat;
      dGamma[j]! += d * xHat;
      dBeta[j]! += d;
    }
    const meanG = sumG / cols;
    const meanGX = sumGX / cols;
    for (let j = 0; j < cols; j++) {
      const xHat = (x[offset + j]! - mean) * rstd;
      dx[offset + j] = rstd * (dy[offset + j]! * gamma[j]! - meanG - xHat * meanGX);
    }
  }
}

function layerNormKernel(args: KernelArgs): tf.TensorInfo {
  const { x, gamma, beta } = args.inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo };
  const { eps } = args.attrs as unknown as { eps: number };
  const backend = heapBackend(args);
  const out = backend.makeOutput([...x.shape], "float32");
  const cols = x.shape[x.shape.length - 1]!;
  if (sizeOf(x.shape) > 0) layerNormRows(f32(backend, x), f32(backend, gamma), f32(backend, beta), f32(backend, out), cols, eps);
  return out;
}

function layerNormGradKernel(args: KernelArgs): tf.TensorInfo[] {
  const { dy, x, gamma } = args.inputs as { dy: tf.TensorInfo; x: tf.TensorInfo; gamma: tf.TensorInfo };
  const { eps } = args.attrs as unknown as { eps: number };
  const backend = heapBackend(args);
  const cols = x.shape[x.shape.length - 1]!;
  const dx = backend.makeOutput([...x.shape], "float32");
  const dGammaOut = backend.makeOutput([cols], "float32");
  const dBetaOut = backend.makeOutput([cols], "float32");
  const dGamma = new Float64Array(cols);
  const dBeta = new Float64Array(cols);
  if (sizeOf(x.shape) > 0) layerNormGradRows(f32(backend, dy), f32(backend, x), f32(backend, gamma), f32(backend, dx), dGamma, dBeta, cols, eps);
  f32(backend, dGammaOut).set(dGamma);
  f32(backend, dBetaOut).set(dBeta);
  return [dx, dGammaOut, dBetaOut];
}

export const layerNormKernels: tf.KernelConfig[] = [
  { kernelName: LAYER_NORM, backendName: "wasm", kernelFunc: layerNormKernel as tf.KernelFunc },
  { kernelName: LAYER_NORM_GRAD, backendName: "wasm", kernelFunc: layerNormGradKernel as unknown as tf.KernelFunc },
];

export const layerNormGradient: tf.GradConfig = {
  kernelName: LAYER_NORM,
  inputsToSave: ["x", "gamma"],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const [x, gamma] = saved as [tf.Tensor, tf.Tensor];
    // One kernel call gives all three. It runs eagerly: tfjs calls each returned closure
    // inside its own tidy, which would dispose siblings computed lazily by the first one.
    const [dx, dGamma, dBeta] = tf.engine().runKernel(LAYER_NORM_GRAD, { dy: dy as tf.Tensor, x, gamma }, attrs) as tf.Tensor[];
    return { x: () => dx!, gamma: () => dGamma!, beta: () => dBeta! };
  },
};

/** Composite LayerNorm from tf ops: the reference, and the path on non-wasm back-ends. */
export function layerNormReference(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), gamma), beta);
  });
}

/**
 * LayerNorm over the last axis: y = (x − mean)/√(var + eps)·γ + β with the biased
 * variance (`nn.LayerNorm`). One fused kernel on wasm (float32), tf ops elsewhere.
 */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  const cols = x.shape[x.rank - 1];
  const fits = x.rank >= 1 && gamma.rank === 1 && beta.rank === 1 && gamma.size === cols && beta.size === cols;
  if (fits && tf.getBackend() === "wasm" && x.dtype === "float32" && tf.getKernel(LAYER_NORM, "wasm")) {
    return tf.engine().runKernel(LAYER_NORM, { x, gamma, beta }, { eps }) as tf.Tensor;
  }
  return layerNormReference(x, gamma, beta, eps);
}
