import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FigureError } from "../../src/crystal/errors.ts";
import { Lattice } from "../../src/crystal/lattice.ts";
import { Structure } from "../../src/crystal/structure.ts";
import { componentColor, componentKey } from "../../src/notebook/colors.ts";
import { covalentRadius, elementColor } from "../../src/notebook/element_style.ts";
import { figureToHtml, scriptJson } from "../../src/notebook/figure_html.ts";
import { advantagesByGroupFigure, normalizationFigure, rewardDecompositionFigure } from "../../src/notebook/reward_figures.ts";
import { figureFormat } from "../../src/notebook/save_figure.ts";
import { siteImages, viewStructure } from "../../src/notebook/structure_view.ts";
import { ema, perTimestepFigure, readMetricsJsonl, trainingCurvesFigure } from "../../src/notebook/training_figures.ts";
import { axisTitle, unitFor } from "../../src/notebook/units.ts";
import type { Trace } from "../../src/notebook/plotly_types.ts";

const isFigureError = (re: RegExp) => (e: unknown) => e instanceof FigureError && re.test((e as Error).message);

/** Rock salt NaCl, conventional cell (a = 5.64 Å). */
function nacl(): Structure {
  const na = [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]];
  const cl = [[0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5], [0.5, 0.5, 0.5]];
  return new Structure(Lattice.cubic(5.64), [...na.map(() => "Na"), ...cl.map(() => "Cl")], [...na, ...cl]);
}

test("element style: Jmol colours and Cordero covalent radii (pymatgen values)", () => {
  assert.is(elementColor("Na"), "#ab5cf2");
  assert.is(elementColor("O"), "#ff0d0d");
  assert.is(covalentRadius("Na"), 1.66);
  assert.is(covalentRadius("Cl"), 1.02);
  assert.is(covalentRadius("Md"), 1.5); // not tabulated → fallback
});

test("siteImages wraps into [0,1) and repeats boundary atoms on the opposite faces", () => {
  assert.equal(siteImages([-0.25, 1.5, 0.3], true), [[0.75, 0.5, 0.3]]);
  assert.is(siteImages([0, 0, 0], true).length, 8);
  assert.is(siteImages([0.9999, 0.5, 0.5], true).length, 2);
  assert.is(siteImages([0, 0, 0], false).length, 1);
});

test("viewStructure: 12 cell edges, one trace per element, colours, sizes and hover text", () => {
  const fig = viewStructure(nacl());
  const edges = fig.data[0] as Trace & { x: (number | null)[] };
  assert.is(edges.x.length, 12 * 3); // two corners + a gap per edge
  assert.is(edges.x.filter((v) => v === null).length, 12);
  const na = fig.data.find((t) => t.name === "Na") as Trace & { x: number[]; marker: { color: string; size: number }; text: string[] };
  const cl = fig.data.find((t) => t.name === "Cl") as Trace & { x: number[] };
  assert.is(na.x.length, 8 + 2 + 2 + 2); // corner atom ×8, face centres ×2
  assert.is(cl.x.length, 4 + 4 + 4 + 1); // edge centres on 4 parallel edges each, body centre once
  assert.is(na.marker.color, "#ab5cf2");
  assert.ok(Math.abs(na.marker.size - 1.66 * 11) < 1e-12);
  assert.match(na.text[0], "frac: (0.0000, 0.0000, 0.0000)");
  assert.match(String((fig.layout!.title as { text: string }).text), "a=5.640 Å");
});

test("componentColor: one colour per component whatever the spelling; stable for custom names", () => {
  assert.is(componentKey("src.rl_module.components.EnergyReward"), "energy");
  assert.is(componentColor("EnergyReward"), componentColor("energy"));
  assert.is(componentColor("energy_reward"), componentColor("energy"));
  assert.is.not(componentColor("energy"), componentColor("creativity"));
  assert.is(componentColor("my_density_target"), componentColor("my_density_target"));
});

test("units: axis titles carry eV/atom, Å³/atom, Å", () => {
  assert.is(unitFor("e_above_hull"), "eV/atom");
  assert.is(unitFor("volume_per_atom"), "Å³/atom");
  assert.is(axisTitle("a"), "a (Å)");
  assert.is(axisTitle("creativity"), "creativity");
  assert.is(axisTitle("energy", "eV/atom"), "energy (eV/atom)");
});

