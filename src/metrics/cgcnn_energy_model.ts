/**
 * The bundled default {@link EnergyModel}: formation energy per atom from the crystal-graph
 * predictor trained on MP-20 (checkpoints/mp_20/predictor_formation_energy, made by
 * src/train_predictor.ts). It answers for any structure in milliseconds, unlike
 * ReferenceMatchEnergyModel (known crystals only), and unlike CompositionLinearEnergyModel it
 * tells polymorphs apart. It is a surrogate: Chemeleon2 relaxes with MACE-MP and uses DFT-like
 * energies; ours is trained on 1,090 MP-20 rows, so its error (test MAE in the checkpoint's
 * meta.json, `testMae`) is far above CGCNN's published 0.039 eV/atom on all of MP.
 *
 *     const model = await CgcnnEnergyModel.load();           // bundled checkpoint
 *     const calc = await EAboveHullCalculator.mp20(model);
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

export class CgcnnEnergyModel implements EnergyModel {
  readonly name = "cgcnn-formation-energy";

  /** @param predictor a PredictorModule that predicts `formation_energy_per_atom`. */
  constructor(readonly predictor: PredictorModule) {
    if (!predictor?.targetNames?.includes(TARGET)) {
      throw new RewardError(`CgcnnEnergyModel needs a predictor of "${TARGET}"; this one predicts ${JSON.stringify(predictor?.targetNames)}. Train one with src/train_predictor.ts target=${TARGET}`);
    }
  }

  /** Loads the predictor from `dir` (default: the bundled MP-20 checkpoint). */
  static async load(dir: string = DEFAULT_ENERGY_PREDICTOR_DIR): Promise<CgcnnEnergyModel> {
    return new CgcnnEnergyModel(await PredictorModule.loadFromCheckpoint(dir));
  }

  /** eV/atom per structure; NaN for a structure whose graph cannot be built (degenerate lattice). */
  formationEnergyPerAtom(structures: readonly Structure[]): number[] {
    return this.predictor.predictAll(structures, { invalid: "nan" })[TARGET];
  }

  dispose(): void {
    this.predictor.dispose();
  }
}
