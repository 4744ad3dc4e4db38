/**
 * Small hand-built crystals and back-ends shared by the reward and metrics tests, so those
 * tests never load the bundled data sets or the on-disk feature cache.
 */
import { PhaseDiagram } from "../../src/crystal/phase_diagram.ts";
import { Lattice } from "../../src/crystal/lattice.ts";
import { Structure } from "../../src/crystal/structure.ts";
import { EAboveHullCalculator, type EnergyModel } from "../../src/metrics/energy.ts";
import { ElementPropertyFeaturizer, AmdStructureFeaturizer, stackFeatures } from "../../src/metrics/featurizers.ts";
import { Metrics } from "../../src/metrics/metrics.ts";

/** Rock salt AB with cubic lattice constant a; `energy` is stored for {@link propertyEnergyModel}. */
export function rockSalt(a: string, b: string, lattice: number, energy = NaN): Structure {
  const fa = [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]];
  const fb = fa.map((f) => f.map((x) => (x + 0.5) % 1));
  return new Structure(Lattice.cubic(lattice), [...fa.map(() => a), ...fb.map(() => b)], [...fa, ...fb], { properties: { energy } });
}

/** CsCl-type AB (2 sites). */
export function cesiumChloride(a: string, b: string, lattice: number, energy = NaN): Structure {
  return new Structure(Lattice.cubic(lattice), [a, b], [[0, 0, 0], [0.5, 0.5, 0.5]], { properties: { energy } });
}

/** Energy model reading `properties.energy`, counting how many structures it was asked about. */
export class PropertyEnergyModel implements EnergyModel {
  readonly name = "property";
  calls = 0;
  formationEnergyPerAtom(structures: readonly Structure[]): number[] {
    this.calls += structures.length;
    return structures.map((s) => Number(s.properties.energy));
  }
}

/** Hull with NaCl at −2 eV/atom and KBr at −1.5 eV/atom, elements at 0. */
export function smallHull(): PhaseDiagram {
  return new PhaseDiagram(
    [{ composition: "NaCl", energyPerAtom: -2 }, { composition: "KBr", energyPerAtom: -1.5 }],
    { elements: ["Na", "Cl", "K", "Br", "Li", "F", "Cs", "Mg", "O"], elementalZero: true },
  );
}

/** Reference crystals of the small metrics set. */
export function referenceSet(): Structure[] {
  return [rockSalt("Na", "Cl", 5.64), rockSalt("Li", "F", 4.03), rockSalt("Mg", "O", 4.21), cesiumChloride("Cs", "Cl", 4.12)];
}

/** Metrics over {@link referenceSet} with the property energy model and precomputed features. */
export function smallMetrics(model: EnergyModel = new PropertyEnergyModel()): Metrics {
  const refs = referenceSet();
  const sf = new AmdStructureFeaturizer(8);
  const cf = new ElementPropertyFeaturizer();
  return new Metrics({
    referenceStructures: refs,
    energy: new EAboveHullCalculator(model, smallHull()),
    structureFeaturizer: sf,
    compositionFeaturizer: cf,
    referenceStructureFeatures: stackFeatures(sf.featurize(refs), sf.dim),
    referenceCompositionFeatures: stackFeatures(cf.featurize(refs), cf.dim),
  });
}