test("rewardDecompositionFigure: stacked bars per component, total, one histogram per component", () => {
  const rows = [
    { label: "A", creativity: 1, energy: -0.2 },
    { label: "B", creativity: 0.5, energy: -0.1 },
    { label: "A", creativity: 0, energy: 0 },
  ];
  const fig = rewardDecompositionFigure(rows, { units: { energy: "eV/atom" } });
  const bars = fig.data.filter((t) => t.type === "bar");
  const hists = fig.data.filter((t) => t.type === "histogram");
  assert.equal(bars.map((t) => t.name), ["creativity", "energy"]);
  assert.equal(hists.map((t) => t.name), ["creativity", "energy"]);
  assert.is((bars[1].marker as { color: string }).color, componentColor("energy"));
  assert.is((hists[1].marker as { color: string }).color, componentColor("energy"));
  assert.equal(bars[0].x, ["A", "B", "A (2)"]); // duplicate labels kept apart
  const total = fig.data.find((t) => t.name === "total")!;
  assert.ok((total.y as number[]).every((v, i) => Math.abs(v - [0.8, 0.4, 0][i]) < 1e-12));
  assert.is(fig.layout!.barmode, "relative");
  const axisTitles = JSON.stringify(fig.layout);
  assert.match(axisTitles, "energy (eV/atom)");
});

test("rewardDecompositionFigure rejects empty input and NaN components", () => {
  assert.throws(() => rewardDecompositionFigure([]), isFigureError(/non-empty/));
  assert.throws(() => rewardDecompositionFigure([{ label: "x" }]), isFigureError(/no numeric component/));
  assert.throws(() => rewardDecompositionFigure([{ energy: NaN }]), isFigureError(/energy.*\[0\] is NaN/));
});

test("normalizationFigure: raw box, one box per strategy, monotone raw→normalised mapping", () => {
  const raw = [3, 1, 2];
  const fig = normalizationFigure(raw, { subtract_mean: [1, -1, 0], clip: [1, 1, 1] });
  const boxes = fig.data.filter((t) => t.type === "box");
  assert.equal(boxes.map((t) => t.name), ["raw reward", "subtract_mean", "clip"]);
  const map = fig.data.find((t) => t.type === "scatter" && t.name === "subtract_mean")!;
  assert.equal(map.x, [1, 2, 3]);
  assert.equal(map.y, [-1, 0, 1]);
  assert.throws(() => normalizationFigure(raw, { std: [1, 2] }), isFigureError(/has 2 values but before has 3/));
  assert.throws(() => normalizationFigure(raw, {}), isFigureError(/at least one strategy/));
});

test("advantagesByGroupFigure: one bar trace per group and the group means", () => {
  const fig = advantagesByGroupFigure([1, -1, 2, 4], 2);
  const bars = fig.data.filter((t) => t.type === "bar");
  assert.equal(bars.map((t) => t.x), [[0, 1], [2, 3]]);
  const means = fig.data.filter((t) => t.name === "group mean").map((t) => (t.y as number[])[0]);
  assert.equal(means, [0, 3]);
  assert.throws(() => advantagesByGroupFigure([1, 2, 3], 2), isFigureError(/not a positive multiple of groupSize 2/));
  assert.throws(() => advantagesByGroupFigure([1, 2], 0), isFigureError(/groupSize must be a positive integer/));
});

test("perTimestepFigure: one panel per series, clip band at 1 ± ε, length checks", () => {
  const fig = perTimestepFigure({ ratio: [1, 1.1, 0.9], kl: [0, 0.1, 0.2] }, { clipRatio: 0.2 });
  const lines = fig.data.filter((t) => String(t.name).startsWith("clip band"));
  assert.equal(lines.map((t) => (t.y as number[])[0]), [1.2, 0.8]);
  assert.is(fig.data.filter((t) => t.mode === "lines+markers").length, 2);
  assert.throws(() => perTimestepFigure({}), isFigureError(/at least one/));
  assert.throws(() => perTimestepFigure({ ratio: [1, 2], kl: [1] }), isFigureError(/kl has 1 values/));
});

