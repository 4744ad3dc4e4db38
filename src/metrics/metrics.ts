/**
 * Metrics of a set of generated crystals, under the seed's names:
 *
 *   unique, novel, e_above_hull, is_stable (e_above_hull ≤ 0), is_metastable (≤ 0.1 eV/atom),
 *   composition_validity (SMACT-style), structure_diversity, composition_diversity,
 *   sun (unique ∧ novel ∧ stable), msun (unique ∧ novel ∧ metastable).
 *
 * Per structure, a generated slot may be `null` (the decoder produced no valid crystal); such a
 * slot is not unique, not novel, not valid, has e_above_hull NaN and diversity NaN, and counts
 * as a failure in every rate (rates are over ALL slots, so decode failures lower them).
 * A structure with overlapping atoms (closer than the matcher's minSeparation, 0.01 Å) cannot
 * be matched, so it counts as neither unique nor novel; its other metrics are computed.
 *
 * Back-ends are built lazily, on the first metric that needs them:
 *  - the reference set (default MP-20 train), for novelty and creativity;
 *  - the energy calculator: an {@link EnergyModel} plus the data set's reference hull
 *    (formation energies, elements at 0; e_above_hull = E_form(model) − E_hull(composition)).
 *    Default model: the bundled CGCNN formation-energy predictor ({@link CgcnnEnergyModel.shared},
 *    loaded once per process). Other models by name — `"composition-linear"` (ridge on atom
 *    fractions, cannot tell polymorphs apart), `"reference-match"` (DFT energy of the matching
 *    data-set crystal, NaN for new ones) — or pass any EnergyModel / EAboveHullCalculator;
 *  - the MMD featurisers: the seed's VAE featurisers (posterior-mean and atom-embedding means,
 *    {@link vaeFeaturizers}) when a VAE is known — `vae` option, {@link Metrics.useVae}, or a
 *    reward context built with one — else the descriptor featurisers (AMD-16 + element
 *    properties), with the reason logged once. Featurisers passed as options always win.
 * A {@link MetricsCache} computes each metric once per generated set, which is how the reward
 * components share them.
 */
import { renameSync, writeFileSync } from "node:fs";
import { RewardError } from "../crystal/errors.ts";
import type { StructureMatcherOptions } from "../crystal/structure_matcher.ts";
import type { Structure } from "../crystal/structure.ts";
import { tf } from "../nn/tf.ts";
import { compositionValidity, type CompositionValidityOptions } from "./composition_validity.ts";
import { CgcnnEnergyModel } from "./cgcnn_energy_model.ts";
import { CompositionLinearEnergyModel, EAboveHullCalculator, loadReferenceHull, ReferenceMatchEnergyModel, type EnergyModel } from "./energy.ts";
import {
  AmdStructureFeaturizer, ElementPropertyFeaturizer, referenceFeatures, stackFeatures, vaeFeaturizers, type FeatureMatrix, type Featurizer, type VaeLike,
} from "./featurizers.ts";
import { mmdReward } from "./mmd.ts";
import { isUnique, ReferenceIndex } from "./novelty.ts";
// Static, not `await import(...)`: under tslab (which runs cells as CommonJS) a dynamic import
// loads a second copy of the library, whose classes fail `instanceof` checks in this one.
import { loadDataset } from "../data/datasets.ts";

