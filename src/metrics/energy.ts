/**
 * Energy above the convex hull of generated crystals: the `e_above_hull` metric and the
 * back-end of EnergyReward.
 *
 * Two parts, kept apart so either can be swapped:
 *  - an {@link EnergyModel} gives each structure's formation energy per atom (eV/atom).
 *    Chemeleon2 relaxes with the MACE-MP potential and uses uncorrected total energies; here
 *    any model works: the bundled ones are {@link ReferenceMatchEnergyModel} (DFT value of the
 *    matching data-set structure — an oracle for known crystals, NaN for unknown ones) and
 *    {@link CompositionLinearEnergyModel} (a ridge regression on atom fractions — a weak but
 *    honest baseline that answers for every composition). The default of `Metrics` (and so of
 *    EnergyReward) is the trained crystal-graph predictor, `CgcnnEnergyModel`
 *    (cgcnn_energy_model.ts), which tells polymorphs apart.
 *  - a reference hull: a {@link PhaseDiagram} over the data set's formation energies with every
 *    element at 0 eV/atom ({@link loadReferenceHull}; default: all MP-20 splits we bundle).
 *
 * {@link EAboveHullCalculator} combines them, caches per structure (rollouts repeat
 * structures: duplicates within a group, the same crystal across steps), and turns a model's
 * NaN into NaN (the caller decides; EnergyReward maps NaN to the worst value).
 */
import { Composition } from "../crystal/composition.ts";
import { RewardError } from "../crystal/errors.ts";
import { ELEMENTS } from "../crystal/elements.ts";
import { PhaseDiagram, type PDEntryInput } from "../crystal/phase_diagram.ts";
import type { Structure } from "../crystal/structure.ts";
import { ReferenceIndex } from "./novelty.ts";
// Static, not `await import(...)`: under tslab (which runs cells as CommonJS) a dynamic import
// loads a second copy of the library, whose classes fail `instanceof` checks in this one.
import { listSplits, loadDataset } from "../data/datasets.ts";

/** Formation energy per atom (eV/atom) for each structure; NaN where the model has no answer. */
export interface EnergyModel {
  /** Short name for logs and tables. */
  readonly name?: string;
  formationEnergyPerAtom(structures: readonly Structure[]): Promise<number[]> | number[];
}

export interface ReferenceHullOptions {
  /** Splits to include; default every split of the data set. */
  splits?: readonly string[];
  /** Column with the formation energy per atom; default "formation_energy_per_atom". */
  energyKey?: string;
  /** Data-set folder (tests); default the bundled datasets/. */
  root?: string;
}

const hullCache = new Map<string, Promise<PhaseDiagram>>();

/**
 * The convex hull of a data set's formation energies, every element at 0 eV/atom (so any
 * composition can be queried; systems the data set never saw are bounded by the elements).
 * Cached per data set and options.
 */
export function loadReferenceHull(dataset = "mp_20", options: ReferenceHullOptions = {}): Promise<PhaseDiagram> {
  const key = JSON.stringify([dataset, options.splits ?? null, options.energyKey ?? null, options.root ?? null]);
  let hull = hullCache.get(key);
  if (!hull) {
    hull = buildReferenceHull(dataset, options);
    hullCache.set(key, hull);
    hull.catch(() => hullCache.delete(key));
  }
  return hull;
}

async function buildReferenceHull(dataset: string, options: ReferenceHullOptions): Promise<PhaseDiagram> {
  const splits = options.splits ?? listSplits(dataset, options.root);
  const energyKey = options.energyKey ?? "formation_energy_per_atom";
  const entries: PDEntryInput[] = [];
  for (const split of splits) {
    const { records } = await loadDataset(dataset, split, { root: options.root });
    for (const r of records) {
      const e = r.properties[energyKey];
      if (typeof e !== "number" || !Number.isFinite(e)) {
        throw new RewardError(`${dataset}/${split} row ${r.row} (${r.materialId}): "${energyKey}" is ${JSON.stringify(e)}; the reference hull needs a finite energy per atom in every row`);
      }
      entries.push({ id: r.materialId, composition: r.structure.composition, energyPerAtom: e });
    }
  }
  if (entries.length === 0) throw new RewardError(`data set "${dataset}" has no rows in splits ${splits.join(", ")}; cannot build a reference hull`);
  return new PhaseDiagram(entries, { elements: ELEMENTS.filter((el) => el.Z <= 103).map((el) => el.symbol), elementalZero: true });
}

