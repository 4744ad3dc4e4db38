/**
 * PhaseDiagram: parity with pymatgen 2022.11 on the MP-20 subset (fixture written by
 * scripts/parity/hull_reference.py), hand-checked small diagrams, and every bad input.
 */
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Composition } from "../../src/crystal/composition.ts";
import { FormulaError, PhaseDiagramError, SimplexError } from "../../src/crystal/errors.ts";
import { PhaseDiagram, type PDEntry } from "../../src/crystal/phase_diagram.ts";
import { solveFromIdentityBasis } from "../../src/crystal/simplex.ts";

interface FixtureQuery {
  formula: string;
  energyPerAtom: number;
  kind: string;
  entryId?: string;
  eAboveHull: number;
  hullEnergyPerAtom: number;
  decomposition: { id: string; fraction: number }[];
}
const fixture = JSON.parse(readFileSync(new URL("../fixtures/crystal/hull_mp20.json", import.meta.url), "utf8")) as {
  entries: { id: string; formula: string; energyPerAtom: number }[];
  stableIds: string[];
  queries: FixtureQuery[];
};
const mp20 = new PhaseDiagram(
  fixture.entries.map((e) => ({ composition: e.formula, energyPerAtom: e.energyPerAtom, id: e.id })),
  { elementalZero: true },
);
const TOL = 1e-6;

/** Elemental phases are compared by element: pymatgen's added "X:ref" and a 0 eV/atom MP entry are the same point. */
function phaseKey(id: string): string {
  if (id.endsWith(":ref")) return id.slice(0, -4);
  const entry = mp20.entries.find((e) => e.id === id);
  return entry && entry.fractions.size === 1 ? [...entry.fractions.keys()][0] : id;
}

test("fixture covers >= 500 queries of 1-5 elements, above and below the hull", () => {
  assert.ok(fixture.queries.length >= 500);
  const sizes = new Set(fixture.queries.map((q) => new Composition(q.formula).elements.length));
  for (const n of [1, 2, 3, 4, 5]) assert.ok(sizes.has(n), `no ${n}-element query`);
  assert.ok(fixture.queries.some((q) => q.eAboveHull < -0.01) && fixture.queries.some((q) => q.eAboveHull > 0.01));
});

test("signed e_above_hull equals pymatgen's to 1e-6 eV/atom on every fixture query", () => {
  let worst = 0;
  for (const q of fixture.queries) {
    const ours = q.entryId ? mp20.getEAboveHullOfEntry(q.entryId) : mp20.getEAboveHull(q.formula, q.energyPerAtom);
    const diff = Math.abs(ours - q.eAboveHull);
    worst = Math.max(worst, diff);
    assert.ok(diff < TOL, `${q.formula} (${q.kind}): ours ${ours}, pymatgen ${q.eAboveHull}`);
  }
  assert.ok(worst < 1e-9, `worst difference ${worst}`);
});

test("hull energies and decompositions equal pymatgen's", () => {
  for (const q of fixture.queries) {
    assert.ok(Math.abs(mp20.getHullEnergyPerAtom(q.formula) - q.hullEnergyPerAtom) < TOL, q.formula);
    const ours = new Map(mp20.getDecomposition(q.formula).map((t) => [phaseKey(t.entry.id), t.fraction]));
    const theirs = new Map(q.decomposition.map((t) => [phaseKey(t.id), t.fraction]));
    assert.equal([...ours.keys()].sort(), [...theirs.keys()].sort(), q.formula);
    for (const [id, f] of theirs) assert.ok(Math.abs(ours.get(id)! - f) < TOL, `${q.formula}: ${id}`);
  }
});

test("stable entries equal pymatgen's stable_entries", () => {
  const ours = mp20.stableEntries.filter((e) => !e.isAddedReference).map((e) => e.id).sort();
  assert.equal(ours, [...fixture.stableIds].sort());
  for (const e of mp20.stableEntries) assert.is(mp20.getEAboveHullOfEntry(e), 0);
});

/** Fe–O with hand-checkable numbers: FeO (x_O 0.5, −1.0) and Fe2O3 (x_O 0.6, −1.1) on the hull. */
function ironOxides(extra: { composition: string; energyPerAtom: number; id?: string }[] = []): PhaseDiagram {
  return new PhaseDiagram(
    [
      { composition: "Fe", energyPerAtom: 0, id: "Fe" },
      { composition: "O2", energyPerAtom: 0, id: "O2" },
      { composition: "FeO", energyPerAtom: -1.0, id: "FeO" },
      { composition: "Fe2O3", energyPerAtom: -1.1, id: "Fe2O3" },
      ...extra,
    ],
  );
}

