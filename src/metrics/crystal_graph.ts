/**
 * Crystal graphs for graph neural networks (CGCNN, Xie & Grossman, PRL 120, 145301 (2018)):
 * one node per site, a directed edge from each of a site's nearest neighbours (periodic
 * images included) to the site, within a cutoff radius and at most `maxNeighbors` per site.
 *
 *     const g = buildCrystalGraph(structure);                 // cutoff 8 Å, 12 neighbours
 *     const batch = batchGraphs([g1, g2], new GaussianDistance()); // flat arrays for tensors
 *
 * Node features describe the element (group, period, block, electronegativity, covalent
 * radius, Mendeleev number: one-hot bins, as CGCNN's `atom_init.json`, plus three scaled
 * continuous values), so an element rare in the training set still lands near its chemical
 * neighbours. Edge features are the distance expanded on Gaussians (CGCNN's
 * `GaussianDistance`: centres 0…8 Å every 0.2 Å, width 0.2 Å).
 *
 * Everything here is plain TypeScript arrays; cgcnn.ts turns a {@link GraphBatch} into tensors.
 */
import { CrystalGraphError } from "../crystal/errors.ts";
import { getElement } from "../crystal/elements.ts";
import type { Structure } from "../crystal/structure.ts";

export interface CrystalGraphOptions {
  /** Neighbour search radius in Å (default 8, as CGCNN). */
  cutoff?: number;
  /** Nearest neighbours kept per site (default 12, as CGCNN). */
  maxNeighbors?: number;
}

/** A structure's graph. Edge e points from `neighbors[e]` to `centers[e]` at `distances[e]` Å. */
export interface CrystalGraph {
  numAtoms: number;
  atomicNumbers: Int32Array;
  centers: Int32Array;
  neighbors: Int32Array;
  distances: Float64Array;
}

export const DEFAULT_CUTOFF = 8;
export const DEFAULT_MAX_NEIGHBORS = 12;

/**
 * Above this many pair-image distance evaluations a structure is refused: a lattice that
 * small or flat (common in half-trained generators) would take minutes and is not a crystal.
 */
const MAX_PAIR_IMAGES = 20_000_000;

/** Checks and fills graph options; bad values are a CrystalGraphError naming the fix. */
export function resolveGraphOptions(options: CrystalGraphOptions = {}): Required<CrystalGraphOptions> {
  const cutoff = options.cutoff ?? DEFAULT_CUTOFF;
  const maxNeighbors = options.maxNeighbors ?? DEFAULT_MAX_NEIGHBORS;
  if (!(typeof cutoff === "number" && cutoff > 0 && Number.isFinite(cutoff))) {
    throw new CrystalGraphError(`graph cutoff must be a positive number of Å (e.g. 8), got ${String(cutoff)}`);
  }
  if (!(Number.isInteger(maxNeighbors) && maxNeighbors > 0)) {
    throw new CrystalGraphError(`maxNeighbors must be a positive integer (e.g. 12), got ${String(maxNeighbors)}`);
  }
  return { cutoff, maxNeighbors };
}

/** Lattice translations (Cartesian, Å) that can bring any image of a wrapped site within `cutoff`. */
function imageTranslations(structure: Structure, cutoff: number): Float64Array {
  const m = structure.lattice.matrix;
  // Wrapped fractional coordinates differ by < 1, so one extra image per axis suffices.
  const n = structure.lattice.reciprocalLengths().map((l) => Math.ceil(cutoff * l) + 1);
  const count = (2 * n[0] + 1) * (2 * n[1] + 1) * (2 * n[2] + 1);
  const pairs = count * structure.length * structure.length;
  if (!(pairs <= MAX_PAIR_IMAGES)) {
    throw new CrystalGraphError(
      `structure ${structure.composition.reducedFormula} (volume ${structure.volume.toFixed(3)} Å³) needs ${pairs.toExponential(2)} ` +
        `pair-image distances for a ${cutoff} Å cutoff (limit ${MAX_PAIR_IMAGES}); its lattice is degenerate — check the cell, or lower the cutoff`,
    );
  }
  const out = new Float64Array(count * 3);
  let k = 0;
  for (let a = -n[0]; a <= n[0]; a++)
    for (let b = -n[1]; b <= n[1]; b++)
      for (let c = -n[2]; c <= n[2]; c++) {
        for (let x = 0; x < 3; x++) out[k * 3 + x] = a * m[0][x] + b * m[1][x] + c * m[2][x];
        k++;
      }
  return out;
}

