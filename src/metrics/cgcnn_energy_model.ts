/**
 * The bundled default {@link EnergyModel}: formation energy per atom from the crystal-graph
 * predictor trained on MP-20 (checkpoints/mp_20/predictor_formation_energy, made by
 * src/train_predictor.ts). It answers for any structure in milliseconds, unlike
 * ReferenceMatchEnergyModel (known crystals only), and unlike CompositionLinearEnergyModel it
 * tells polymorphs apart. It is a surrogate: Chemeleon2 relaxes with MACE-MP and uses DFT-like
 * energies; ours is trained on 1,090 MP-20 rows, so its error (test MAE in the checkpoint's
 * meta.json, `testMae`) is far above CGCNN's published 0.039 eV/atom on all of MP.
 *
 *     const model = await CgcnnEnergyModel.shared();         // bundled checkpoint, loaded once per process
 *     const calc = await EAboveHullCalculator.mp20(model);
 *
 * `Metrics` (and so EnergyReward) uses {@link CgcnnEnergyModel.shared} unless told otherwise.
 *
 * NaN, never a guess, where the model has no trustworthy answer (EnergyReward then gives the
 * worst value, −1, and `e_above_hull` shows NaN):
 *  - the crystal graph cannot be built: a degenerate or collapsed lattice that would need more
 *    than 2·10⁷ pair-image distances (crystal_graph.ts), i.e. not a crystal;
 *  - two sites closer than `minDistance` (default 0.5 Å, CDVAE's structural-validity test,
 *    pymatgen's `is_valid`): the network was trained on relaxed crystals and has no notion of
 *    core overlap — it predicts −2.2 eV/atom for an O₂ cell with atoms 0.4 Å apart — so such a
 *    structure would otherwise score as stable;
 *  - with `knownElements` set, a structure holding an element outside that set: the network
 *    never saw it in training, so its prediction is an extrapolation of the element descriptor.
 *    The bundled default does NOT set it: the LDM and VAE were trained on the same 85 elements.
 *
 * Single-element crystals are floored at 0 eV/atom. A formation energy is measured from the
 * element's ground state, so an elemental crystal cannot lie below 0 (MP-20's 17 elemental
 * rows: 0.000–0.074 eV/atom). The bundled predictor, which saw no elemental O or F, predicts
 * −2.2 eV/atom for generated O₂ cells and −2.4 for MP-20's F₂: left alone, those would score as
 * far below the hull, which a policy could exploit by generating pure oxygen.
 */
import { join } from "node:path";
import { CHECKPOINTS_DIR } from "../config/hub.ts";
import { RewardError } from "../crystal/errors.ts";
import type { Structure } from "../crystal/structure.ts";
import { PredictorModule } from "../vae_module/predictor_module.ts";
import type { EnergyModel } from "./energy.ts";

/** Directory of the bundled formation-energy predictor. */
export const DEFAULT_ENERGY_PREDICTOR_DIR = join(CHECKPOINTS_DIR, "mp_20", "predictor_formation_energy");

const TARGET = "formation_energy_per_atom";

export interface CgcnnEnergyModelOptions {
  /** Elements the predictor may answer for; a structure with any other element gets NaN. Default: all. */
  knownElements?: Iterable<string>;
  /** Structures with two sites at most this far apart (Å) get NaN; default 0.5, 0 turns it off. */
  minDistance?: number;
}

/** One loaded model per checkpoint directory and process (see {@link CgcnnEnergyModel.shared}). */
const sharedModels = new Map<string, Promise<CgcnnEnergyModel>>();

export class CgcnnEnergyModel implements EnergyModel {
  readonly name = "cgcnn-formation-energy";
  readonly knownElements: ReadonlySet<string> | null;
  readonly minDistance: number;
  private sharedKey: string | null = null;

  /** @param predictor a PredictorModule that predicts `formation_energy_per_atom`. */
  constructor(
    readonly predictor: PredictorModule,
    options: CgcnnEnergyModelOptions = {},
  ) {
    if (!predictor?.targetNames?.includes(TARGET)) {
      throw new RewardError(`CgcnnEnergyModel needs a predictor of "${TARGET}"; this one predicts ${JSON.stringify(predictor?.targetNames)}. Train one with src/train_predictor.ts target=${TARGET}`);
    }
    this.knownElements = options.knownElements ? new Set(options.knownElements) : null;
    this.minDistance = options.minDistance ?? 0.5;
    if (!(this.minDistance >= 0 && Number.isFinite(this.minDistance))) {
      throw new RewardError(`CgcnnEnergyModel: minDistance must be a finite number of Å ≥ 0 (default 0.5), got ${String(options.minDistance)}`);
    }
  }

  /** Loads the predictor from `dir` (default: the bundled MP-20 checkpoint); a fresh copy each call. */
  static async load(dir: string = DEFAULT_ENERGY_PREDICTOR_DIR, options: CgcnnEnergyModelOptions = {}): Promise<CgcnnEnergyModel> {
    return new CgcnnEnergyModel(await PredictorModule.loadFromCheckpoint(dir), options);
  }

  /**
   * The model at `dir` (default: bundled), loaded on the first call and then shared by every
   * caller in this process (each `Metrics` used to load its own 0.3 MB copy). A missing or
   * broken checkpoint is a CheckpointError; nothing falls back silently. Disposing the shared
   * model drops it from the cache, so the next call loads it again.
   */
  static shared(dir: string = DEFAULT_ENERGY_PREDICTOR_DIR): Promise<CgcnnEnergyModel> {
    let model = sharedModels.get(dir);
    if (!model) {
      model = CgcnnEnergyModel.load(dir).then((m) => {
        m.sharedKey = dir;
        return m;
      });
      sharedModels.set(dir, model);
      model.catch(() => sharedModels.delete(dir));
    }
    return model;
  }

  /**
   * eV/atom per structure; NaN for an unbuildable graph, sites closer than `minDistance`, or an
   * element outside `knownElements`; single-element structures floored at 0 (see the module doc).
   */
  formationEnergyPerAtom(structures: readonly Structure[]): number[] {
    const answerable = structures.map((s) => this.answers(s));
    const ok = structures.filter((_, i) => answerable[i]);
    const predicted = ok.length > 0 ? this.predictor.predictAll(ok, { invalid: "nan" })[TARGET] : [];
    let k = 0;
    return structures.map((s, i) => {
      if (!answerable[i]) return NaN;
      const e = predicted[k++];
      return s.composition.elements.length === 1 ? Math.max(0, e) : e; // Math.max keeps NaN
    });
  }

  /** Whether the model has an answer for `s` (elements known, no overlapping sites). */
  private answers(s: Structure): boolean {
    const known = this.knownElements;
    if (known !== null && !s.composition.elements.every((el) => known.has(el))) return false;
    return this.minDistance === 0 || s.isValid(this.minDistance);
  }

  dispose(): void {
    if (this.sharedKey !== null) sharedModels.delete(this.sharedKey);
    this.predictor.dispose();
  }
}
