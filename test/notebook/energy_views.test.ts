/**
 * Energy views (src/notebook/energy_views.ts): the hull breakdown reproduces E_hull = E_form −
 * hull energy on a hand-made phase diagram, flags chemical systems whose hull is the elements
 * alone, keeps null slots as NaN rows, and the figure puts each group in its colour.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { FigureError } from "../../src/crystal/errors.ts";
import { Lattice } from "../../src/crystal/lattice.ts";
import { PhaseDiagram } from "../../src/crystal/phase_diagram.ts";
import { Structure } from "../../src/crystal/structure.ts";
import { EAboveHullCalculator, type EnergyModel } from "../../src/metrics/energy.ts";
import { componentColor } from "../../src/notebook/colors.ts";
import { eAboveHullFigure, hullRows, hullSummary } from "../../src/notebook/energy_views.ts";

/** Li–O hull with Li2O at −2 eV/atom; Na–Cl has no compound (elements only). */
const hull = new PhaseDiagram([{ composition: "Li2O", energyPerAtom: -2, id: "Li2O" }], { elements: ["Li", "O", "Na", "Cl"], elementalZero: true });

/** Formation energy by reduced formula, so the expected numbers are exact. */
const model: EnergyModel = {
  name: "table",
  formationEnergyPerAtom: (ss) => ss.map((s) => ({ Li2O: -1.5, Li2O2: -1.0, NaCl: -0.8 } as Record<string, number>)[s.composition.reducedFormula] ?? NaN),
};

const cell = Lattice.cubic(4);
const li2o = new Structure(cell, ["Li", "Li", "O"], [[0, 0, 0], [0.5, 0.5, 0], [0.25, 0.25, 0.5]]);
const lio = new Structure(cell, ["Li", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]]);
const nacl = new Structure(cell, ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]);

test("hullRows: E_hull = E_form − hull energy, elements-only systems flagged, null slots NaN", async () => {
  const rows = await hullRows([li2o, null, lio, nacl], new EAboveHullCalculator(model, hull));
  assert.is(rows.length, 4);
  // Li2O: on the Li2O vertex, hull −2, model −1.5 → 0.5 above.
  assert.ok(Math.abs(rows[0].hullEnergy + 2) < 1e-12 && Math.abs(rows[0].eAboveHull - 0.5) < 1e-12 && Math.abs(rows[0].formationEnergy + 1.5) < 1e-12);
  assert.is(rows[0].elementsOnly, false);
  assert.match(rows[0].hullPhases, /Li2O 1\.00/);
  assert.equal([rows[1].formula, Number.isNaN(rows[1].eAboveHull), rows[1].elementsOnly, rows[1].hullPhases], [null, true, false, ""]);
  // LiO (reduced formula Li2O2, like pymatgen; x_O = 1/2): 3/4 Li2O + 1/4 O → hull −1.5; model −1.0 → +0.5.
  assert.ok(Math.abs(rows[2].hullEnergy + 1.5) < 1e-9 && Math.abs(rows[2].eAboveHull - 0.5) < 1e-9);
  assert.match(rows[2].hullPhases, /Li2O 0\.75 \+ O2 0\.25/);
  // NaCl: no Na–Cl compound, hull 0, so the model's −0.8 is 0.8 *below* the hull.
  assert.is(rows[3].elementsOnly, true);
  assert.ok(Math.abs(rows[3].eAboveHull + 0.8) < 1e-12 && rows[3].hullEnergy === 0);
  const summary = hullSummary(rows);
  assert.is(summary.samples, 4);
  assert.is(summary["with an energy"], 3);
  assert.is(summary["E_hull ≤ 0 (reward 0)"], 1);
  assert.is(summary["… of which hull = elements only"], 1);
  assert.is(summary["0 < E_hull < 1 (graded reward)"], 2);
  assert.ok(Math.abs(summary["median E_hull (eV/atom)"] - 0.5) < 1e-9);
});

test("eAboveHullFigure: histogram + scatter per group, energy colour, clamp line at 0", async () => {
  const rows = await hullRows([li2o, lio, nacl, null], new EAboveHullCalculator(model, hull));
  const fig = eAboveHullFigure(rows);
  const hist = fig.data.filter((t) => t.type === "histogram");
  assert.is(hist.length, 2);
  assert.equal(hist[0].x, [0.5, 0.5].map((v, i) => rows[i].eAboveHull));
  assert.is((hist[0].marker as { color: string }).color, componentColor("energy"));
  assert.equal(hist[1].x, [rows[2].eAboveHull]);
  const shapes = fig.layout!.shapes as { x0: number }[];
  assert.is(shapes[0].x0, 0);
  assert.match(JSON.stringify(fig.layout!.xaxis), /eV\/atom/);
});

test("bad input is a FigureError naming the fix", async () => {
  await hullRows([], new EAboveHullCalculator(model, hull)).then(
    () => assert.unreachable("empty input accepted"),
    (e) => assert.ok(e instanceof FigureError && /non-empty/.test(e.message)),
  );
  const rows = await hullRows([null], new EAboveHullCalculator(model, hull));
  assert.throws(() => eAboveHullFigure(rows), (e: unknown) => e instanceof FigureError && /no structure has a finite E_hull/.test((e as Error).message));
});

test.run();
