/**
 * Why the energy reward is what it is: for each generated structure, the model's formation
 * energy, the reference hull's energy at that composition, the signed energy above hull and
 * the hull phases that bound it — and a figure of the signed distribution.
 *
 * EnergyReward only sees −clamp(E_hull, 0, 1), which is exactly 0 for every sample at or below
 * the hull. On a small reference hull (the 1,355 bundled MP-20 rows) many generated chemical
 * systems hold no data-set compound, so their hull energy is the elements' 0 eV/atom and any
 * negative predicted formation energy lands below it. The signed values show how far below,
 * which the clamped reward hides.
 */
import { FigureError } from "../crystal/errors.ts";
import type { Structure } from "../crystal/structure.ts";
import type { EAboveHullCalculator } from "../metrics/energy.ts";
import { componentColor } from "./colors.ts";
import { baseLayout, cellAxes, cellTitle, subplotGrid } from "./figure_layout.ts";
import type { Figure, Trace } from "./plotly_types.ts";

/** One structure against the reference hull (energies in eV/atom; NaN for a null slot or no energy). */
export interface HullRow {
  index: number;
  formula: string | null;
  /** The model's formation energy per atom (= E_hull + hull energy; elemental cells floored as the model does). */
  formationEnergy: number;
  /** Hull energy per atom at the structure's composition. */
  hullEnergy: number;
  /** Signed energy above hull: negative below the hull. */
  eAboveHull: number;
  /**
   * True when the hull at this composition is the elements alone (hull energy 0): the data set
   * has no compound with a negative formation energy in this chemical system or its subsystems.
   */
  elementsOnly: boolean;
  /** Hull phases and atom fractions, largest first, e.g. "Li2O 0.75 + O2 0.25" (at most 3, then "+ n more"; "" for a null slot). */
  hullPhases: string;
}

/** Below this (eV/atom) a hull energy counts as the elements' 0. */
const ZERO_TOL = 1e-9;

/** Hull phases shown per structure; the rest are counted ("+ 4 more"), so a table row stays one line. */
const MAX_PHASES = 3;

function phasesText(calc: EAboveHullCalculator, s: Structure): string {
  const terms = calc.hull.getDecomposition(s.composition).map((t) => `${t.entry.composition.reducedFormula} ${t.fraction.toFixed(2)}`);
  const rest = terms.length - MAX_PHASES;
  return terms.slice(0, MAX_PHASES).join(" + ") + (rest > 0 ? ` + ${rest} more` : "");
}

/**
 * Hull breakdown of generated structures (null = decode failure) under `calc`, the calculator
 * a reward's metrics use (`await reward.metrics.energy()`), so the E_hull values are the ones
 * EnergyReward saw (cached per structure: no second model evaluation).
 */
export async function hullRows(structures: readonly (Structure | null)[], calc: EAboveHullCalculator): Promise<HullRow[]> {
  if (!Array.isArray(structures) || structures.length === 0) throw new FigureError("hullRows needs a non-empty array of structures (null for a decode failure).");
  const valid = structures.filter((s): s is Structure => s !== null);
  const eHull = valid.length ? await calc.eAboveHull(valid) : [];
  let k = 0;
  return structures.map((s, index) => {
    if (s === null) return { index, formula: null, formationEnergy: NaN, hullEnergy: NaN, eAboveHull: NaN, elementsOnly: false, hullPhases: "" };
    const e = eHull[k++];
    const hullEnergy = calc.hull.getHullEnergyPerAtom(s.composition);
    return {
      index, formula: s.composition.reducedFormula, formationEnergy: e + hullEnergy, hullEnergy, eAboveHull: e,
      elementsOnly: Math.abs(hullEnergy) < ZERO_TOL, hullPhases: phasesText(calc, s),
    };
  });
}

