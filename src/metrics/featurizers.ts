/**
 * Feature vectors of crystals for the MMD diversity rewards and metrics, and reference
 * features of a data set cached on disk.
 *
 * A {@link Featurizer} maps structures to one fixed-length vector each. The seed's two:
 *  - structure features: mean over atoms of the VAE encoder's posterior mean (the latent
 *    "mode"), {@link VaeStructureFeaturizer};
 *  - composition features: mean over atoms of the encoder's atom-type embeddings,
 *    {@link VaeCompositionFeaturizer}.
 * Both take any VAE-like object (see {@link VaeLike}), so a trained `VAEModule` plugs in;
 * {@link vaeFeaturizers} builds the pair with ids from a hash of the weights
 * ({@link vaeWeightsId}), which is what `Metrics` uses when it knows a VAE.
 *
 * Without a VAE, two descriptor featurisers give real (if hand-made) features (the fallback
 * of `Metrics`):
 *  - {@link AmdStructureFeaturizer}: the first k AMD values divided by the cube root of the
 *    volume per atom (scale-free local geometry);
 *  - {@link ElementPropertyFeaturizer}: mean over atoms of a scaled element-property vector
 *    (Z, Pauling X, row, group, covalent radius, mass, block).
 * MMD values from different featurisers are not comparable; a featuriser's `id` names it in
 * cache files and logs.
 *
 * Reference features ({@link referenceFeatures}) are computed once per (data set, split,
 * featuriser id), subsampled to at most 50 000 rows like the seed, and written to
 * `<cacheDir>/<dataset>-<split>-<id>.json` atomically (default cacheDir:
 * `node_modules/.cache/crystal-grpo/features`); later calls read the file.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { averageMinimumDistance } from "../crystal/amd.ts";
import { getElement } from "../crystal/elements.ts";
import { RewardError } from "../crystal/errors.ts";
import type { Structure } from "../crystal/structure.ts";
import { collate, disposeBatch, type CrystalBatch } from "../data/batch.ts";
// Static, not `await import(...)`: under tslab (which runs cells as CommonJS) a dynamic import
// loads a second copy of the library, whose classes fail `instanceof` checks in this one.
import { loadDataset } from "../data/datasets.ts";
import { tf } from "../nn/tf.ts";

/** One feature vector per structure. */
export interface Featurizer {
  /** Stable identifier: names cache files; change it when the features change (new weights). */
  readonly id: string;
  /** Feature dimension. */
  readonly dim: number;
  featurize(structures: readonly Structure[]): Promise<Float32Array[]> | Float32Array[];
}

/** What the VAE featurisers need from a VAE (a `VAEModule` satisfies it). */
export interface VaeLike {
  encode(batch: CrystalBatch, opts: { sample?: boolean }): { mean: tf.Tensor; logvar: tf.Tensor; z: tf.Tensor };
  readonly encoder: { readonly atomEmbedding: { readonly weight: tf.Tensor } };
  readonly config: { readonly latentDim: number; readonly maxAtoms: number };
}

/**
 * A short fingerprint of a VAE's weights (sha256 of every parameter, by name, first 12 hex
 * digits), so that reference-feature cache files change whenever the weights do. A VAE that is
 * not an nn Module (no `namedParameters`) is fingerprinted by its atom embedding alone.
 */
