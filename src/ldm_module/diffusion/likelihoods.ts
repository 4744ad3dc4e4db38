/**
 * Elementwise Gaussian divergences and likelihoods for the variational bound, plus the masked
 * per-sample mean every loss term is reduced with. All in nats unless a name says bits.
 */
import { tf } from "../../nn/tf.ts";

/**
 * KL(N(m₁, e^{l₁}) ‖ N(m₂, e^{l₂})) from the mean difference d = m₁ − m₂:
 *   ½(e^{l₁−l₂} − 1 − (l₁ − l₂) + d²e^{−l₂}).
 * Written with expm1 so that nearly equal variances (the usual case) do not cancel in float32.
 */
export function gaussianKlFromMeanDiff(meanDiff: tf.Tensor, logvar1: tf.Tensor, logvar2: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const dl = tf.sub(logvar1, logvar2);
    const varTerm = tf.sub(tf.expm1(dl), dl);
    const meanTerm = tf.mul(tf.square(meanDiff), tf.exp(tf.neg(logvar2)));
    return tf.mul(0.5, tf.add(varTerm, meanTerm));
  });
}

/** KL(N(mean1, e^{logvar1}) ‖ N(mean2, e^{logvar2})), elementwise. */
export function normalKl(mean1: tf.Tensor, logvar1: tf.Tensor, mean2: tf.Tensor, logvar2: tf.Tensor): tf.Tensor {
  return tf.tidy(() => gaussianKlFromMeanDiff(tf.sub(mean1, mean2), logvar1, logvar2));
}

/** Φ(x) by the tanh approximation ADM uses (0.5(1 + tanh(√(2/π)(x + 0.044715x³)))). */
export function approxStandardNormalCdf(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
    return tf.mul(0.5, tf.add(1, tf.tanh(inner)));
  });
}

/**
 * log-probability of data x under N(mean, e^{2·logScale}) discretised into 256 bins of width
 * 2/255 over [−1, 1] (ADM's decoder for 8-bit images). Values below −0.999 / above 0.999 take
 * the whole lower / upper tail. Probabilities are floored at 1e-12 before the log.
 */
export function discretizedGaussianLogLikelihood(x: tf.Tensor, mean: tf.Tensor, logScale: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const centered = tf.sub(x, mean);
    const invStd = tf.exp(tf.neg(logScale));
    const cdfPlus = approxStandardNormalCdf(tf.mul(invStd, tf.add(centered, 1 / 255)));
    const cdfMin = approxStandardNormalCdf(tf.mul(invStd, tf.sub(centered, 1 / 255)));
    const logCdfPlus = tf.log(tf.maximum(cdfPlus, 1e-12));
    const logOneMinusCdfMin = tf.log(tf.maximum(tf.sub(1, cdfMin), 1e-12));
    const logCdfDelta = tf.log(tf.maximum(tf.sub(cdfPlus, cdfMin), 1e-12));
    const upper = tf.where(tf.greater(x, 0.999), logOneMinusCdfMin, logCdfDelta);
    return tf.where(tf.less(x, -0.999), logCdfPlus, upper);
  });
}

/** Continuous Gaussian log-density of x under N(mean, e^{2·logScale}). */
export function gaussianLogLikelihood(x: tf.Tensor, mean: tf.Tensor, logScale: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const z = tf.mul(tf.sub(x, mean), tf.exp(tf.neg(logScale)));
    return tf.neg(tf.add(tf.add(tf.mul(0.5, tf.square(z)), logScale), 0.5 * Math.log(2 * Math.PI)));
  });
}

/**
 * Per-sample mean of v [B, N, C] over the real atoms' entries (mask [B, N], 1 = real):
 * Σ mask·v / (C·Σ mask). Without a mask, the plain mean over N and C (ADM's `mean_flat`).
 * A sample with no real atom gives NaN, which flags the bad batch instead of hiding it.
 */
export function maskedMeanFlat(v: tf.Tensor3D, mask?: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    if (!mask) return tf.mean(v, [1, 2]) as tf.Tensor1D;
    const m = tf.cast(mask, "float32");
    const total = tf.sum(tf.mul(v, tf.expandDims(m, 2)), [1, 2]);
    return tf.div(total, tf.mul(tf.sum(m, 1), v.shape[2])) as tf.Tensor1D;
  });
}

/**
 * The identity whose gradient is zero (PyTorch's `.detach()` inside a differentiated
 * function): the vb term trains the variance only, not the ε prediction through the mean.
 */
export const stopGradient = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.mul(x, 1),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;