/** Cache key of a structure: species, lattice and coordinates rounded to 1e-6. */
export function structureKey(s: Structure): string {
  const r = (x: number) => (Math.round(x * 1e6) / 1e6).toString();
  const lattice = s.lattice.matrix.map((row) => row.map(r).join(",")).join(";");
  const sites = s.fracCoords.map((f, i) => `${s.species[i]}:${f.map(r).join(",")}`).join(";");
  return `${lattice}|${sites}`;
}

export interface EAboveHullOptions {
  /** Maximum cached structures (oldest dropped first); default 100 000. */
  cacheSize?: number;
}

/** Energy above hull of structures under an energy model and a reference hull, cached per structure. */
export class EAboveHullCalculator {
  private readonly cache = new Map<string, number>();
  private readonly cacheSize: number;

  constructor(
    readonly model: EnergyModel,
    readonly hull: PhaseDiagram,
    options: EAboveHullOptions = {},
  ) {
    if (!model || typeof model.formationEnergyPerAtom !== "function") {
      throw new RewardError("EAboveHullCalculator needs an EnergyModel { formationEnergyPerAtom(structures) }");
    }
    if (!(hull instanceof PhaseDiagram)) throw new RewardError("EAboveHullCalculator needs a PhaseDiagram as the reference hull (see loadReferenceHull)");
    this.cacheSize = options.cacheSize ?? 100_000;
  }

  /** Calculator over the bundled MP-20 reference hull. */
  static async mp20(model: EnergyModel, options: EAboveHullOptions = {}): Promise<EAboveHullCalculator> {
    return new EAboveHullCalculator(model, await loadReferenceHull("mp_20"), options);
  }

  /** Signed e_above_hull (eV/atom) per structure; NaN where the model returned NaN. */
  async eAboveHull(structures: readonly Structure[]): Promise<number[]> {
    const keys = structures.map(structureKey);
    const missing = [...new Set(keys.filter((k) => !this.cache.has(k)))];
    if (missing.length > 0) {
      const firstOf = new Map<string, Structure>();
      keys.forEach((k, i) => firstOf.has(k) || firstOf.set(k, structures[i]));
      const todo = missing.map((k) => firstOf.get(k)!);
      const energies = await this.model.formationEnergyPerAtom(todo);
      if (!Array.isArray(energies) || energies.length !== todo.length) {
        throw new RewardError(`energy model ${this.model.name ?? ""} returned ${Array.isArray(energies) ? energies.length : typeof energies} values for ${todo.length} structures; return one energy per structure`);
      }
      todo.forEach((s, i) => this.store(missing[i], this.aboveHull(s.composition, energies[i])));
    }
    return keys.map((k) => this.cache.get(k)!);
  }

  private aboveHull(composition: Composition, energy: number): number {
    if (typeof energy !== "number" || Number.isNaN(energy)) return NaN;
    return this.hull.getEAboveHull(composition, energy);
  }

  private store(key: string, value: number): void {
    if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, value);
  }
}

/**
 * Formation energy of the data-set structure that matches (StructureMatcher, pymatgen
 * defaults); NaN when nothing matches. For known crystals this is the DFT value itself, so it
 * is the reference for metrics on data-set structures, never a model of new ones.
 */
export class ReferenceMatchEnergyModel implements EnergyModel {
  readonly name = "reference-match";

  constructor(
    private readonly index: ReferenceIndex,
    private readonly energies: ReadonlyMap<string, number>,
  ) {}

