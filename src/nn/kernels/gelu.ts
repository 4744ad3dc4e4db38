/**
 * Exact GELU, x·Φ(x), as one wasm kernel and one gradient kernel (JS loops on the heap).
 *
 * Why: from tf ops it is five passes (mul, erf, add, mul, mul) and tfjs-backend-wasm's Erf
 * is a scalar loop; its gradient by autodiff is about ten more passes (erf's derivative
 * builds exp(−x²) from Square/Neg/Exp). Here the forward is one pass and the gradient
 * dx = dy·(Φ(x) + x·φ(x)) another.
 *
 * Φ and GELU' = Φ + x·φ are read from tables (1024 samples per unit on [−8, 8], built once
 * in double precision, linear interpolation): evaluating erf per element — even a
 * polynomial one with a hand-made exp — measured several times slower in V8 than wasm's
 * Erf, while a table read is a few arithmetic operations. Interpolation error is
 * h²/8·max|f''| with h = 1/1024: ≤ 3e-8 for Φ (GELU error ≤ 3e-8·|x|) and ≤ 7e-8 for
 * GELU'. Outside [−8, 8] the limits are exact in float32: Φ = 1 (GELU = x, GELU' = 1)
 * above, 0 below.
 */
import * as tf from "@tensorflow/tfjs";
import { f32, heapBackend, type KernelArgs } from "./heap.ts";
import { INV_SQRT_2PI, normalCdfExact, sampleFunction } from "./fast_math.ts";

export const GELU = "CrystalGelu";
export const GELU_GRAD = "CrystalGeluGrad";

const RANGE = 8;
const PER_UNIT = 1024;
/** Φ(x), and GELU'(x) = Φ(x) + x·φ(x), sampled on [−RANGE, RANGE]. */
const CDF = sampleFunction(normalCdfExact, RANGE, PER_UNIT).values;
const SLOPE = sampleFunction((x) => normalCdfExact(x) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x), RANGE, PER_UNIT).values;

function geluLoop(x: Float32Array, y: Float32Array): void {
  for (let i = 0, n = x.length; i < n; i++) {
    const v = x[i]!;
    if (v > -RANGE && v < RANGE) {
      const t = (v + RANGE) * PER_UNIT;
      const k = t | 0;
      const lo = CDF[k]!;
      y[i] = v * (lo + (t - k) * (CDF[k + 1]! - lo));
    } else {
      y[i] = v >= RANGE ? v : v <= -RANGE ? 0 : v; // the last case is NaN, kept
    }
  }
}

function geluGradLoop(dy: Float32Array, x: Float32Array, dx: Float32Array): void {
  for (let i = 0, n = x.length; i < n; i++) {
    const v = x[i]!;
    if (v > -RANGE && v < RANGE) {
      const t = (v + RANGE) * PER_UNIT;
      const k = t | 0;
      const lo = SLOPE[k]!;
      dx[i] = dy[i]! * (lo + (t - k) * (SLOPE[k + 1]! - lo));
    } else {
      dx[i] = v >= RANGE ? dy[i]! : v <= -RANGE ? 0 : v;
    }
  }
}

function geluKernel(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const backend = heapBackend(args);
  const out = backend.makeOutput([...x.shape], "float32");
  geluLoop(f32(backend, x), f32(backend, out));
  return out;
}

function geluGradKernel(args: KernelArgs): tf.TensorInfo {
  const { dy, x } = args.inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  const backend = heapBackend(args);
  const out = backend.makeOutput([...x.shape], "float32");
  geluGradLoop(f32(backend, dy), f32(backend, x), f32(backend, out));
  return out;
}

export const geluKernels: tf.KernelConfig[] = [
  { kernelName: GELU, backendName: "wasm", kernelFunc: geluKernel as tf.KernelFunc },
  { kernelName: GELU_GRAD, backendName: "wasm", kernelFunc: geluGradKernel as tf.KernelFunc },
];

export const geluGradient: tf.GradConfig = {
  kernelName: GELU,
  inputsToSave: ["x"],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
    const [x] = saved as [tf.Tensor];
    return { x: () => tf.engine().runKernel(GELU_GRAD, { dy: dy as tf.Tensor, x }) as tf.Tensor };
  },
};

/** Composite GELU from tf ops: the reference, and the path on non-wasm back-ends. */
export function geluReference(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)));
}

/** Exact GELU ½x(1 + erf(x/√2)): one fused kernel on wasm (float32), tf ops elsewhere. */
export function geluOp(x: tf.Tensor): tf.Tensor {
  if (tf.getBackend() === "wasm" && x.dtype === "float32" && tf.getKernel(GELU, "wasm")) {
    return tf.engine().runKernel(GELU, { x }) as tf.Tensor;
  }
  return geluReference(x);
}
