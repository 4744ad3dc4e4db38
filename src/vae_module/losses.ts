/**
 * The VAE loss terms (names and weights as the seed: atom_types, lengths, angles,
 * frac_coords, kl). Every per-atom term is averaged over real (unmasked) atoms only.
 *   - atom_types:  cross-entropy of the element logits;
 *   - frac_coords: squared error between predicted and target (cos 2πx, sin 2πx) vectors,
 *                  summed over the 3 coordinates' pairs and averaged over atoms;
 *   - lengths:     MSE of lengths / n^(1/3) (Å);
 *   - angles:      MSE of the angles in radians;
 *   - kl:          KL(q(z|x) ‖ N(0, I)) summed over the latent dimension, averaged over atoms.
 */
import { tf } from "../nn/tf.ts";
import type { VAELossWeights } from "./config.ts";
import type { VAEPredictions } from "./decoder.ts";
import { anglesRadians, coordTargets, scaledLengths, typeIndices } from "./features.ts";

export type VAELossName = keyof VAELossWeights;
export const VAE_LOSS_NAMES: readonly VAELossName[] = ["atom_types", "lengths", "angles", "frac_coords", "kl"];

/** Scalar tensors, one per term, plus the weighted total `loss`. */
export type VAELossTensors = Record<VAELossName | "loss", tf.Scalar>;

export interface LossInputs {
  atomTypes: tf.Tensor;
  fracCoords: tf.Tensor;
  lengths: tf.Tensor;
  angles: tf.Tensor;
  mask: tf.Tensor;
  mean: tf.Tensor;
  logvar: tf.Tensor;
}

/** Average of per-atom values [B, N] over the real atoms. */
function atomMean(perAtom: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.div(tf.sum(tf.mul(perAtom, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar);
}

/** Per-atom cross-entropy [B, N] from logits [B, N, C] and class indices [B, N]. */
function crossEntropy(logits: tf.Tensor, classes: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const numClasses = logits.shape[logits.rank - 1];
    const logp = tf.logSoftmax(logits, -1);
    const onehot = tf.oneHot(tf.cast(classes, "int32"), numClasses);
    return tf.neg(tf.sum(tf.mul(logp, onehot), -1));
  });
}

/** All loss terms for one batch. */
export function vaeLosses(pred: VAEPredictions, x: LossInputs, w: VAELossWeights): VAELossTensors {
  return tf.tidy(() => {
    const atomTypes = atomMean(crossEntropy(pred.atomLogits, typeIndices(x.atomTypes)), x.mask);
    const coordErr = tf.sum(tf.squaredDifference(pred.coordVectors, coordTargets(x.fracCoords)), [2, 3]);
    const fracCoords = atomMean(coordErr, x.mask);
    const lengths = tf.mean(tf.squaredDifference(pred.scaledLengths, scaledLengths(x.lengths, x.mask))) as tf.Scalar;
    const angles = tf.mean(tf.squaredDifference(pred.angles, anglesRadians(x.angles))) as tf.Scalar;
    const klPerAtom = tf.mul(tf.sum(tf.sub(tf.add(tf.square(x.mean), tf.exp(x.logvar)), tf.add(x.logvar, 1)), -1), 0.5);
    const kl = atomMean(klPerAtom, x.mask);
    const loss = tf.addN([
      tf.mul(atomTypes, w.atom_types),
      tf.mul(lengths, w.lengths),
      tf.mul(angles, w.angles),
      tf.mul(fracCoords, w.frac_coords),
      tf.mul(kl, w.kl),
    ]) as tf.Scalar;
    return { atom_types: atomTypes, lengths, angles, frac_coords: fracCoords, kl, loss };
  }) as VAELossTensors;
}