test("trainingCurvesFigure + readMetricsJsonl: EMA overlay, missing keys and bad lines are named", () => {
  assert.equal(ema([0, 10, 10], 0.5), [0, 5, 7.5]);
  const dir = mkdtempSync(join(tmpdir(), "metrics-"));
  try {
    const file = join(dir, "metrics.jsonl");
    writeFileSync(file, '{"step": 0, "loss": 1}\n\n{"step": 5, "loss": 0.5, "reward_mean": 2}\n');
    const recs = readMetricsJsonl(file);
    assert.is(recs.length, 2);
    const fig = trainingCurvesFigure(recs, ["loss", "reward_mean"]);
    const loss = fig.data.filter((t) => String(t.name).startsWith("loss"));
    assert.equal(loss[0].x, [0, 5]);
    assert.equal(loss[1].y, [1, 0.8]);
    const reward = fig.data.find((t) => t.name === "reward_mean")!;
    assert.equal(reward.x, [5]); // records without the key are skipped
    assert.throws(() => trainingCurvesFigure(recs, ["lsos"]), isFigureError(/"lsos" has no finite values/));
    writeFileSync(file, '{"step": 0}\nnot json\n');
    assert.throws(() => readMetricsJsonl(file), isFigureError(/line 2 is not a JSON object/));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("trainingCurvesFigure: short y titles with units, power-of-ten ticks, markers when unsmoothed", () => {
  const recs = [{ step: 0, "train/reward/energy": -0.1, kl: 5e-7 }, { step: 1, "train/reward/energy": -0.05, kl: 2e-6 }];
  const fig = trainingCurvesFigure(recs, ["train/reward/energy", "kl"], { smoothing: 0, units: { "train/reward/energy": "eV/atom" } });
  const layout = fig.layout as Record<string, { title?: { text: string }; exponentformat?: string }>;
  assert.is(layout.yaxis.title!.text, "energy (eV/atom)"); // the panel title carries the full key
  assert.is(layout.yaxis2.title!.text, "kl");
  assert.is(layout.yaxis2.exponentformat, "power"); // 5×10⁻⁷, not plotly's SI "500n"
  assert.equal(fig.data.map((t) => t.mode), ["lines+markers", "lines+markers"]);
  const totals = trainingCurvesFigure([{ step: 0, "train/reward": 2, "train/reward_raw": 0.9, "train/reward/energy": -0.1 }], ["train/reward", "train/reward_raw", "train/reward/energy"]);
  const colors = totals.data.map((t) => (t.line as { color: string }).color);
  assert.equal([...new Set(colors)], [componentColor("total"), componentColor("energy")]);
  const smoothed = trainingCurvesFigure(recs, ["kl"]);
  assert.equal(smoothed.data.map((t) => t.mode), ["lines", "lines"]);
});

test("figureToHtml: safe script JSON, fallback image, typed arrays as arrays", () => {
  assert.is(scriptJson({ t: "</script><b>" }), '{"t":"<\\/script><b>"}');
  assert.is(scriptJson({ y: new Float64Array([1.5, 2]) }), '{"y":[1.5,2]}');
  const html = figureToHtml({ data: [{ type: "bar", name: "</script>", y: [1] }] }, { id: "f1", fallbackPng: new Uint8Array([137, 80]) });
  assert.is(html.split("</script>").length, 2); // only the closing tag of our own script
  assert.match(html, 'src="data:image/png;base64,iVA="');
  assert.match(html, 'getElementById("f1")');
  assert.throws(() => figureToHtml({} as never, { id: "f" }), isFigureError(/Expected a plotly figure/));
});

test("figureFormat: png/svg/pdf by extension, anything else is a FigureError", () => {
  assert.is(figureFormat("out/x.PNG"), "png");
  assert.is(figureFormat("x.svg"), "svg");
  assert.is(figureFormat("x.pdf"), "pdf");
  assert.throws(() => figureFormat("x.jpg"), isFigureError(/\.png, \.svg or \.pdf/));
});

test.run();
