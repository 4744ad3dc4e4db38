/**
 * Notebook views of a GRPO step (src/notebook/rl_views.ts): stage rows and per-component
 * tables read the decomposition faithfully, normaliser comparisons match normalizeArray, the
 * latent trajectory summary matches a hand computation, figures carry component colours,
 * and bad input is a FigureError naming the fix.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { FigureError } from "../../src/crystal/errors.ts";
import { Lattice } from "../../src/crystal/lattice.ts";
import { Structure } from "../../src/crystal/structure.ts";
import { tf } from "../../src/nn/tf.ts";
import { componentColor } from "../../src/notebook/colors.ts";
import {
  beforeAfterFigure, componentStageRows, componentStagesFigure, componentSummaryTable, componentTable, decodedTable, latentDenoisingFigure,
  latentTrajectory, logProbShiftFigure, lossSeries, normalizationSummary, normalizeByStrategy, type LossStep,
} from "../../src/notebook/rl_views.ts";
import type { Trace } from "../../src/notebook/plotly_types.ts";
import { normalizeArray } from "../../src/rl_module/normalize.ts";
import type { RewardDecomposition } from "../../src/rl_module/reward.ts";

await tf.setBackend("cpu");

const isFigureError = (re: RegExp) => (e: unknown) => e instanceof FigureError && re.test((e as Error).message);

/** A hand-made decomposition of three structures and two components. */
function decomposition(): RewardDecomposition {
  const row = (index: number, formula: string | null, e: number, c: number) => ({
    index, formula,
    components: { energy: { raw: e, normalized: e + 1, weighted: 2 * (e + 1) }, creativity: { raw: c, normalized: c, weighted: c } },
    total: 2 * (e + 1) + c,
  });
  const rows = [row(0, "NaCl", -0.1, 1), row(1, null, -1, 0), row(2, "KBr", -0.3, 0.5)];
  const summary = (name: string, weight: number, fn: string | null) => ({ name, weight, normalizeFn: fn, logOnly: false, seconds: 0.5, zeroVarianceFraction: NaN });
  return { rows, components: [summary("energy", 2, "norm"), summary("creativity", 1, null)], total: rows.map((r) => r.total), zeroVarianceFraction: NaN, metricSeconds: {} };
}

test("componentStageRows / componentTable / componentSummaryTable read the decomposition", () => {
  const d = decomposition();
  assert.equal(componentStageRows(d, "weighted")[1], { label: "invalid #1", energy: 0, creativity: 0 });
  assert.equal(componentStageRows(d, "raw")[2], { label: "KBr #2", energy: -0.3, creativity: 0.5 });
  assert.equal(componentTable(d, "energy")[0], { structure: "NaCl #0", raw: -0.1, normalized: 0.9, weighted: 1.8 });
  const s = componentSummaryTable(d)[0];
  assert.is(s.component, "energy");
  assert.is(s.normalize_fn, "norm");
  assert.ok(Math.abs((s["raw mean"] as number) - -1.4 / 3) < 1e-12);
  assert.throws(() => componentTable(d, "density"), isFigureError(/"density" is not in this decomposition; it has energy, creativity/));
  assert.throws(() => componentStageRows(d, "scaled" as never), isFigureError(/stage must be one of raw, normalized, weighted/));
});

test("componentStagesFigure: raw left, normalised and weighted right, in the component colour", () => {
  const fig = componentStagesFigure(decomposition(), "energy", { unit: "eV/atom" });
  assert.is(fig.data.length, 3);
  assert.is((fig.data[2].marker as { color: string }).color, componentColor("energy"));
  assert.equal(fig.data[0].y, [-0.1, -1, -0.3]);
  assert.is(fig.data[2].name, "weighted (× 2)");
  assert.match(JSON.stringify(fig.layout), "energy raw (eV/atom)");
});

