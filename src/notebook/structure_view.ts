/**
 * Crystal viewer: a plotly 3-D figure of one unit cell, like a minimal VESTA. Atoms are
 * coloured by element (Jmol colours) and sized by covalent radius; the cell's 12 edges and
 * the a/b/c axes are drawn; hovering an atom shows its element, site index and coordinates.
 */
import type { Structure } from "../crystal/structure.ts";
import { covalentRadius, elementColor } from "./element_style.ts";
import type { Figure, Trace } from "./plotly_types.ts";

export interface ViewStructureOptions {
  /** Also draw the periodic images of atoms on cell faces/edges/corners (as VESTA does); default true. */
  boundaryImages?: boolean;
  /** Marker size in px per Å of covalent radius; default 11. */
  sizeScale?: number;
  /** Figure title; default: reduced formula and cell parameters. */
  title?: string;
  width?: number;
  height?: number;
}

type V3 = [number, number, number];

/** Fractional tolerance for "on the boundary" (an atom at 0.9999 is drawn at 0 and 1). */
const BOUNDARY_TOL = 1e-3;

/** Wraps a fractional coordinate into [0, 1), snapping values within the tolerance of 1 to 0. */
function wrap(x: number): number {
  const w = x - Math.floor(x);
  return w > 1 - BOUNDARY_TOL ? 0 : w;
}

/** The wrapped site plus, when requested, its images at 1 for every coordinate that is ~0. */
export function siteImages(frac: readonly number[], boundaryImages: boolean): V3[] {
  const base = frac.map(wrap) as V3;
  let images: V3[] = [base];
  if (!boundaryImages) return images;
  for (let axis = 0; axis < 3; axis++) {
    if (base[axis] >= BOUNDARY_TOL) continue;
    images = images.flatMap((p) => [p, p.map((v, k) => (k === axis ? v + 1 : v)) as V3]);
  }
  return images;
}

/** Line trace of the 12 cell edges (pairs of corners that differ in one fractional coordinate). */
function cellEdgesTrace(structure: Structure): Trace {
  const xs: (number | null)[] = [];
  const ys: (number | null)[] = [];
  const zs: (number | null)[] = [];
  for (let corner = 0; corner < 8; corner++)
    for (let axis = 0; axis < 3; axis++) {
      if (corner & (1 << axis)) continue;
      const from = [0, 1, 2].map((k) => (corner >> k) & 1);
      const to = from.map((v, k) => (k === axis ? 1 : v));
      for (const p of [structure.lattice.getCartesianCoords(from), structure.lattice.getCartesianCoords(to)]) {
        xs.push(p[0]), ys.push(p[1]), zs.push(p[2]);
      }
      xs.push(null), ys.push(null), zs.push(null);
    }
  return { type: "scatter3d", mode: "lines", x: xs, y: ys, z: zs, line: { color: "#555", width: 3 }, hoverinfo: "skip", showlegend: false, name: "cell" };
}

/** Labels "a", "b", "c" just beyond the tips of the lattice vectors. */
function axisLabelsTrace(structure: Structure): Trace {
  const tips = structure.lattice.matrix.map((v) => v.map((x) => x * 1.15));
  return {
    type: "scatter3d", mode: "text", text: ["a", "b", "c"], textfont: { size: 16, color: "#b00" },
    x: tips.map((t) => t[0]), y: tips.map((t) => t[1]), z: tips.map((t) => t[2]), hoverinfo: "skip", showlegend: false, name: "axes",
  };
}

const fmt = (v: readonly number[], d: number) => v.map((x) => x.toFixed(d)).join(", ");

/** One marker trace per element, so the legend lists elements and toggles them. */
function atomTraces(structure: Structure, opts: Required<Pick<ViewStructureOptions, "boundaryImages" | "sizeScale">>): Trace[] {
  const byElement = new Map<string, { pts: V3[]; text: string[] }>();
  structure.species.forEach((el, i) => {
    const entry = byElement.get(el) ?? { pts: [], text: [] };
    for (const f of siteImages(structure.fracCoords[i], opts.boundaryImages)) {
      const c = structure.lattice.getCartesianCoords(f);
      entry.pts.push(c);
      entry.text.push(`<b>${el}</b> (site ${i})<br>frac: (${fmt(f, 4)})<br>cart: (${fmt(c, 3)}) Å`);
    }
    byElement.set(el, entry);
  });
  return [...byElement].map(([el, { pts, text }]) => ({
    type: "scatter3d", mode: "markers", name: el,
    x: pts.map((p) => p[0]), y: pts.map((p) => p[1]), z: pts.map((p) => p[2]),
    text, hovertemplate: "%{text}<extra></extra>",
    marker: { size: covalentRadius(el) * opts.sizeScale, color: elementColor(el), opacity: 1, line: { color: "#333", width: 1 } },
  }));
}

function defaultTitle(structure: Structure): string {
  const comp = structure.composition as unknown as { reducedFormula?: string; formula: string };
  const [a, b, c, al, be, ga] = structure.lattice.parameters;
  return `${comp.reducedFormula ?? comp.formula}  (a=${a.toFixed(3)} Å, b=${b.toFixed(3)} Å, c=${c.toFixed(3)} Å, α=${al.toFixed(1)}°, β=${be.toFixed(1)}°, γ=${ga.toFixed(1)}°)`;
}

/** A plotly 3-D figure of the structure's unit cell; show it with `showFigure`. */
export function viewStructure(structure: Structure, options: ViewStructureOptions = {}): Figure {
  const opts = { boundaryImages: options.boundaryImages ?? true, sizeScale: options.sizeScale ?? 11 };
  const axis = (t: string) => ({ title: { text: t }, backgroundcolor: "white", gridcolor: "#ddd", showbackground: true });
  return {
    data: [cellEdgesTrace(structure), axisLabelsTrace(structure), ...atomTraces(structure, opts)],
    layout: {
      title: { text: options.title ?? defaultTitle(structure), font: { size: 14 } },
      width: options.width ?? 700,
      height: options.height ?? 560,
      margin: { l: 0, r: 0, t: 50, b: 0 },
      legend: { title: { text: "element" }, itemsizing: "constant" },
      scene: { aspectmode: "data", xaxis: axis("x (Å)"), yaxis: axis("y (Å)"), zaxis: axis("z (Å)"), camera: { eye: { x: 1.6, y: -1.6, z: 1.1 } } },
      paper_bgcolor: "white",
    },
  };
}
