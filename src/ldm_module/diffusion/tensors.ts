/**
 * Small tensor helpers of the diffusion: reading timesteps, gathering per-timestep
 * coefficients into broadcastable [B, 1, 1] tensors, checking shapes, drawing noise.
 * Coefficients are gathered in JavaScript from the float64 schedule and only then rounded to
 * float32, so the tensors carry the exact schedule (ADM rounds the same way).
 */
import { tf } from "../../nn/tf.ts";
import { DiffusionError } from "./errors.ts";
import type { NoiseFn, Timesteps } from "./types.ts";

/** Unseeded standard normal noise; pass a seeded `NoiseFn` for reproducible runs. */
export const defaultNoise: NoiseFn = (shape) => tf.randomNormal(shape);

/** Timestep indices of a batch as an Int32Array, checked to be integers in [0, numTimesteps). */
export function readTimesteps(t: Timesteps, batch: number, numTimesteps: number): Int32Array {
  const values = t instanceof tf.Tensor ? checkTimestepTensor(t).dataSync() : t;
  if (values.length !== batch) {
    throw new DiffusionError(`timesteps: got ${values.length} values for a batch of ${batch}; pass one timestep per sample.`);
  }
  const out = new Int32Array(batch);
  for (let i = 0; i < batch; i++) {
    const v = Number(values[i]);
    if (!Number.isInteger(v) || v < 0 || v >= numTimesteps) {
      throw new DiffusionError(
        `timesteps[${i}] = ${v} is not an integer in [0, ${numTimesteps}); ` +
          "for a respaced diffusion pass indices into its kept steps, not original timesteps.",
      );
    }
    out[i] = v;
  }
  return out;
}

function checkTimestepTensor(t: tf.Tensor): tf.Tensor {
  if (t.rank !== 1) throw new DiffusionError(`timesteps tensor has shape [${t.shape}]; pass a 1-D tensor [B].`);
  return t;
}

/** The same timestep for every sample of a batch. */
export function fullTimesteps(t: number, batch: number): Int32Array {
  return new Int32Array(batch).fill(t);
}

/** coefficients[t_b] for every sample b, as a float32 [B, 1, 1] tensor. */
export function gatherCoefficient(coefficients: ArrayLike<number>, idx: Int32Array): tf.Tensor3D {
  return tf.tensor3d(Float32Array.from(idx, (i) => coefficients[i]), [idx.length, 1, 1], "float32");
}

/** Per-sample float64 values as a float32 [B, 1, 1] tensor. */
export function perSample(values: ArrayLike<number>): tf.Tensor3D {
  return tf.tensor3d(Float32Array.from(values), [values.length, 1, 1], "float32");
}

/** Throws unless `x` is a rank-3 latent batch [B, N, C]. */
export function checkLatents(x: tf.Tensor, name: string): tf.Tensor3D {
  if (x.rank !== 3) {
    throw new DiffusionError(`${name} has shape [${x.shape}]; latents must be [batch, atoms, channels].`);
  }
  return x as tf.Tensor3D;
}

/** Throws unless the mask is [B, N] for latents [B, N, C]. */
export function checkMask(mask: tf.Tensor | undefined, x: tf.Tensor3D): void {
  if (!mask) return;
  if (mask.rank !== 2 || mask.shape[0] !== x.shape[0] || mask.shape[1] !== x.shape[1]) {
    throw new DiffusionError(`mask has shape [${mask.shape}] for latents [${x.shape}]; pass a [batch, atoms] mask (1 = real atom).`);
  }
}

/** Throws unless two shapes are equal. */
export function checkSameShape(a: readonly number[], b: readonly number[], what: string): void {
  if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
    throw new DiffusionError(`${what} has shape [${a}], expected [${b}].`);
  }
}

/** A noise tensor of `shape`: the given tensor (checked), or a draw from the generator. */
export function resolveNoise(noise: tf.Tensor | NoiseFn | undefined, shape: number[]): tf.Tensor {
  const n = noise instanceof tf.Tensor ? noise : (noise ?? defaultNoise)(shape);
  checkSameShape(n.shape, shape, "noise");
  return n;
}

/**
 * `tf.tidy` for functions returning typed objects of tensors (tfjs types `tidy` with an
 * index-signature container, which interfaces do not satisfy); disposal is unchanged.
 */
export function tidy<T>(fn: () => T): T {
  return tf.tidy(fn as unknown as () => tf.TensorContainer) as unknown as T;
}
