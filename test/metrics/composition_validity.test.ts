/**
 * SMACT-style composition validity: charge neutrality over oxidation states, the Pauling
 * electronegativity ordering, the pure-element and alloy shortcuts, and the rate on real
 * MP-20 compositions.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Composition } from "../../src/crystal/composition.ts";
import { CompositionError } from "../../src/crystal/errors.ts";
import { getElement } from "../../src/crystal/elements.ts";
import { loadDataset } from "../../src/data/datasets.ts";
import { compositionValidity, isSmactMetal } from "../../src/metrics/composition_validity.ts";
import { rockSalt } from "./reward_fixtures.ts";

test("charge-balanced ionic compositions are valid, unbalanced ones are not", () => {
  for (const f of ["NaCl", "MgO", "Al2O3", "LiFePO4", "CaTiO3", "K2SO4", "Cu2O", "SrTiO3"]) assert.ok(compositionValidity(f), f);
  // NaCl2 cannot balance; Fe3O4 needs mixed valence (one state per element), which SMACT rejects too.
  for (const f of ["NaCl2", "Fe3O4", "NaF3"]) assert.not.ok(compositionValidity(f), f);
});

test("the Pauling test rejects balances that need an anion less electronegative than a cation", () => {
  // Na3S balances only as Na(−1)·3 + S(+3); Na2Cl only as Na(−1)·2 + Cl(+2): anion Na is less electronegative.
  for (const f of ["Na3S", "Na2Cl"]) {
    assert.not.ok(compositionValidity(f), f);
    assert.ok(compositionValidity(f, { paulingTest: false }), `${f} without the Pauling test`);
  }
});

test("pure elements and intermetallics are valid (SMACT include_alloys); a noble gas compound is not", () => {
  for (const f of ["Si", "O2", "Fe2Ni", "CuZn", "Mg2Sn", "NbTi"]) assert.ok(compositionValidity(f), f);
  assert.not.ok(compositionValidity("Fe2Ni", { includeAlloys: false }), "without the alloy shortcut Fe2Ni needs Ni(−2)/Fe(+1)");
  assert.not.ok(compositionValidity("NaHe"), "He has no oxidation states");
  assert.ok(isSmactMetal(getElement("Bi")) && isSmactMetal(getElement("La")) && !isSmactMetal(getElement("Si")) && !isSmactMetal(getElement("H")));
});

test("oxidation-state sets: pymatgen's common states reject Cu2O (Cu+ is not 'common')", () => {
  assert.ok(compositionValidity("Cu2O"));
  assert.not.ok(compositionValidity("Cu2O", { oxidationStates: "common" }));
  assert.ok(compositionValidity("Cu2O", { oxidationStates: "icsd" }));
  assert.throws(() => compositionValidity("NaCl", { oxidationStates: "x" as never }), (e: Error) => e instanceof CompositionError && /unknown oxidation-state set/.test(e.message));
});

test("accepts Composition, element map and Structure; empty composition is an error", () => {
  assert.ok(compositionValidity(new Composition("NaCl")));
  assert.ok(compositionValidity({ Na: 4, Cl: 4 }));
  assert.ok(compositionValidity(rockSalt("Na", "Cl", 5.64)));
  assert.throws(() => compositionValidity({}), (e: Error) => e instanceof CompositionError && /no atoms/.test(e.message));
});

test("real MP-20 compositions: most are valid (test split rate between 0.8 and 0.95)", async () => {
  const { records } = await loadDataset("mp_20", "test");
  const rate = records.filter((r) => compositionValidity(r.structure)).length / records.length;
  assert.ok(rate > 0.8 && rate < 0.95, String(rate));
});

test.run();