test("normalizeByStrategy equals normalizeArray per strategy; the summary sees centred groups and flat groups", () => {
  const x = [1, 2, 3, 4, 5, 5, 5, 5];
  const by = normalizeByStrategy(x, ["std", "clip", null], { groupSize: 4 });
  assert.equal(Object.keys(by), ["std", "clip", "none"]);
  assert.equal(by.std, normalizeArray(x, "std", 1e-4, { groupSize: 4 }));
  assert.equal(by.none, x);
  const rows = normalizationSummary(by, { groupSize: 4 });
  const std = rows.find((r) => r.strategy === "std")!;
  assert.ok((std["max |group mean|"] as number) < 1e-12, "std centres every group");
  assert.is(std["flat groups"], 0.5); // the second group is all zeros after std
  assert.is(rows.find((r) => r.strategy === "none")!["max |group mean|"], 5);
  assert.throws(() => normalizeByStrategy(x, []), isFigureError(/at least one normaliser/));
});

test("latentTrajectory: RMS over real atoms only, and one atom's channels, per entry", () => {
  // T+1 = 2 entries, B = 2 samples, N = 2 slots, C = 2 channels; sample 1 has one real atom.
  const zs = tf.tensor4d([
    [[[3, 4], [0, 0]], [[1, 1], [100, 100]]],
    [[[1, 1], [1, 1]], [[2, 2], [100, 100]]],
  ]);
  const mask = tf.tensor2d([[1, 1], [1, 0]]);
  const before = tf.memory().numTensors;
  const t = latentTrajectory(zs, mask, [1]);
  assert.is(tf.memory().numTensors, before, "no tensor leaks");
  assert.ok(Math.abs(t.rms[0][0] - Math.sqrt(25 / 4)) < 1e-6);
  assert.ok(Math.abs(t.rms[1][0] - 1) < 1e-6, "padding (100s) excluded");
  assert.ok(Math.abs(t.rms[1][1] - 2) < 1e-6);
  assert.equal(t.channels, [[4, 1]]);
  assert.throws(() => latentTrajectory(zs, mask, [2]), isFigureError(/channel 2 does not exist: latents have channels 0..1/));
  assert.throws(() => latentTrajectory(mask, mask), isFigureError(/collect_trajectory: true/));
  const fig = latentDenoisingFigure(t, { groupSize: 1 });
  assert.equal(fig.data.filter((tr) => tr.showlegend === true).map((tr) => tr.name), ["group 0", "group 1"]);
  tf.dispose([zs, mask]);
});

test("decodedTable: formula, sizes and validity per sample, with the decoder's reason", () => {
  const s = new Structure(Lattice.cubic(4), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]);
  const rows = decodedTable([{ structure: s }, { structure: null, reason: `invalid lattice ${"x".repeat(100)}` }], 1);
  assert.is(rows[0].formula, "NaCl");
  assert.is(rows[0]["V/atom (Å³)"], 32);
  assert.is(rows[1].valid, false);
  assert.is(rows[1].group, 1);
  assert.is((rows[1].reason as string).length, 70);
  assert.throws(() => decodedTable([], 0), isFigureError(/groupSize must be a positive integer/));
});

test("lossSeries, logProbShiftFigure and beforeAfterFigure shape their inputs and reject mismatches", () => {
  const step = (i: number): LossStep => ({ step: i, timestep: 900 - 100 * i, loss: i, surrogate: 0, kl: 0.1 * i, entropy: 1, ratio: 1, logRatio: 0, clipFrac: 0 });
  const { series, timesteps } = lossSeries([step(0), step(1)]);
  assert.equal(series.kl, [0, 0.1]);
  assert.equal(timesteps, [900, 800]);
  assert.throws(() => lossSeries([]), isFigureError(/no loss steps/));
  const shift = logProbShiftFigure([1, -1, 0.5, -0.5], [1e-4, -1e-4, 0, 0], 2);
  assert.is(shift.data.length, 2);
  assert.equal((shift.data[1] as Trace).x, [0.5, -0.5]);
  assert.throws(() => logProbShiftFigure([1], [1, 2], 1), isFigureError(/one of each per sample/));
  const ba = beforeAfterFigure([0, 1], [0.5, 1], "energy", { unit: "eV/atom", label: "energy raw" });
  assert.is((ba.data[1].marker as { color: string }).color, componentColor("energy"));
  assert.match(JSON.stringify(ba.layout), "energy raw (eV/atom), after");
  assert.throws(() => beforeAfterFigure([1], [], "x"), isFigureError(/pair them one to one/));
});

test.run();