/** The seed's per-structure metric names. */
export const METRIC_NAMES = [
  "unique", "novel", "e_above_hull", "is_stable", "is_metastable", "composition_validity",
  "structure_diversity", "composition_diversity", "sun", "msun",
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** Energy models `Metrics` builds by name (`energy: "<name>"`); "cgcnn" is the default. */
export const ENERGY_MODEL_NAMES = ["cgcnn", "composition-linear", "reference-match"] as const;
export type EnergyModelName = (typeof ENERGY_MODEL_NAMES)[number];

/** Where the MMD featurisers came from: options, a VAE, or the descriptor fallback. */
export type FeaturizerSource = "options" | "vae" | "descriptor";

const BOOLEAN_METRICS = new Set<MetricName>(["unique", "novel", "is_stable", "is_metastable", "composition_validity", "sun", "msun"]);

export interface MetricsOptions {
  /** Reference data set for novelty, the hull and reference features (seed: "mp-20"); default "mp_20". */
  referenceDataset?: string;
  /** Split of the reference data set used for novelty and features; default "train". */
  referenceSplit?: string;
  /** Explicit reference structures (instead of loading the data set split). */
  referenceStructures?: readonly Structure[];
  /** StructureMatcher options for unique/novel (pymatgen defaults otherwise). */
  matcher?: StructureMatcherOptions;
  /**
   * Energy back-end: a calculator, a model (then the data set's reference hull is used), or a
   * model name from {@link ENERGY_MODEL_NAMES}; default "cgcnn" (the bundled predictor).
   */
  energy?: EAboveHullCalculator | EnergyModel | EnergyModelName;
  /** Explicit MMD featurisers (each overrides the VAE / descriptor default for its kind). */
  structureFeaturizer?: Featurizer;
  compositionFeaturizer?: Featurizer;
  /** VAE for the seed's MMD featurisers (e.g. the LDM's VAE); see the module doc. */
  vae?: VaeLike;
  /** Where notices go (the descriptor-featuriser fallback); default console.warn. */
  log?: (message: string) => void;
  /** Precomputed reference feature matrices (skip the data set and disk cache). */
  referenceStructureFeatures?: FeatureMatrix;
  referenceCompositionFeatures?: FeatureMatrix;
  /** Folder for cached reference features. */
  featureCacheDir?: string;
  /** e_above_hull threshold (eV/atom) of is_metastable; default 0.1. */
  metastableThreshold?: number;
  /** Options of the SMACT-style validity test. */
  compositionValidity?: CompositionValidityOptions;
}

/** Per-sample MMD reward (NaN for null slots) and the set's −MMD². */
export interface DiversityResult {
  rIndiv: number[];
  r: number;
}

/** One row of the metrics table. */
export type MetricsRow = { index: number; formula: string | null } & Partial<Record<MetricName, number | boolean>>;

/** Data-set folder name for a seed-style name ("mp-20" → "mp_20"). */
export function datasetFolderName(name: string): string {
  return name.replace(/-/g, "_");
}

export class Metrics {
  readonly options: MetricsOptions;
  readonly referenceDataset: string;
  private refStructures?: Promise<readonly Structure[]>;
  private refIndex?: Promise<ReferenceIndex>;
  private energyCalc?: Promise<EAboveHullCalculator>;
  private byFormula?: Promise<Map<string, Structure[]>>;
  private vae?: VaeLike;
  private featurizerPair?: { structure: Featurizer; composition: Featurizer; source: FeaturizerSource };

  constructor(options: MetricsOptions = {}) {
    this.options = options;
    this.referenceDataset = datasetFolderName(options.referenceDataset ?? "mp_20");
    const t = options.metastableThreshold ?? 0.1;
    if (!Number.isFinite(t)) throw new RewardError(`metastableThreshold must be a finite number of eV/atom, got ${t}`);
    const e = options.energy;
    if (typeof e === "string" && !(ENERGY_MODEL_NAMES as readonly string[]).includes(e)) {
      throw new RewardError(`unknown energy model "${e}"; valid names: ${ENERGY_MODEL_NAMES.join(", ")} (or pass an EnergyModel / EAboveHullCalculator)`);
    }
    this.vae = options.vae;
  }

  /** Structure featuriser of the MMD metrics (resolved on first use; see the module doc). */
  get structureFeaturizer(): Featurizer {
    return this.featurizers().structure;
  }

  /** Composition featuriser of the MMD metrics (resolved on first use; see the module doc). */
  get compositionFeaturizer(): Featurizer {
    return this.featurizers().composition;
  }

  /** "options", "vae" or "descriptor": which featurisers the diversity metrics use. */
  get featurizerSource(): FeaturizerSource {
    return this.featurizers().source;
  }

  /**
   * Use `vae`'s encoder for the MMD features from now on (kinds not fixed by options). The RL
   * reward passes the LDM's VAE here; calling again with the same VAE is free.
   */
  useVae(vae: VaeLike): void {
    if (!vae || typeof vae.encode !== "function" || !vae.encoder?.atomEmbedding) {
      throw new RewardError("Metrics.useVae needs a VAE with encode(batch) and encoder.atomEmbedding (a VAEModule)");
    }
    if (vae === this.vae && this.featurizerPair) return;
    this.vae = vae;
    this.featurizerPair = undefined;
  }

  private featurizers(): { structure: Featurizer; composition: Featurizer; source: FeaturizerSource } {
    this.featurizerPair ??= this.resolveFeaturizers();
    return this.featurizerPair;
  }

  private resolveFeaturizers(): { structure: Featurizer; composition: Featurizer; source: FeaturizerSource } {
    const { structureFeaturizer: s, compositionFeaturizer: c } = this.options;
    if (s && c) return { structure: s, composition: c, source: "options" };
    if (this.vae) {
      const v = vaeFeaturizers(this.vae);
      return { structure: s ?? v.structure, composition: c ?? v.composition, source: s || c ? "options" : "vae" };
    }
    (this.options.log ?? console.warn)(
      "Metrics: no VAE given, so the MMD diversity features are the descriptor fallback (AMD-16 for structure, element properties for composition), " +
        "not the seed's VAE latents; pass { vae } (e.g. ldm.vae) or call metrics.useVae(vae) to use them.",
    );
    return { structure: s ?? new AmdStructureFeaturizer(16), composition: c ?? new ElementPropertyFeaturizer(), source: s || c ? "options" : "descriptor" };
  }

  get metastableThreshold(): number {
    return this.options.metastableThreshold ?? 0.1;
  }

  /** Reference structures (novelty and creativity), loaded once. */
  referenceStructures(): Promise<readonly Structure[]> {
    this.refStructures ??= this.options.referenceStructures
      ? Promise.resolve(this.options.referenceStructures)
      : loadDataset(this.referenceDataset, this.options.referenceSplit ?? "train").then(({ records }) => records.map((r) => r.structure));
    return this.refStructures;
  }

  /** Reference structures grouped by reduced formula (creativity's AMD comparison). */
  referenceByFormula(): Promise<Map<string, Structure[]>> {
    this.byFormula ??= this.referenceStructures().then((list) => {
      const map = new Map<string, Structure[]>();
      for (const s of list) {
        const key = s.composition.reducedFormula;
        map.set(key, [...(map.get(key) ?? []), s]);
      }
      return map;
    });
    return this.byFormula;
  }

  /** The novelty index over the reference structures, built once. */
  referenceIndex(): Promise<ReferenceIndex> {
    this.refIndex ??= this.referenceStructures().then((s) => ReferenceIndex.build(s, { matcher: this.options.matcher }));
    return this.refIndex;
  }

  /** The energy-above-hull calculator, built once (see the module doc for the default). */
  energy(): Promise<EAboveHullCalculator> {
    this.energyCalc ??= (async () => {
      const e = this.options.energy;
      if (e instanceof EAboveHullCalculator) return e;
      const model = typeof e === "object" && e !== null ? e : await namedEnergyModel(e ?? "cgcnn", this.referenceDataset);
      return new EAboveHullCalculator(model, await loadReferenceHull(this.referenceDataset));
    })();
    return this.energyCalc;
  }

  /** Reference features of one kind (given, or from the disk cache / data set). */
  referenceFeatures(kind: "structure" | "composition"): Promise<FeatureMatrix> {
    const given = kind === "structure" ? this.options.referenceStructureFeatures : this.options.referenceCompositionFeatures;
    if (given) return Promise.resolve(given);
    const f = kind === "structure" ? this.structureFeaturizer : this.compositionFeaturizer;
    return referenceFeatures(f, { dataset: this.referenceDataset, split: this.options.referenceSplit ?? "train", cacheDir: this.options.featureCacheDir });
  }

  /** A per-set cache over these generated structures. */
  cache(structures: readonly (Structure | null)[]): MetricsCache {
    return new MetricsCache(this, structures);
  }

  /** Computes the named metrics (default all) for a generated set. */
  async compute(structures: readonly (Structure | null)[], names: readonly MetricName[] = METRIC_NAMES): Promise<MetricsResult> {
    const cache = this.cache(structures);
    const columns = new Map<MetricName, readonly (number | boolean)[]>();
    for (const name of names) columns.set(name, await cache.get(name));
    const summary: Record<string, number> = { count: structures.length, valid_rate: rate(structures.map((s) => s !== null)) };
    for (const [name, values] of columns) {
      if (BOOLEAN_METRICS.has(name)) summary[`${name}_rate`] = rate(values as boolean[]);
      else if (name === "e_above_hull") summary.e_above_hull_mean = finiteMean(values as number[]);
      else summary[name] = (await cache.diversity(name === "structure_diversity" ? "structure" : "composition")).r;
    }
    return new MetricsResult(structures, columns, summary);
  }
}

/** Builds an energy model by name (see {@link ENERGY_MODEL_NAMES}); "cgcnn" is shared per process. */
function namedEnergyModel(name: EnergyModelName, dataset: string): Promise<EnergyModel> {
  switch (name) {
    case "cgcnn":
      return CgcnnEnergyModel.shared();
    case "composition-linear":
      return CompositionLinearEnergyModel.fromDataset(dataset, ["train"]);
    case "reference-match":
      return ReferenceMatchEnergyModel.fromDataset(dataset);
    default:
      throw new RewardError(`unknown energy model "${String(name)}"; valid names: ${ENERGY_MODEL_NAMES.join(", ")}`);
  }
}

/** Lazily computed, memoised metrics of one generated set. */
export class MetricsCache {
  private readonly values = new Map<string, Promise<readonly (number | boolean)[]>>();
  private readonly diversities = new Map<string, Promise<DiversityResult>>();
  /** Seconds spent per metric (for the reward's timing split). */
  readonly seconds: Record<string, number> = {};

  constructor(
    readonly metrics: Metrics,
    readonly structures: readonly (Structure | null)[],
  ) {}

  /** Indices of the non-null structures. */
  get validIndices(): number[] {
    return this.structures.flatMap((s, i) => (s ? [i] : []));
  }

  /** Per-structure values of a metric (booleans or numbers; see the module doc for null slots). */
  get(name: MetricName): Promise<readonly (number | boolean)[]> {
    if (!(METRIC_NAMES as readonly string[]).includes(name)) {
      throw new RewardError(`unknown metric "${name}"; valid: ${METRIC_NAMES.join(", ")}`);
    }
    let p = this.values.get(name);
    if (!p) {
      p = this.timed(name, () => this.computeMetric(name));
      this.values.set(name, p);
    }
    return p;
  }

  async booleans(name: MetricName): Promise<boolean[]> {
    return (await this.get(name)) as boolean[];
  }

  async numbers(name: MetricName): Promise<number[]> {
    return (await this.get(name)) as number[];
  }

  /** MMD diversity of the valid structures against the reference features. */
  diversity(kind: "structure" | "composition"): Promise<DiversityResult> {
    let p = this.diversities.get(kind);
    if (!p) {
      p = computeDiversity(this, kind);
      this.diversities.set(kind, p);
    }
    return p;
  }

  private async timed<T>(name: string, f: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    const out = await f();
    this.seconds[name] = (this.seconds[name] ?? 0) + (performance.now() - t0) / 1000;
    return out;
  }

  private async computeMetric(name: MetricName): Promise<readonly (number | boolean)[]> {
    const s = this.structures;
    switch (name) {
      case "unique": {
        const ok = this.matchable();
        return scatter(ok, isUnique(ok.filter((x): x is Structure => x !== null), this.metrics.options.matcher), false);
      }
      case "novel": {
        const index = await this.metrics.referenceIndex();
        return this.matchable().map((x) => (x ? index.isNovel(x) : false));
      }
      case "e_above_hull":
        return scatter(s, await (await this.metrics.energy()).eAboveHull(this.valid()), NaN);
      case "is_stable":
        return (await this.numbers("e_above_hull")).map((e) => e <= 0);
      case "is_metastable":
        return (await this.numbers("e_above_hull")).map((e) => e <= this.metrics.metastableThreshold);
      case "composition_validity":
        return s.map((x) => (x ? compositionValidity(x, this.metrics.options.compositionValidity) : false));
      case "structure_diversity":
        return (await this.diversity("structure")).rIndiv;
      case "composition_diversity":
        return (await this.diversity("composition")).rIndiv;
      case "sun":
      case "msun":
        return this.sun(name === "sun" ? "is_stable" : "is_metastable");
    }
  }

  private async sun(stability: MetricName): Promise<boolean[]> {
    const [u, n, st] = [await this.booleans("unique"), await this.booleans("novel"), await this.booleans(stability)];
    return u.map((x, i) => x && n[i] && st[i]);
  }

  /** The structures the matcher accepts: null slots and overlapping atoms (< minSeparation) become null. */
  private matchable(): (Structure | null)[] {
    const minSep = this.metrics.options.matcher?.minSeparation ?? 0.01;
    return this.structures.map((x) => (x && x.isValid(minSep) ? x : null));
  }

  private valid(): Structure[] {
    return this.structures.filter((x): x is Structure => x !== null);
  }
}

/** Values for the valid slots spread back over all slots, `fill` for null slots. */
function scatter<T>(structures: readonly (Structure | null)[], validValues: readonly T[], fill: T): T[] {
  let k = 0;
  return structures.map((s) => (s ? validValues[k++] : fill));
}

/** Leave-one-out MMD of the valid structures; fewer than 3 valid structures give NaN everywhere. */
async function computeDiversity(cache: MetricsCache, kind: "structure" | "composition"): Promise<DiversityResult> {
  const idx = cache.validIndices;
  const nanResult = { rIndiv: cache.structures.map(() => NaN), r: NaN };
  if (idx.length < 3) return nanResult;
  const f = kind === "structure" ? cache.metrics.structureFeaturizer : cache.metrics.compositionFeaturizer;
  const ref = await cache.metrics.referenceFeatures(kind);
  const gen = stackFeatures(await f.featurize(idx.map((i) => cache.structures[i]!)), f.dim, `${kind} features`);
  if (ref.dim !== gen.dim) throw new RewardError(`reference ${kind} features have ${ref.dim} columns but the featuriser gives ${gen.dim}; recompute the reference cache`);
  await tf.ready(); // the default back-end (wasm) initialises asynchronously
  const zGen = tf.tensor2d(gen.data, [gen.rows, gen.dim]);
  const zRef = tf.tensor2d(ref.data, [ref.rows, ref.dim]);
  try {
    const { r, rIndiv } = mmdReward(zGen, zRef);
    const values = Array.from(rIndiv.dataSync());
    rIndiv.dispose();
    const out = cache.structures.map(() => NaN);
    idx.forEach((i, k) => (out[i] = values[k]));
    return { rIndiv: out, r };
  } finally {
    tf.dispose([zGen, zRef]);
  }
}

function rate(values: readonly boolean[]): number {
  return values.length === 0 ? NaN : values.filter(Boolean).length / values.length;
}

function finiteMean(values: readonly number[]): number {
  const ok = values.filter(Number.isFinite);
  return ok.length === 0 ? NaN : ok.reduce((a, b) => a + b, 0) / ok.length;
}

/** Metrics of one generated set: rows per structure, a summary, DataFrame and CSV views. */
export class MetricsResult {
  readonly rows: MetricsRow[];

  constructor(
    structures: readonly (Structure | null)[],
    readonly columns: ReadonlyMap<MetricName, readonly (number | boolean)[]>,
    /** Rates over all slots (`<name>_rate`), mean finite e_above_hull, −MMD² per diversity. */
    readonly summary: Record<string, number>,
  ) {
    this.rows = structures.map((s, i) => {
      const row: MetricsRow = { index: i, formula: s ? s.composition.reducedFormula : null };
      for (const [name, values] of columns) row[name] = values[i];
      return row;
    });
  }

  /** The rows as a danfo DataFrame (danfojs-node is loaded on first use: it is slow to import). */
  async toDataFrame(): Promise<unknown> {
    const mod = (await import("danfojs-node")) as unknown as { DataFrame?: new (rows: unknown[]) => unknown; default?: { DataFrame: new (rows: unknown[]) => unknown } };
    const DataFrame = mod.DataFrame ?? mod.default!.DataFrame;
    return new DataFrame(this.rows.map((r) => ({ ...r, formula: r.formula ?? "" })));
  }

  /** CSV text: header of column names, booleans as true/false, NaN as an empty cell. */
  toCSV(): string {
    const names = ["index", "formula", ...this.columns.keys()];
    const cell = (v: unknown) => (v === null || (typeof v === "number" && Number.isNaN(v)) ? "" : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
    const lines = this.rows.map((r) => names.map((n) => cell((r as Record<string, unknown>)[n])).join(","));
    return [names.join(","), ...lines].join("\n") + "\n";
  }

  /** Writes {@link toCSV} to `path` atomically (temp file + rename). */
  writeCSV(path: string): void {
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, this.toCSV());
    renameSync(tmp, path);
  }
}