test("binary hull: interpolation, decomposition and sign by hand", () => {
  const pd = ironOxides();
  // Fe3O4: x_O = 4/7 lies 5/7 of the way from FeO to Fe2O3 → E_hull = −1 − 0.1·5/7.
  const hull = -1 - 0.1 * (5 / 7);
  assert.ok(Math.abs(pd.getHullEnergyPerAtom("Fe3O4") - hull) < 1e-12);
  assert.ok(Math.abs(pd.getEAboveHull("Fe3O4", -1.05) - (-1.05 - hull)) < 1e-12);
  assert.ok(pd.getEAboveHull("Fe3O4", -1.2) < 0, "below the hull is negative");
  const decomposition = pd.getDecomposition(new Composition("Fe3O4"));
  assert.equal(decomposition.map((t) => t.entry.id), ["Fe2O3", "FeO"]);
  assert.ok(Math.abs(decomposition[0].fraction - 5 / 7) < 1e-12);
  // Oxygen-rich side: between Fe2O3 (0.6) and O2 (1.0); scaling the formula changes nothing.
  assert.ok(Math.abs(pd.getHullEnergyPerAtom("FeO2") - pd.getHullEnergyPerAtom("Fe2O4")) < 1e-15);
  assert.ok(Math.abs(pd.getHullEnergyPerAtom("FeO2") - -1.1 * (1 - (2 / 3 - 0.6) / 0.4)) < 1e-12);
  assert.equal(pd.stableEntries.map((e) => e.id).sort(), ["Fe", "Fe2O3", "FeO", "O2"]);
});

test("total energies: elemental references are the lowest elemental entries", () => {
  const pd = new PhaseDiagram([
    { composition: "Li", energyPerAtom: -1.9, id: "Li-bcc" },
    { composition: "Li", energyPerAtom: -1.8, id: "Li-fcc" },
    { composition: "O2", energyPerAtom: -4.9, id: "O2" },
    { composition: "Li2O", energyPerAtom: -4.8, id: "Li2O" },
  ]);
  assert.is(pd.elementalReferences.get("Li")!.id, "Li-bcc");
  const form = -4.8 - ((2 / 3) * -1.9 + (1 / 3) * -4.9);
  assert.ok(Math.abs(pd.getFormationEnergyPerAtom(pd.getEntry("Li2O")) - form) < 1e-12);
  assert.ok(Math.abs(pd.getFormationEnergyPerAtom("Li2O", -4.8) - form) < 1e-12);
  assert.ok(Math.abs(pd.getEAboveHullOfEntry("Li-fcc") - 0.1) < 1e-12);
  assert.not.ok(pd.stableEntries.some((e) => e.id === "Li-fcc"));
});

test("degenerate hulls: duplicates and points inside a facet", () => {
  const pd = ironOxides([
    { composition: "Fe2O2", energyPerAtom: -1.0, id: "FeO-copy" },
    { composition: "Fe5O7", energyPerAtom: -1.0 - 0.1 * ((7 / 12 - 0.5) / 0.1), id: "on-facet" },
  ]);
  // Fe5O7: x_O = 7/12, exactly on the FeO–Fe2O3 line: on the hull but not a vertex (as pymatgen).
  assert.ok(Math.abs(pd.getEAboveHullOfEntry("on-facet")) < 1e-12);
  const stable = pd.stableEntries.map((e) => e.id);
  assert.not.ok(stable.includes("on-facet"));
  assert.ok(stable.includes("FeO") && !stable.includes("FeO-copy"), "first of equal-energy duplicates is the vertex");
  assert.ok(Math.abs(pd.getEAboveHull("FeO", -1.0)) < 1e-12);
  // 1 µeV/atom below that line it is a vertex, and it splits the facet.
  const barely = ironOxides([{ composition: "Fe5O7", energyPerAtom: -1.0 - 0.1 * ((7 / 12 - 0.5) / 0.1) - 1e-6, id: "barely" }]);
  assert.ok(barely.stableEntries.some((e) => e.id === "barely"));
  assert.equal(barely.getDecomposition("Fe3O4").map((t) => t.entry.id).sort(), ["FeO", "barely"]);
});