/** Cartesian coordinates of the sites after wrapping fractional coordinates into [0, 1). */
function wrappedCartesian(structure: Structure): Float64Array {
  const m = structure.lattice.matrix;
  const out = new Float64Array(structure.length * 3);
  structure.fracCoords.forEach((f, i) => {
    const w = f.map((v) => v - Math.floor(v));
    for (let x = 0; x < 3; x++) out[i * 3 + x] = w[0] * m[0][x] + w[1] * m[1][x] + w[2] * m[2][x];
  });
  return out;
}

/**
 * Distances (and neighbour indices) from site i to every image of every site within `cutoff`,
 * excluding i itself; sorted by distance, then neighbour index.
 */
function siteNeighbors(i: number, cart: Float64Array, shifts: Float64Array, cutoff: number): Array<[number, number]> {
  const found: Array<[number, number]> = [];
  const n = cart.length / 3;
  const [xi, yi, zi] = [cart[i * 3], cart[i * 3 + 1], cart[i * 3 + 2]];
  const c2 = cutoff * cutoff;
  for (let s = 0; s < shifts.length; s += 3) {
    const isOrigin = shifts[s] === 0 && shifts[s + 1] === 0 && shifts[s + 2] === 0;
    for (let j = 0; j < n; j++) {
      if (isOrigin && j === i) continue;
      const dx = cart[j * 3] + shifts[s] - xi;
      const dy = cart[j * 3 + 1] + shifts[s + 1] - yi;
      const dz = cart[j * 3 + 2] + shifts[s + 2] - zi;
      const d2 = dx * dx + dy * dy + dz * dz;
      if (d2 <= c2) found.push([Math.sqrt(d2), j]);
    }
  }
  return found.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

/**
 * The crystal graph of `structure`: for each site its `maxNeighbors` nearest neighbours within
 * `cutoff` (fewer where fewer exist — an isolated site keeps its own features only).
 * @throws CrystalGraphError for bad options or a degenerate lattice.
 */
export function buildCrystalGraph(structure: Structure, options: CrystalGraphOptions = {}): CrystalGraph {
  const { cutoff, maxNeighbors } = resolveGraphOptions(options);
  if (structure.length === 0) throw new CrystalGraphError("cannot build a crystal graph of a structure with no sites");
  const cart = wrappedCartesian(structure);
  const shifts = imageTranslations(structure, cutoff);
  const centers: number[] = [];
  const neighbors: number[] = [];
  const distances: number[] = [];
  for (let i = 0; i < structure.length; i++) {
    for (const [d, j] of siteNeighbors(i, cart, shifts, cutoff).slice(0, maxNeighbors)) {
      centers.push(i);
      neighbors.push(j);
      distances.push(d);
    }
  }
  return {
    numAtoms: structure.length,
    atomicNumbers: Int32Array.from(structure.species, (s) => getElement(s).Z),
    centers: Int32Array.from(centers),
    neighbors: Int32Array.from(neighbors),
    distances: Float64Array.from(distances),
  };
}

export interface GaussianDistanceOptions {
  /** First centre (Å), default 0. */
  dmin?: number;
  /** Last centre (Å), default 8 (the cutoff). */
  dmax?: number;
  /** Spacing of the centres (Å), default 0.2. */
  step?: number;
  /** Gaussian width σ in exp(−(d − μ)²/σ²); default = step, as CGCNN. */
  width?: number;
}

/** Expansion of a distance on evenly spaced Gaussians: a smooth, learnable-friendly edge feature. */
export class GaussianDistance {
  readonly centers: Float64Array;
  readonly width: number;

  constructor(options: GaussianDistanceOptions = {}) {
    const dmin = options.dmin ?? 0;
    const dmax = options.dmax ?? DEFAULT_CUTOFF;
    const step = options.step ?? 0.2;
    this.width = options.width ?? step;
    if (!(dmax > dmin) || !(step > 0) || !(this.width > 0) || ![dmin, dmax, step, this.width].every(Number.isFinite)) {
      throw new CrystalGraphError(`GaussianDistance needs dmin < dmax and step, width > 0 (finite); got dmin ${dmin}, dmax ${dmax}, step ${step}, width ${this.width}`);
    }
    // Rounding guards against 8/0.2 = 39.99999… dropping the last centre.
    const count = Math.floor((dmax - dmin) / step + 1e-9) + 1;
    this.centers = Float64Array.from({ length: count }, (_, k) => dmin + k * step);
  }

  get size(): number {
    return this.centers.length;
  }

  /** Row-major [distances.length × size] expansion. */
  expand(distances: ArrayLike<number>): Float32Array {
    const g = this.size;
    const out = new Float32Array(distances.length * g);
    const inv = 1 / (this.width * this.width);
    for (let e = 0; e < distances.length; e++) {
      for (let k = 0; k < g; k++) {
        const t = distances[e] - this.centers[k];
        out[e * g + k] = Math.exp(-t * t * inv);
      }
    }
    return out;
  }
}

/** One-hot of `value` over `bins` equal bins of [lo, hi] (clamped), plus a trailing "missing" flag. */
function binned(value: number | null, lo: number, hi: number, bins: number): number[] {
  const out = new Array<number>(bins + 1).fill(0);
  if (value === null || !Number.isFinite(value)) {
    out[bins] = 1;
    return out;
  }
  const k = Math.min(bins - 1, Math.max(0, Math.floor(((value - lo) / (hi - lo)) * bins)));
  out[k] = 1;
  return out;
}

function oneHot(index: number, size: number): number[] {
  const out = new Array<number>(size).fill(0);
  if (index >= 0 && index < size) out[index] = 1;
  return out;
}

/** The element descriptor of atomic number `Z` (see the module comment); length {@link ELEMENT_FEATURE_SIZE}. */
export function elementFeatures(Z: number): number[] {
  const el = getElement(Z);
  const x = Number.isFinite(el.X) ? el.X : null;
  const blockIndex = ["s", "p", "d", "f"].indexOf(el.block);
  return [
    ...oneHot(el.group - 1, 18),
    ...oneHot(el.row - 1, 7),
    ...oneHot(blockIndex, 4),
    ...binned(x, 0.7, 4.0, 10),
    ...binned(el.covalentRadius, 0.25, 2.5, 10),
    ...binned(el.mendeleevNumber, 1, 103, 10),
    x === null ? 0 : x / 4,
    (el.covalentRadius ?? 0) / 2.5,
    el.Z / 100,
  ];
}

export const ELEMENT_FEATURE_SIZE = 18 + 7 + 4 + 11 * 3 + 3;

const featureCache = new Map<number, number[]>();

function cachedElementFeatures(Z: number): number[] {
  let f = featureCache.get(Z);
  if (!f) featureCache.set(Z, (f = elementFeatures(Z)));
  return f;
}

/** Several graphs as one disconnected graph, with flat arrays ready to become tensors. */
export interface GraphBatch {
  numGraphs: number;
  /** Total sites. */
  numAtoms: number;
  numEdges: number;
  /** Gaussians per edge (the expansion's size). */
  edgeFeatureSize: number;
  /** Row-major [numAtoms × ELEMENT_FEATURE_SIZE]. */
  atomFeatures: Float32Array;
  /** Row-major [numEdges × gaussian.size]. */
  edgeFeatures: Float32Array;
  /** Edge endpoints as indices into the batch's sites. */
  centers: Int32Array;
  neighbors: Int32Array;
  /** Graph of each site. */
  graphIndex: Int32Array;
  /** Sites per graph. */
  atomCounts: Int32Array;
}

/** Concatenates graphs (site indices offset per graph) and expands distances on `gaussian`. */
export function batchGraphs(graphs: readonly CrystalGraph[], gaussian: GaussianDistance): GraphBatch {
  if (graphs.length === 0) throw new CrystalGraphError("batchGraphs needs at least one graph");
  const numAtoms = graphs.reduce((n, g) => n + g.numAtoms, 0);
  const numEdges = graphs.reduce((n, g) => n + g.centers.length, 0);
  const atomFeatures = new Float32Array(numAtoms * ELEMENT_FEATURE_SIZE);
  const centers = new Int32Array(numEdges);
  const neighbors = new Int32Array(numEdges);
  const distances = new Float64Array(numEdges);
  const graphIndex = new Int32Array(numAtoms);
  let atom = 0;
  let edge = 0;
  graphs.forEach((g, gi) => {
    for (let i = 0; i < g.numAtoms; i++) {
      atomFeatures.set(cachedElementFeatures(g.atomicNumbers[i]), (atom + i) * ELEMENT_FEATURE_SIZE);
      graphIndex[atom + i] = gi;
    }
    for (let e = 0; e < g.centers.length; e++) {
      centers[edge + e] = g.centers[e] + atom;
      neighbors[edge + e] = g.neighbors[e] + atom;
      distances[edge + e] = g.distances[e];
    }
    atom += g.numAtoms;
    edge += g.centers.length;
  });
  const atomCounts = Int32Array.from(graphs, (g) => g.numAtoms);
  return { numGraphs: graphs.length, numAtoms, numEdges, edgeFeatureSize: gaussian.size, atomFeatures, edgeFeatures: gaussian.expand(distances), centers, neighbors, graphIndex, atomCounts };
}