/** Counts behind the energy reward: how many samples sit at/below the hull, and why. */
export function hullSummary(rows: readonly HullRow[]): Record<string, number> {
  const finite = rows.filter((r) => Number.isFinite(r.eAboveHull));
  const below = finite.filter((r) => r.eAboveHull <= 0);
  return {
    samples: rows.length,
    "with an energy": finite.length,
    "E_hull ≤ 0 (reward 0)": below.length,
    "… of which hull = elements only": below.filter((r) => r.elementsOnly).length,
    "0 < E_hull < 1 (graded reward)": finite.filter((r) => r.eAboveHull > 0 && r.eAboveHull < 1).length,
    "median E_hull (eV/atom)": median(finite.map((r) => r.eAboveHull)),
  };
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const ELEMENTS_ONLY = { name: "hull = elements only (no data-set compound)", color: "#9DB7CF" };

/** Bin width (eV/atom) giving about 12 bins over the data, rounded to 1, 2 or 5 × 10^k. */
function binWidth(values: readonly number[]): number {
  const span = Math.max(...values) - Math.min(...values) || 0.1;
  const raw = span / 12;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((w) => w >= raw)!;
}

/**
 * Left: histogram of the signed E_hull (stacked: hull with data-set compounds in the energy
 * colour, elements-only hull in pale blue), with the reward's clamp boundary at 0. Right: the
 * model's formation energy (y) against the hull energy at the composition (x), with the
 * E_hull = 0 diagonal: points below it are below the hull, points on the x = 0 column are the
 * chemical systems with no data-set compound.
 * @throws FigureError when no row has a finite E_hull.
 */
export function eAboveHullFigure(rows: readonly HullRow[], options: { title?: string } = {}): Figure {
  const finite = rows.filter((r) => Number.isFinite(r.eAboveHull));
  if (finite.length === 0) throw new FigureError("eAboveHullFigure: no structure has a finite E_hull (all decode failures?); nothing to plot.");
  const [[left, right]] = subplotGrid(1, 2, { hgap: 0.12 });
  const energy = componentColor("energy");
  const size = binWidth(finite.map((r) => r.eAboveHull));
  const start = Math.floor(Math.min(...finite.map((r) => r.eAboveHull)) / size) * size;
  const groups = [
    { name: "hull with data-set compounds", color: energy, rows: finite.filter((r) => !r.elementsOnly) },
    { ...ELEMENTS_ONLY, rows: finite.filter((r) => r.elementsOnly) },
  ];
  const label = (r: HullRow) => `${r.formula} #${r.index}`;
  const data: Trace[] = groups.flatMap((g) => [
    { type: "histogram", name: g.name, legendgroup: g.name, x: g.rows.map((r) => r.eAboveHull), xbins: { start, size }, marker: { color: g.color, line: { color: "white", width: 1 } }, xaxis: left.x, yaxis: left.y },
    {
      type: "scatter", mode: "markers", name: g.name, legendgroup: g.name, showlegend: false, x: g.rows.map((r) => r.hullEnergy), y: g.rows.map((r) => r.formationEnergy),
      text: g.rows.map(label), marker: { size: 9, color: g.color, line: { color: "#333", width: 0.5 } }, xaxis: right.x, yaxis: right.y,
    },
  ]);
  const energies = finite.flatMap((r) => [r.formationEnergy, r.hullEnergy]);
  const [lo, hi] = [Math.min(0, ...energies), Math.max(0.2, ...energies)];
  data.push({ type: "scatter", mode: "lines", name: "E_form = hull energy (E_hull = 0)", x: [lo, hi], y: [lo, hi], line: { color: "#888", dash: "dot", width: 1 }, xaxis: right.x, yaxis: right.y, hoverinfo: "skip" });
  const layout = baseLayout(options.title ?? `Signed energy above hull of ${finite.length} samples (the reward only sees −clamp(E_hull, 0, 1))`, {
    width: 1000, height: 440, barmode: "stack",
    legend: { orientation: "h", x: 0, y: -0.22, yanchor: "top" },
    margin: { l: 70, r: 30, t: 80, b: 110 },
    ...cellAxes(left, "E_hull (eV/atom), signed", "samples"),
    ...cellAxes(right, "hull energy at the composition (eV/atom)", "predicted formation energy (eV/atom)"),
    shapes: [{ type: "line", xref: left.x, yref: "paper", x0: 0, x1: 0, y0: left.yDomain[0], y1: left.yDomain[1], line: { color: "#c00", dash: "dash", width: 1.5 } }],
    annotations: [
      cellTitle(left, "E_hull distribution"), cellTitle(right, "E_form vs hull energy (below the diagonal: E_hull < 0)"),
      { text: "reward 0 ← | → reward −E_hull", xref: left.x, yref: "paper", x: 0, y: left.yDomain[1] - 0.02, xanchor: "center", yanchor: "top", showarrow: false, font: { size: 11, color: "#c00" }, bgcolor: "rgba(255,255,255,0.8)" },
    ],
  });
  return { data, layout };
}