  /** Index all splits of a bundled data set (default MP-20) with their formation energies. */
  static async fromDataset(dataset = "mp_20", energyKey = "formation_energy_per_atom"): Promise<ReferenceMatchEnergyModel> {
    const records = [];
    for (const split of listSplits(dataset)) records.push(...(await loadDataset(dataset, split)).records);
    const energies = new Map(records.map((r) => [r.materialId, Number(r.properties[energyKey])]));
    const index = ReferenceIndex.build(records.map((r) => r.structure), { ids: records.map((r) => r.materialId) });
    return new ReferenceMatchEnergyModel(index, energies);
  }

  formationEnergyPerAtom(structures: readonly Structure[]): number[] {
    return structures.map((s) => {
      const id = this.index.matches(s, true)[0];
      return id === undefined ? NaN : (this.energies.get(id) ?? NaN);
    });
  }
}

/**
 * Ridge regression of formation energy per atom on atom fractions (one coefficient per
 * element, no intercept: a pure element sits at its coefficient, ≈ 0). It ignores structure
 * entirely, so it cannot tell polymorphs apart; use it as a baseline or when no trained
 * predictor is available. Fit by solving (XᵀX + λI) w = Xᵀy with Cholesky.
 */
export class CompositionLinearEnergyModel implements EnergyModel {
  readonly name = "composition-linear";

  private constructor(private readonly weights: ReadonlyMap<string, number>) {}

  /** Fit on (composition, formation energy per atom) pairs; λ = ridge strength (default 1e-3). */
  static fit(data: readonly { composition: Composition; energyPerAtom: number }[], lambda = 1e-3): CompositionLinearEnergyModel {
    if (data.length === 0) throw new RewardError("CompositionLinearEnergyModel.fit needs at least one (composition, energy) pair");
    const symbols = [...new Set(data.flatMap((d) => d.composition.elements))].sort();
    const col = new Map(symbols.map((s, i) => [s, i]));
    const p = symbols.length;
    const a = new Float64Array(p * p);
    const b = new Float64Array(p);
    for (const { composition, energyPerAtom } of data) {
      const x = composition.elements.map((el) => [col.get(el)!, composition.getAtomicFraction(el)] as const);
      for (const [i, xi] of x) {
        b[i] += xi * energyPerAtom;
        for (const [j, xj] of x) a[i * p + j] += xi * xj;
      }
    }
    for (let i = 0; i < p; i++) a[i * p + i] += lambda;
    const w = choleskySolve(a, b, p);
    return new CompositionLinearEnergyModel(new Map(symbols.map((s, i) => [s, w[i]])));
  }

  /** Fit on the given splits of a bundled data set (default MP-20 train). */
  static async fromDataset(dataset = "mp_20", splits: readonly string[] = ["train"], energyKey = "formation_energy_per_atom"): Promise<CompositionLinearEnergyModel> {
    const data = [];
    for (const split of splits) {
      for (const r of (await loadDataset(dataset, split)).records) data.push({ composition: r.structure.composition, energyPerAtom: Number(r.properties[energyKey]) });
    }
    return CompositionLinearEnergyModel.fit(data.filter((d) => Number.isFinite(d.energyPerAtom)));
  }

  /** Predicted formation energy; NaN when the composition holds an element never seen in fitting. */
  predict(composition: Composition): number {
    let e = 0;
    for (const el of composition.elements) {
      const w = this.weights.get(el);
      if (w === undefined) return NaN;
      e += w * composition.getAtomicFraction(el);
    }
    return e;
  }

  formationEnergyPerAtom(structures: readonly Structure[]): number[] {
    return structures.map((s) => this.predict(s.composition));
  }
}

/** Solves the symmetric positive-definite system A w = b (A row-major p×p) by Cholesky. */
function choleskySolve(a: Float64Array, b: Float64Array, p: number): Float64Array {
  const l = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * p + j];
      for (let k = 0; k < j; k++) s -= l[i * p + k] * l[j * p + k];
      l[i * p + j] = i === j ? Math.sqrt(s) : s / l[j * p + j];
    }
  }
  const y = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i * p + k] * y[k];
    y[i] = s / l[i * p + i];
  }
  const w = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < p; k++) s -= l[k * p + i] * w[k];
    w[i] = s / l[i * p + i];
  }
  return w;
}