export function vaeWeightsId(vae: VaeLike): string {
  const named = (vae as { namedParameters?: () => Map<string, tf.Tensor> }).namedParameters;
  const tensors = typeof named === "function" ? [...named.call(vae).entries()] : [["encoder.atomEmbedding.weight", vae.encoder.atomEmbedding.weight] as const];
  const hash = createHash("sha256");
  for (const [name, t] of [...tensors].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const data = t.dataSync();
    hash.update(`${name}:${t.shape.join("x")};`);
    hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return hash.digest("hex").slice(0, 12);
}

/** The seed's two MMD featurisers over one VAE, with ids from {@link vaeWeightsId}. */
export function vaeFeaturizers(vae: VaeLike): { structure: VaeStructureFeaturizer; composition: VaeCompositionFeaturizer } {
  const id = vaeWeightsId(vae);
  return { structure: new VaeStructureFeaturizer(vae, `vae-structure-${id}`), composition: new VaeCompositionFeaturizer(vae, `vae-composition-${id}`) };
}

/** Structure features: mean over atoms of the VAE posterior mean (the seed's structure features). */
export class VaeStructureFeaturizer implements Featurizer {
  readonly dim: number;

  /**
   * @param id e.g. "vae-mp20-<checkpoint step>" — must change when the weights change.
   * @param batchSize structures per encoder call (default 64).
   */
  constructor(
    private readonly vae: VaeLike,
    readonly id: string,
    private readonly batchSize = 64,
  ) {
    this.dim = vae.config.latentDim;
  }

  /**
   * Encodes in batches of similar size (sorted by site count, results returned in input order):
   * a batch is padded to its largest structure and attention costs grow with its square, so
   * this is ~1.5× faster on a 320-structure rollout than encoding in input order (measured).
   * @throws RewardError naming the structure when one has more sites than the VAE's maxAtoms.
   */
  featurize(structures: readonly Structure[]): Float32Array[] {
    const max = this.vae.config.maxAtoms;
    const big = structures.findIndex((s) => s.length > max);
    if (big >= 0) {
      throw new RewardError(`structure ${big} (${structures[big].composition.reducedFormula}) has ${structures[big].length} sites, more than the VAE's maxAtoms = ${max}; drop it or pass a descriptor structureFeaturizer (AmdStructureFeaturizer)`);
    }
    const order = structures.map((_, i) => i).sort((a, b) => structures[a].length - structures[b].length || a - b);
    const out = new Array<Float32Array>(structures.length);
    for (let start = 0; start < order.length; start += this.batchSize) {
      const idx = order.slice(start, start + this.batchSize);
      this.encodeMeans(idx.map((i) => structures[i])).forEach((f, k) => (out[idx[k]] = f));
    }
    return out;
  }

  /** Mean over each structure's atoms of the posterior mean, for one batch. */
  private encodeMeans(structures: readonly Structure[]): Float32Array[] {
    const batch = collate(structures, { maxAtoms: this.vae.config.maxAtoms });
    const enc = this.vae.encode(batch, { sample: false });
    const pooled = tf.tidy(() => tf.div(tf.sum(enc.mean, 1), tf.expandDims(tf.maximum(tf.sum(batch.mask, 1), 1), -1)));
    const data = pooled.dataSync();
    tf.dispose([pooled, enc.mean, enc.logvar, enc.z]);
    disposeBatch(batch);
    return structures.map((_, i) => Float32Array.from(data.subarray(i * this.dim, (i + 1) * this.dim)));
  }
}

/** Composition features: mean over atoms of the VAE encoder's atom-type embedding rows (Z − 1). */
export class VaeCompositionFeaturizer implements Featurizer {
  readonly dim: number;
  private readonly table: Float32Array;
  private readonly rows: number;

  constructor(vae: VaeLike, readonly id: string) {
    const w = vae.encoder.atomEmbedding.weight;
    [this.rows, this.dim] = w.shape as [number, number];
    // Frozen during RL, so one host copy serves every call.
    this.table = Float32Array.from(w.dataSync());
  }

  featurize(structures: readonly Structure[]): Float32Array[] {
    return structures.map((s) => {
      const f = new Float32Array(this.dim);
      for (const symbol of s.species) {
        const row = getElement(symbol).Z - 1;
        if (row >= this.rows) throw new RewardError(`${symbol} (Z = ${row + 1}) is beyond the VAE's ${this.rows} element embeddings; drop the structure`);
        for (let j = 0; j < this.dim; j++) f[j] += this.table[row * this.dim + j] / s.length;
      }
      return f;
    });
  }
}

/** First k AMD values over (V/N)^(1/3): a scale-free geometric fingerprint (no VAE needed). */
export class AmdStructureFeaturizer implements Featurizer {
  readonly id: string;

  constructor(readonly dim = 16) {
    if (!Number.isInteger(dim) || dim < 1) throw new RewardError(`AmdStructureFeaturizer: dim must be a positive integer, got ${dim}`);
    this.id = `amd${dim}`;
  }

  featurize(structures: readonly Structure[]): Float32Array[] {
    return structures.map((s) => {
      const unit = Math.cbrt(s.volumePerAtom);
      return Float32Array.from(averageMinimumDistance(s, this.dim), (v) => v / unit);
    });
  }
}

const BLOCKS = ["s", "p", "d", "f"];

/** Scaled property vector of one element (each entry roughly in [0, 1]). */
function elementVector(symbol: string): number[] {
  const e = getElement(symbol);
  const block = BLOCKS.map((b) => (e.block === b ? 1 : 0));
  const x = Number.isNaN(e.X) ? 0 : e.X / 4;
  return [e.Z / 100, x, e.row / 7, e.group / 18, (e.covalentRadius ?? 1.5) / 2.5, e.atomicMass / 250, ...block];
}

/** Mean over atoms of scaled element properties (no VAE needed). */
export class ElementPropertyFeaturizer implements Featurizer {
  readonly id = "element-properties";
  readonly dim = 10;
  private readonly cache = new Map<string, number[]>();

  featurize(structures: readonly Structure[]): Float32Array[] {
    return structures.map((s) => {
      const f = new Float32Array(this.dim);
      for (const symbol of s.species) {
        let v = this.cache.get(symbol);
        if (!v) this.cache.set(symbol, (v = elementVector(symbol)));
        for (let j = 0; j < this.dim; j++) f[j] += v[j] / s.length;
      }
      return f;
    });
  }
}

/** Rows of features as one float32 matrix. */
export interface FeatureMatrix {
  rows: number;
  dim: number;
  data: Float32Array;
}

/** Stacks per-structure vectors into a matrix; every vector must have `dim` finite entries. */
export function stackFeatures(vectors: readonly Float32Array[], dim: number, what = "features"): FeatureMatrix {
  const data = new Float32Array(vectors.length * dim);
  vectors.forEach((v, i) => {
    if (v.length !== dim) throw new RewardError(`${what}[${i}] has ${v.length} entries, expected ${dim}; the featuriser must return fixed-length vectors`);
    const bad = v.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) throw new RewardError(`${what}[${i}][${bad}] is ${v[bad]}; check the structure (overlapping atoms?) or the featuriser`);
    data.set(v, i * dim);
  });
  return { rows: vectors.length, dim, data };
}

