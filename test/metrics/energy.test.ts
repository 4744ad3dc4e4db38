/**
 * Energy above hull: the calculator (model + hull, per-structure cache, NaN handling, bad
 * model output), the bundled MP-20 reference hull, and the two bundled energy models.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Composition } from "../../src/crystal/composition.ts";
import { RewardError } from "../../src/crystal/errors.ts";
import { loadDataset } from "../../src/data/datasets.ts";
import { CompositionLinearEnergyModel, EAboveHullCalculator, loadReferenceHull, ReferenceMatchEnergyModel, structureKey } from "../../src/metrics/energy.ts";
import { PropertyEnergyModel, cesiumChloride, rockSalt, smallHull } from "./reward_fixtures.ts";

test("eAboveHull = energy − hull energy (signed), NaN passes through, one model call per distinct structure", async () => {
  const model = new PropertyEnergyModel();
  const calc = new EAboveHullCalculator(model, smallHull());
  const a = rockSalt("Na", "Cl", 5.6, -2.25);
  const s = [a, rockSalt("Na", "Cl", 5.6, -2.25), cesiumChloride("K", "Br", 3.9, -1.0), rockSalt("Na", "Cl", 5.8, NaN), cesiumChloride("K", "Cl", 3.9, -0.5)];
  const e = await calc.eAboveHull(s);
  assert.ok(Math.abs(e[0] + 0.25) < 1e-12 && e[1] === e[0]);
  assert.ok(Math.abs(e[2] - 0.5) < 1e-12);
  assert.ok(Number.isNaN(e[3]));
  assert.ok(Math.abs(e[4] + 0.5) < 1e-12, "K–Cl has only the elements at 0 on this hull");
  assert.is(model.calls, 4, "the duplicate of structure 0 is served from the cache");
  await calc.eAboveHull([a]);
  assert.is(model.calls, 4, "a later call reuses the cache");
  assert.is(structureKey(a), structureKey(rockSalt("Na", "Cl", 5.6)));
});

test("bad energy models and hulls are RewardErrors naming the problem", async () => {
  const short = { name: "short", formationEnergyPerAtom: () => [1] };
  await new EAboveHullCalculator(short, smallHull()).eAboveHull([rockSalt("Na", "Cl", 5.6), cesiumChloride("K", "Br", 3.9)]).then(
    () => assert.unreachable("should throw"),
    (e: Error) => assert.ok(e instanceof RewardError && /returned 1 values for 2 structures/.test(e.message), e.message),
  );
  assert.throws(() => new EAboveHullCalculator({} as never, smallHull()), (e: Error) => e instanceof RewardError);
  assert.throws(() => new EAboveHullCalculator(short, {} as never), (e: Error) => e instanceof RewardError && /PhaseDiagram/.test(e.message));
});

test("CompositionLinearEnergyModel recovers exact per-element weights; unseen element → NaN", () => {
  const w: Record<string, number> = { Na: -0.5, Cl: -1.5, K: -0.2, Br: -1.0, O: -3 };
  const data = ["NaCl", "KBr", "NaBr", "KCl", "Na2O", "K2O", "NaClO3", "KBrO3"].map((f) => {
    const c = new Composition(f);
    return { composition: c, energyPerAtom: c.elements.reduce((s, el) => s + w[el] * c.getAtomicFraction(el), 0) };
  });
  const model = CompositionLinearEnergyModel.fit(data, 1e-10);
  for (const f of ["NaKClBr", "Na3ClO", "KO2"]) {
    const c = new Composition(f);
    const want = c.elements.reduce((s, el) => s + w[el] * c.getAtomicFraction(el), 0);
    assert.ok(Math.abs(model.predict(c) - want) < 1e-6, f);
  }
  assert.ok(Number.isNaN(model.predict(new Composition("LiF"))));
  assert.throws(() => CompositionLinearEnergyModel.fit([]), (e: Error) => e instanceof RewardError);
});

test("MP-20 reference hull: every bundled row, elements at 0, MP-20 entries never below it", async () => {
  const hull = await loadReferenceHull("mp_20");
  const rows = [];
  for (const split of ["train", "val", "test"]) rows.push(...(await loadDataset("mp_20", split)).records);
  assert.is(hull.entries.filter((e) => !e.isAddedReference).length, rows.length);
  assert.is(hull.getEAboveHull("Xe", 0), 0);
  for (const r of rows.slice(0, 200)) {
    const e = hull.getEAboveHull(r.structure.composition, Number(r.properties.formation_energy_per_atom));
    assert.ok(e >= -1e-9, `${r.materialId}: ${e}`);
  }
  assert.is(await loadReferenceHull("mp_20"), hull, "cached per data set");
});

test("ReferenceMatchEnergyModel: DFT energy of the matching MP-20 structure, NaN for unknown crystals", async () => {
  const model = await ReferenceMatchEnergyModel.fromDataset("mp_20");
  const { records } = await loadDataset("mp_20", "test", { limit: 5 });
  const perturbed = records.map((r, i) => r.structure.perturb(0.02, undefined, lcg(i + 1)));
  const e = model.formationEnergyPerAtom([...perturbed, cesiumChloride("Cs", "I", 7.5)]);
  records.forEach((r, i) => assert.is(e[i], r.properties.formation_energy_per_atom));
  assert.ok(Number.isNaN(e[5]));
});

function lcg(seed: number): () => number {
  let a = seed;
  return () => ((a = (a * 16807) % 2147483647) - 1) / 2147483646;
}

test.run();
