/**
 * Latent statistics for the LDM's normalisation.
 *
 * The seed divides latents by a standard deviation measured on its first training batch. We
 * measure it on the whole training set instead (every real atom's posterior-mean latent,
 * all latent dimensions pooled), which does not depend on which batch happened to come first;
 * the unbiased (n − 1) estimator, like `torch.std`. Means of the posterior (not samples) are
 * used, because that is what `encode(batch, { sample: false })` hands the LDM.
 */
import { BatchError } from "../crystal/errors.ts";
import { toTensors, disposeBatch, type HostBatch } from "../data/batch.ts";
import type { VAEModule } from "./vae_module.ts";

export interface LatentStats {
  /** Unbiased std over all real-atom latent entries. */
  std: number;
  mean: number;
  /** Latent entries counted (atoms × latentDim). */
  count: number;
}

/** Running sums in float64 (a few hundred thousand entries: no precision concern). */
class Moments {
  n = 0;
  sum = 0;
  sumSq = 0;
  add(values: Float32Array | Int32Array | Uint8Array, mask: Float32Array, dim: number): void {
    for (let a = 0; a < mask.length; a++) {
      if (mask[a] === 0) continue;
      for (let k = 0; k < dim; k++) {
        const v = values[a * dim + k];
        this.n += 1;
        this.sum += v;
        this.sumSq += v * v;
      }
    }
  }
  stats(): LatentStats {
    const mean = this.sum / this.n;
    const variance = (this.sumSq - this.n * mean * mean) / (this.n - 1);
    return { std: Math.sqrt(Math.max(variance, 0)), mean, count: this.n };
  }
}

/** Encodes every batch (posterior means) and returns the pooled latent statistics. */
export function measureLatentStats(vae: VAEModule, batches: Iterable<HostBatch>): LatentStats {
  const moments = new Moments();
  const wasTraining = vae.training;
  vae.eval();
  try {
    for (const host of batches) {
      const batch = toTensors(host);
      const enc = vae.encode(batch, { sample: false });
      moments.add(enc.mean.dataSync() as Float32Array, host.mask, vae.config.latentDim);
      for (const t of [enc.mean, enc.logvar, enc.z]) t.dispose();
      disposeBatch(batch);
    }
  } finally {
    vae.train(wasTraining);
  }
  if (moments.n < 2) throw new BatchError("measureLatentStats: need at least two latent entries; pass a non-empty data set.");
  return moments.stats();
}

/** Convenience: the std only, stored on the module as `latentStd`. */
export function measureLatentStd(vae: VAEModule, batches: Iterable<HostBatch>): number {
  const { std } = measureLatentStats(vae, batches);
  vae.latentStd = std;
  return std;
}