export interface ReferenceFeatureOptions {
  dataset?: string;
  split?: string;
  /** Folder for cache files; default $CRYSTAL_GRPO_CACHE/features or `node_modules/.cache/crystal-grpo/features`. */
  cacheDir?: string;
  /** Subsample to at most this many rows (seeded, deterministic); default 50 000 as the seed. */
  maxRows?: number;
  /** Data-set folder (tests). */
  root?: string;
}

const FORMAT = "crystal-grpo/reference-features@1";
// node_modules/.cache is the usual home of tool caches, and already ignored by git.
const DEFAULT_CACHE = fileURLToPath(new URL("../../node_modules/.cache/crystal-grpo/features/", import.meta.url));
const memory = new Map<string, Promise<FeatureMatrix>>();

/** Default cache folder for reference features. */
export function featureCacheDir(): string {
  return process.env.CRYSTAL_GRPO_CACHE ? join(process.env.CRYSTAL_GRPO_CACHE, "features") : DEFAULT_CACHE;
}

/**
 * Reference features of a data set split (default MP-20 train) under `featurizer`, from the
 * disk cache when present, else computed and written atomically (temp file + rename).
 */
export function referenceFeatures(featurizer: Featurizer, options: ReferenceFeatureOptions = {}): Promise<FeatureMatrix> {
  const dataset = options.dataset ?? "mp_20";
  const split = options.split ?? "train";
  const safeId = featurizer.id.replace(/[^A-Za-z0-9_.-]/g, "_");
  const path = join(options.cacheDir ?? featureCacheDir(), `${dataset}-${split}-${safeId}.json`);
  let pending = memory.get(path);
  if (!pending) {
    pending = loadOrCompute(featurizer, path, dataset, split, options);
    memory.set(path, pending);
    pending.catch(() => memory.delete(path));
  }
  return pending;
}

async function loadOrCompute(f: Featurizer, path: string, dataset: string, split: string, o: ReferenceFeatureOptions): Promise<FeatureMatrix> {
  if (existsSync(path)) {
    const cached = readFeatureFile(path, f);
    if (cached) return cached;
  }
  const { records } = await loadDataset(dataset, split, { root: o.root });
  const structures = subsample(records.map((r) => r.structure), o.maxRows ?? 50_000);
  if (structures.length < 2) throw new RewardError(`${dataset}/${split} has ${structures.length} structures; reference features need at least 2`);
  const matrix = stackFeatures(await f.featurize(structures), f.dim, `${dataset}/${split} features`);
  writeFeatureFile(path, f.id, dataset, split, matrix);
  return matrix;
}

/** A seeded partial Fisher–Yates shuffle, so the subsample is the same in every run. */
function subsample<T>(items: T[], max: number): T[] {
  if (items.length <= max) return items;
  const a = items.slice();
  let state = 0x9e3779b9;
  for (let i = 0; i < max; i++) {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    const j = i + (state % (a.length - i));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, max);
}

function readFeatureFile(path: string, f: Featurizer): FeatureMatrix | null {
  const d = JSON.parse(readFileSync(path, "utf8"));
  if (d?.format !== FORMAT || d.featurizer !== f.id || d.dim !== f.dim) return null;
  const buf = Buffer.from(d.data, "base64");
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  if (data.length !== d.rows * d.dim) throw new RewardError(`${path} is truncated (${data.length} values for ${d.rows}×${d.dim}); delete it to recompute`);
  return { rows: d.rows, dim: d.dim, data };
}

function writeFeatureFile(path: string, id: string, dataset: string, split: string, m: FeatureMatrix): void {
  mkdirSync(join(path, ".."), { recursive: true });
  const data = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength).toString("base64");
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify({ format: FORMAT, featurizer: id, dataset, split, rows: m.rows, dim: m.dim, data }));
  renameSync(tmp, path);
}