test("elementalZero adds 0 eV/atom elements only where no elemental entry at or below 0 exists", () => {
  const pd = new PhaseDiagram(
    [
      { composition: "NaCl", energyPerAtom: -2.1, id: "NaCl" },
      { composition: "Na", energyPerAtom: 0.02, id: "Na-metastable" },
      { composition: "Cl2", energyPerAtom: 0, id: "Cl2" },
    ],
    { elementalZero: true, elements: ["Na", "Cl", "K"] },
  );
  const added = pd.entries.filter((e: PDEntry) => e.isAddedReference).map((e) => [...e.fractions.keys()][0]);
  assert.equal(added.sort(), ["K", "Na"]);
  assert.is(pd.elementalReferences.get("Cl")!.id, "Cl2");
  assert.ok(Math.abs(pd.getEAboveHullOfEntry("Na-metastable") - 0.02) < 1e-12);
  assert.ok(Math.abs(pd.getHullEnergyPerAtom("KCl") - 0) < 1e-12, "no K–Cl compound: the element line");
  assert.equal(pd.elements, ["Cl", "K", "Na"]);
});

test("bad input: typed errors that name the input and the fix", () => {
  assert.throws(() => new PhaseDiagram([]), (e: unknown) => e instanceof PhaseDiagramError && /at least one entry/.test(String(e)));
  assert.throws(
    () => new PhaseDiagram([{ composition: "Fe2O3", energyPerAtom: -1 }, { composition: "Fe", energyPerAtom: 0 }]),
    (e: unknown) => e instanceof PhaseDiagramError && /no elemental entry for O/.test(String(e)) && /elementalZero/.test(String(e)),
  );
  assert.throws(
    () => new PhaseDiagram([{ composition: "Fe", energyPerAtom: NaN, id: "bad" }]),
    (e: unknown) => e instanceof PhaseDiagramError && /"bad"/.test(String(e)) && /finite/.test(String(e)),
  );
  assert.throws(
    () => new PhaseDiagram([{ composition: "Fe", energyPerAtom: 0, id: "x" }, { composition: "Fe", energyPerAtom: 1, id: "x" }]),
    (e: unknown) => e instanceof PhaseDiagramError && /duplicate entry id "x"/.test(String(e)),
  );
  assert.throws(
    () => new PhaseDiagram([{ composition: "FeO", energyPerAtom: -1, id: "FeO" }], { elementalZero: true, elements: ["Fe"] }),
    (e: unknown) => e instanceof PhaseDiagramError && /"FeO" contains O/.test(String(e)),
  );
  assert.throws(() => new PhaseDiagram([{ composition: "Fe(O", energyPerAtom: 0 }]), (e: unknown) => e instanceof FormulaError);
  assert.throws(
    () => new PhaseDiagram([{ composition: 42 as unknown as string, energyPerAtom: 0 }]),
    (e: unknown) => e instanceof PhaseDiagramError && /formula string or Composition/.test(String(e)),
  );
  const pd = ironOxides();
  assert.throws(() => pd.getEAboveHull("FeS", -1), (e: unknown) => e instanceof PhaseDiagramError && /"FeS" contains S/.test(String(e)));
  assert.throws(() => pd.getEAboveHull("FeO", Infinity), (e: unknown) => e instanceof PhaseDiagramError && /FeO/.test(String(e)));
  assert.throws(() => pd.getEAboveHullOfEntry("nope"), (e: unknown) => e instanceof PhaseDiagramError && /"nope"/.test(String(e)));
  assert.throws(() => pd.getFormationEnergyPerAtom("FeO"), (e: unknown) => e instanceof PhaseDiagramError && /needs energyPerAtom/.test(String(e)));
});

test("simplex: optimum from an identity basis, unbounded and malformed problems are errors", () => {
  // min −2a − b  s.t. a + s1 = 1, b + s2 = 1 (columns: s1, s2, a, b) → a = b = 1, objective −3.
  const lp = { columns: [[1, 0], [0, 1], [1, 0], [0, 1]], costs: [0, 0, -2, -1], rhs: [1, 1] };
  const solution = solveFromIdentityBasis(lp, [0, 1]);
  assert.is(solution.objective, -3);
  assert.equal([...solution.basis].sort(), [2, 3]);
  const unbounded = { columns: [[1], [-1]], costs: [0, -1], rhs: [1] };
  assert.throws(() => solveFromIdentityBasis(unbounded, [0]), (e: unknown) => e instanceof SimplexError && /unbounded along column 1/.test(String(e)));
  assert.throws(() => solveFromIdentityBasis(lp, [0]), (e: unknown) => e instanceof SimplexError && /1 columns for 2 rows/.test(String(e)));
});

test.run();
