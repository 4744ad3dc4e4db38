/**
 * Tensor features and targets of the crystal VAE (pure functions of a CrystalBatch).
 *
 * Periodicity. A fractional coordinate x and x + 1 are the same point, so the model never
 * sees or predicts x itself:
 *   - input:  Fourier features sin(2πk·x), cos(2πk·x) for k = 1..K (periodic by construction);
 *   - output: per coordinate a 2-vector trained towards (cos 2πx, sin 2πx); the coordinate is
 *     read back as atan2(s, c) / 2π wrapped into [0, 1). The loss (MSE between the vectors) is
 *     smooth across the cell boundary, unlike a plain MSE on x, and needs no wrap trick.
 *
 * Lattice. Lengths are divided by n^(1/3) (n = sites) so that cells of different sizes share
 * one scale (the seed's preprocessing); angles are used in radians (so the seed's angle loss
 * weight 10 is applied to errors of order 0.1 rad rather than degrees²).
 */
import { tf } from "../nn/tf.ts";

const DEG = Math.PI / 180;

/** [B, N, 3] fractional coordinates → [B, N, 6K]: sin then cos of 2πk·x, k = 1..K. */
export function fourierFeatures(frac: tf.Tensor, numFrequencies: number): tf.Tensor {
  return tf.tidy(() => {
    const [b, n] = frac.shape;
    const freqs = tf.tensor1d(Array.from({ length: numFrequencies }, (_, k) => 2 * Math.PI * (k + 1)));
    // [B, N, 3, 1] · [K] → [B, N, 3, K]
    const args = tf.mul(tf.expandDims(frac, -1), freqs);
    const feats = tf.concat([tf.sin(args), tf.cos(args)], -1);
    return tf.reshape(feats, [b, n, 6 * numFrequencies]);
  });
}

/** Per-structure atom count as float [B, 1] (at least 1 so padded rows never divide by 0). */
export function atomCounts(mask: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.maximum(tf.sum(mask, 1, true), 1));
}

/** Lengths / n^(1/3): [B, 3]. */
export function scaledLengths(lengths: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.div(lengths, tf.pow(atomCounts(mask), 1 / 3)));
}

/** Angles in radians: [B, 3]. */
export function anglesRadians(anglesDeg: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(anglesDeg, DEG));
}

/** The encoder's lattice features [B, 6]: scaled lengths and angles in radians. */
export function latticeFeatures(lengths: tf.Tensor, anglesDeg: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.concat([scaledLengths(lengths, mask), anglesRadians(anglesDeg)], 1));
}

/** Coordinate targets [B, N, 3, 2]: (cos 2πx, sin 2πx) per coordinate. */
export function coordTargets(frac: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const a = tf.mul(frac, 2 * Math.PI);
    return tf.stack([tf.cos(a), tf.sin(a)], -1);
  });
}

/** Class index of each site: Z − 1, padding (Z = 0) mapped to class 0 (masked out anyway). */
export function typeIndices(atomTypes: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.maximum(tf.sub(tf.cast(atomTypes, "int32"), tf.scalar(1, "int32")), tf.scalar(0, "int32")));
}

/** Masked mean over sites: [B, N, D] with mask [B, N] → [B, D]. */
export function maskedMean(x: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.div(tf.sum(tf.mul(x, tf.expandDims(mask, -1)), 1), atomCounts(mask)));
}
