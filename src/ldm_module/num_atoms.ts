/**
 * How many atoms a generated structure gets: drawn from the training set's histogram of
 * site counts (as Chemeleon2 samples `num_atoms` for de novo generation), with the run's
 * seeded generator, so the same seed gives the same sizes.
 *
 *     const sampler = NumAtomsSampler.fromStructures(trainStructures);
 *     sampler.sample(100, rng.fork("num_atoms"));        // e.g. [8, 4, 12, ...]
 *
 * The histogram travels with the LDM checkpoint (`toJSON` / `fromJSON`), so sampling from a
 * checkpoint needs no data set.
 */
import { BatchError } from "../crystal/errors.ts";
import type { Structure } from "../crystal/structure.ts";
import { numAtomsDistribution, type DatasetRecord, type NumAtomsDistribution } from "../data/datasets.ts";
import type { Rng } from "../nn/rng.ts";

/** Serialised form: site counts and how often each occurs. */
export interface NumAtomsHistogram {
  numAtoms: number[];
  counts: number[];
}

export class NumAtomsSampler {
  readonly numAtoms: readonly number[];
  readonly counts: readonly number[];
  /** Cumulative probabilities (last entry exactly 1). */
  private readonly cdf: Float64Array;

  constructor(histogram: NumAtomsHistogram) {
    const { numAtoms, counts } = histogram;
    if (!Array.isArray(numAtoms) || numAtoms.length === 0 || numAtoms.length !== counts?.length) {
      throw new BatchError("NumAtomsSampler: the histogram needs equally long, non-empty numAtoms and counts arrays.");
    }
    numAtoms.forEach((n, i) => {
      if (!Number.isInteger(n) || n < 1) throw new BatchError(`NumAtomsSampler: numAtoms[${i}] = ${n} is not a positive integer.`);
      if (!(counts[i] >= 0)) throw new BatchError(`NumAtomsSampler: counts[${i}] = ${counts[i]} is negative or not a number.`);
    });
    const total = counts.reduce((a, b) => a + b, 0);
    if (!(total > 0)) throw new BatchError("NumAtomsSampler: all counts are zero; build it from a non-empty data set.");
    this.numAtoms = [...numAtoms];
    this.counts = [...counts];
    let acc = 0;
    this.cdf = Float64Array.from(counts, (c) => (acc += c) / total);
    this.cdf[this.cdf.length - 1] = 1;
  }

  static fromDistribution(d: NumAtomsDistribution): NumAtomsSampler {
    return new NumAtomsSampler({ numAtoms: d.numAtoms, counts: d.counts });
  }

  static fromStructures(items: Iterable<DatasetRecord | Structure>): NumAtomsSampler {
    return NumAtomsSampler.fromDistribution(numAtomsDistribution(items));
  }

  static fromJSON(json: unknown): NumAtomsSampler {
    if (!json || typeof json !== "object") throw new BatchError("NumAtomsSampler.fromJSON: expected { numAtoms: number[], counts: number[] }.");
    return new NumAtomsSampler(json as NumAtomsHistogram);
  }

  toJSON(): NumAtomsHistogram {
    return { numAtoms: [...this.numAtoms], counts: [...this.counts] };
  }

  /** Largest site count that can be drawn. */
  get maxAtoms(): number {
    return Math.max(...this.numAtoms);
  }

  /** Probability of each site count (in `numAtoms` order). */
  get probabilities(): number[] {
    const total = this.counts.reduce((a, b) => a + b, 0);
    return this.counts.map((c) => c / total);
  }

  /** `n` site counts, drawn independently by inverse-CDF from `rng.uniform()`. */
  sample(n: number, rng: Rng): number[] {
    if (!Number.isInteger(n) || n < 0) throw new BatchError(`NumAtomsSampler.sample: n must be a non-negative integer, got ${n}.`);
    return Array.from({ length: n }, () => this.numAtoms[this.index(rng.uniform())]);
  }

  /** First bin whose cumulative probability exceeds u (binary search). */
  private index(u: number): number {
    let lo = 0;
    let hi = this.cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cdf[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
