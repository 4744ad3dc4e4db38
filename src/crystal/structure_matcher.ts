/**
 * StructureMatcher: are two crystals the same structure, within tolerances? A re-implementation
 * of pymatgen's `StructureMatcher` (same options, defaults and verdicts) for users coming from
 * pymatgen.
 *
 * How a pair is compared (pymatgen's algorithm):
 * 1. Reduced compositions must be equal (a fast `false` otherwise).
 * 2. Each structure is Niggli-reduced, then reduced to its primitive cell with pymatgen's
 *    tolerance-based finder (`primitive.ts`), then both are scaled to the same volume (`scale`).
 * 3. Every triple of lattice vectors of one structure whose lengths are within `ltol` and angles
 *    within `angleTol` of the other's cell is a candidate mapping. Distances are measured in the
 *    average of the two cells.
 * 4. For each mapping, one site of the rarest species is laid onto each same-species site of the
 *    other structure; if all sites then lie near some partner (per-axis fractional tolerance),
 *    the optimal one-to-one pairing (linear assignment) gives the site displacements after the
 *    mean shift is removed, normalised by (V/n)^(1/3).
 * 5. `fit` is true when some mapping's largest displacement is below `stol`; `getRmsDist` returns
 *    the smallest RMS displacement over all mappings and that mapping's largest displacement.
 *
 * pymatgen's `fit` is not symmetric (only one structure's lattice is searched). With
 * `symmetric: true` we do what pymatgen's `fit(..., symmetric=True)` does: the pair matches only
 * if both orders match; `getRmsDist` then reports the order with the larger RMS (the worse one).
 */
import { StructureError } from "./errors.ts";
import { det3, inv3, roundHalfEven, type Mat3, type Vec3 } from "./linalg.ts";
import { findAllMappings, latticeParameters, matrixFromParameters, reciprocalLengths, scaleMatrix } from "./matcher_lattice.ts";
import { niggliReducedCell, primitiveCell, type RawCell } from "./primitive.ts";
import { distanceFrame, isSubsetPbc, siteDistances } from "./site_mapping.ts";
import { validateForMatching, reducedFormulaKey } from "./matcher_input.ts";
import type { Structure } from "./structure.ts";

export interface StructureMatcherOptions {
  /** Fractional length tolerance for lattice vectors. Default 0.2. */
  ltol?: number;
  /** Site tolerance as a fraction of the average free length per atom (V/n)^(1/3). Default 0.3. */
  stol?: number;
  /** Angle tolerance in degrees. Default 5. */
  angleTol?: number;
  /** Reduce both structures to primitive cells first. Default true. */
  primitiveCell?: boolean;
  /** Scale both structures to the same volume first. Default true. */
  scale?: boolean;
  /** Try supercells of the smaller cell when site counts differ. Default false. */
  attemptSupercell?: boolean;
  /** Let one structure match a subset of the other's sites (no composition check). Default false. */
  allowSubset?: boolean;
  /** Match only if both argument orders match (pymatgen `fit(symmetric=True)`). Default false. */
  symmetric?: boolean;
  /** "species" (pymatgen default) or "element"; identical for our ordered, charge-free structures. */
  comparator?: "species" | "element";
  /** Atoms closer than this (Å) are rejected as overlapping. Default 0.01. */
  minSeparation?: number;
}

type ResolvedOptions = Required<StructureMatcherOptions>;

const DEFAULTS: ResolvedOptions = {
  ltol: 0.2,
  stol: 0.3,
  angleTol: 5,
  primitiveCell: true,
  scale: true,
  attemptSupercell: false,
  allowSubset: false,
  symmetric: false,
  comparator: "species",
  minSeparation: 0.01,
};

/** A validated structure with its composition key and (lazily) its reduced cell. */
export interface PreparedStructure {
  readonly structure: Structure;
  /** Reduced formula with elements sorted alphabetically, e.g. "Fe3Ni". */
  readonly formulaKey: string;
  /** Niggli (+ primitive) reduced cell, computed (after the input checks) on first use. */
  reduced(): RawCell;
  /** Run the input checks now if they have not run yet. @throws StructureError for invalid input. */
  validate(): void;
}

interface Match {
  value: number;
  dist: Float64Array;
}

export class StructureMatcher {
  readonly options: Readonly<ResolvedOptions>;
  private readonly cache = new WeakMap<Structure, PreparedStructure>();

  constructor(options: StructureMatcherOptions = {}) {
    const o = { ...DEFAULTS, ...stripUndefined(options) };
    for (const k of ["ltol", "stol", "angleTol", "minSeparation"] as const)
      if (!(Number.isFinite(o[k]) && o[k] >= 0))
        throw new StructureError(`StructureMatcher option ${k} must be a finite number ≥ 0, got ${o[k]}.`);
    if (o.comparator !== "species" && o.comparator !== "element")
      throw new StructureError(`StructureMatcher comparator must be "species" or "element", got ${JSON.stringify(o.comparator)}.`);
    if (o.allowSubset && o.attemptSupercell)
      throw new StructureError(`StructureMatcher: allowSubset cannot be combined with attemptSupercell (as in pymatgen); set one of them to false.`);
    this.options = Object.freeze(o);
  }

  /**
   * Validate once and cache the reduced cell (keyed by object identity), so matching one
   * structure against many reduces it only once.
   * @throws StructureError for zero atoms, non-finite coordinates or overlapping atoms.
   */
  prepare(structure: Structure): PreparedStructure {
    const prepared = this.prepareDeferred(structure);
    prepared.validate();
    return prepared;
  }

  /**
   * Like `prepare`, but the input checks wait until the reduced cell is first needed (they run
   * before any lattice work), so bucketing many structures by formula costs only the formula
   * key. Used for reference sets, where most structures never meet a same-formula query.
   * @throws StructureError from `reduced()` (or a later `prepare` of the same structure) for invalid input.
   */
  prepareDeferred(structure: Structure): PreparedStructure {
    const hit = this.cache.get(structure);
    if (hit) return hit;
    const prepared = new Prepared(structure, this.options.primitiveCell, this.options.minSeparation);
    this.cache.set(structure, prepared);
    return prepared;
  }

  /** Wrap an already reduced cell (e.g. loaded from a saved index) without reducing it again. */
  prepareReduced(structure: Structure, reduced: RawCell): PreparedStructure {
    // A saved index holds cells that were validated when they were reduced.
    const prepared = new Prepared(structure, this.options.primitiveCell, this.options.minSeparation, reduced);
    this.cache.set(structure, prepared);
    return prepared;
  }

  /** True when the structures match within the tolerances (pymatgen `fit`). */
  fit(a: Structure, b: Structure): boolean {
    return this.fitPrepared(this.prepare(a), this.prepare(b));
  }

  fitPrepared(a: PreparedStructure, b: PreparedStructure): boolean {
    if (!this.options.allowSubset && a.formulaKey !== b.formulaKey) return false;
    if (!this.matchPrepared(a, b, false, true)) return false;
    return !this.options.symmetric || this.matchPrepared(b, a, false, true) !== null;
  }

  /**
   * [normalised RMS displacement, largest normalised displacement] of the best mapping, or null
   * when no mapping is within tolerance (pymatgen `get_rms_dist`).
   */
  getRmsDist(a: Structure, b: Structure): [number, number] | null {
    const pa = this.prepare(a);
    const pb = this.prepare(b);
    if (!this.options.allowSubset && pa.formulaKey !== pb.formulaKey) return null;
    const m = this.matchPrepared(pa, pb, true, false);
    if (!m) return null;
    let out: [number, number] = [m.value, Math.max(...m.dist)];
    if (this.options.symmetric) {
      const back = this.matchPrepared(pb, pa, true, false);
      if (!back) return null;
      if (back.value > out[0]) out = [back.value, Math.max(...back.dist)];
    }
    return out;
  }

  /**
   * Group structures by equivalence (pymatgen `group_structures`): structures are bucketed by
   * reduced formula (buckets in sorted key order), and within a bucket the first unmatched
   * structure takes every later one that it fits. Like pymatgen, this is order dependent:
   * if a≈b and a≉c, b and c land in different groups without being compared.
   */
  group(structures: readonly Structure[]): Structure[][] {
    if (this.options.allowSubset) throw new StructureError(`group() cannot be used with allowSubset (as in pymatgen); create a matcher without it.`);
    const prepared = structures.map((s) => this.prepare(s));
    const order = prepared.map((_, i) => i).sort((i, j) => (prepared[i].formulaKey < prepared[j].formulaKey ? -1 : prepared[i].formulaKey > prepared[j].formulaKey ? 1 : i - j));
    const groups: Structure[][] = [];
    let start = 0;
    while (start < order.length) {
      let end = start;
      while (end < order.length && prepared[order[end]].formulaKey === prepared[order[start]].formulaKey) end++;
      let unmatched = order.slice(start, end);
      while (unmatched.length) {
        const [ref, ...rest] = unmatched;
        const hits = rest.filter((i) => this.fitPrepared(prepared[ref], prepared[i]));
        groups.push([ref, ...hits].map((i) => structures[i]));
        unmatched = rest.filter((i) => !hits.includes(i));
      }
      start = end;
    }
    return groups;
  }

  /** pymatgen `_preprocess` + `_match`: scale, decide supercell side and which structure is mapped. */
  private matchPrepared(a: PreparedStructure, b: PreparedStructure, useRms: boolean, breakOnMatch: boolean): Match | null {
    let c1 = a.reduced();
    let c2 = b.reduced();
    const { fu, s1Super } = this.supercellSize(c1, c2);
    if (this.options.scale) {
      const mult = s1Super ? fu : 1 / fu;
      const ratio = (Math.abs(det3(c2.matrix)) / (Math.abs(det3(c1.matrix)) * mult)) ** (1 / 6);
      c1 = { ...c1, matrix: scaleMatrix(c1.matrix, ratio) };
      c2 = { ...c2, matrix: scaleMatrix(c2.matrix, 1 / ratio) };
    }
    const ratio = s1Super ? fu : 1 / fu;
    if (c1.species.length * ratio >= c2.species.length) return this.strictMatch(c1, c2, fu, s1Super, useRms, breakOnMatch);
    return this.strictMatch(c2, c1, fu, !s1Super, useRms, breakOnMatch);
  }

  private supercellSize(c1: RawCell, c2: RawCell): { fu: number; s1Super: boolean } {
    if (!this.options.attemptSupercell) return { fu: 1, s1Super: true };
    const fu = c2.species.length / c1.species.length;
    // Python's round (half to even) as in pymatgen: 5 sites vs 2 gives fu = 2, not 3.
    if (fu < 2 / 3) return { fu: roundHalfEven(1 / fu), s1Super: false };
    return { fu: roundHalfEven(fu), s1Super: true };
  }

  /** Map `small` onto `big` (which has at least as many sites once the supercell is built). */
  private strictMatch(big: RawCell, small: RawCell, fu: number, bigSuper: boolean, useRms: boolean, breakOnMatch: boolean): Match | null {
    const { stol } = this.options;
    const sp = speciesIds(big.species, small.species);
    const layout = expandIds(sp.big, sp.small, fu, bigSuper);
    // pymatgen raises here (a supercell smaller than the other cell); no mapping can exist.
    if (layout.colSp.length < layout.rowSp.length) return null;
    if (!this.options.allowSubset && layout.colSp.length !== layout.rowSp.length) return null;
    if (!speciesFeasible(layout.rowSp, layout.colSp)) return null;
    const anchor = anchorSites(layout.rowSp, layout.colSp, bigSuper ? fu : 1);
    let best: Match | null = null;
    for (const cand of this.candidateCells(big, small, fu, bigSuper)) {
      const n = layout.colSp.length;
      const normalization = Math.cbrt(n / Math.abs(det3(cand.avg)));
      const fracTol = reciprocalLengths(cand.avg).map((x) => (x * stol) / (Math.PI * normalization)) as Vec3;
      let frame: ReturnType<typeof distanceFrame> | undefined;
      const shifted = new Float64Array(cand.rows.length);
      for (const j of anchor.cols) {
        for (let l = 0; l < 3; l++) {
          const t = cand.cols[3 * j + l] - cand.rows[3 * anchor.row + l];
          for (let i = l; i < shifted.length; i += 3) shifted[i] = cand.rows[i] + t;
        }
        if (!isSubsetPbc(shifted, layout.rowSp, cand.cols, layout.colSp, fracTol)) continue;
        frame ??= distanceFrame(cand.avg, stol, normalization);
        const { dist } = siteDistances(shifted, layout.rowSp, cand.cols, layout.colSp, frame, normalization);
        const value = useRms ? Math.sqrt(dist.reduce((s, d) => s + d * d, 0) / dist.length) : Math.max(...dist);
        if (best === null || value < best.value) {
          best = { value, dist };
          if ((breakOnMatch || value < 1e-5) && value < stol) return best;
        }
      }
    }
    return best && best.value < stol ? best : null;
  }

  /**
   * Candidate lattices (pymatgen `_get_supercells`): lattices of the supercell side whose vectors
   * resemble the other cell, with both coordinate sets expressed in them and the average lattice.
   * `rows` are the positions of the mapped (smaller) structure, `cols` of the larger.
   */
  private *candidateCells(big: RawCell, small: RawCell, fu: number, bigSuper: boolean): Generator<{ rows: Float64Array; cols: Float64Array; avg: Mat3 }> {
    const [searched, target] = bigSuper ? [big, small] : [small, big];
    const targetParams = latticeParameters(target.matrix);
    const targetFrac = flatten(target.frac);
    for (const { aligned, scale } of findAllMappings(searched.matrix, targetParams, this.options.ltol, this.options.angleTol)) {
      if (Math.abs(Math.abs(det3(scale)) - fu) >= 0.5) continue;
      const expanded = supercellCoords(searched.frac, scale, fu);
      const p = latticeParameters(aligned);
      const avg = matrixFromParameters(p.map((x, i) => (x + targetParams[i]) / 2));
      yield bigSuper ? { rows: targetFrac, cols: expanded, avg } : { rows: expanded, cols: targetFrac, avg };
    }
  }
}

/**
 * PreparedStructure as a class with a method rather than an object literal with an arrow
 * property: under tsx (esbuild keepNames) each named closure costs a defineProperty call.
 */
class Prepared implements PreparedStructure {
  readonly formulaKey: string;
  private checked: boolean;

  constructor(
    readonly structure: Structure,
    private readonly primitive: boolean,
    private readonly minSeparation: number,
    private cell?: RawCell,
  ) {
    this.formulaKey = reducedFormulaKey(structure.species);
    this.checked = cell !== undefined;
  }

  /** Input checks, once. @throws StructureError for invalid input. */
  validate(): void {
    if (this.checked) return;
    validateForMatching(this.structure, this.minSeparation);
    this.checked = true;
  }

  reduced(): RawCell {
    if (!this.cell) {
      this.validate();
      this.cell = reduceCell(this.structure, this.primitive);
    }
    return this.cell;
  }
}

/** Niggli cell, then (optionally) pymatgen's tolerance-based primitive cell. */
function reduceCell(s: Structure, primitive: boolean): RawCell {
  const cell: RawCell = { matrix: s.lattice.matrix, species: [...s.species], frac: s.fracCoords.map((f) => [...f] as Vec3) };
  const niggli = niggliReducedCell(cell);
  return primitive ? primitiveCell(niggli) : niggli;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function flatten(frac: readonly Vec3[]): Float64Array {
  const out = new Float64Array(frac.length * 3);
  frac.forEach((f, i) => out.set(f, 3 * i));
  return out;
}

/** Coordinates of `frac` in the lattice scale·M, repeated over the fu lattice points inside it (site-major), wrapped to [0,1). */
function supercellCoords(frac: readonly Vec3[], scale: Mat3, fu: number): Float64Array {
  const inv = inv3(scale);
  const lp = fu === 1 ? [[0, 0, 0] as Vec3] : latticePointsInSupercell(scale, inv);
  const out = new Float64Array(frac.length * lp.length * 3);
  let o = 0;
  for (const f of frac)
    for (const p of lp)
      for (let l = 0; l < 3; l++) {
        const v = f[0] * inv[0][l] + f[1] * inv[1][l] + f[2] * inv[2][l] + p[l];
        out[o++] = v - Math.floor(v);
      }
  return out;
}

/** Points of the original lattice inside the supercell, in supercell fractional coordinates. */
function latticePointsInSupercell(scale: Mat3, inv: Mat3): Vec3[] {
  const corners = [0, 1].flatMap((i) => [0, 1].flatMap((j) => [0, 1].map((k) => [i, j, k])));
  const pts = corners.map((c) => [0, 1, 2].map((l) => c[0] * scale[0][l] + c[1] * scale[1][l] + c[2] * scale[2][l]));
  const lo = [0, 1, 2].map((l) => Math.min(...pts.map((p) => p[l])));
  const hi = [0, 1, 2].map((l) => Math.max(...pts.map((p) => p[l])));
  const out: Vec3[] = [];
  for (let i = lo[0]; i <= hi[0]; i++)
    for (let j = lo[1]; j <= hi[1]; j++)
      for (let k = lo[2]; k <= hi[2]; k++) {
        const f = [0, 1, 2].map((l) => i * inv[0][l] + j * inv[1][l] + k * inv[2][l]) as Vec3;
        if (f.every((x) => x < 1 - 1e-10 && x >= -1e-10)) out.push(f);
      }
  return out;
}

/** Integer species ids shared by both structures. */
function speciesIds(big: readonly string[], small: readonly string[]): { big: Int32Array; small: Int32Array } {
  const ids = new Map<string, number>();
  // Big first, so ids are numbered in order of first appearance in big, then small.
  const bigIds = assignIds(big, ids);
  return { big: bigIds, small: assignIds(small, ids) };
}

/** Id of each symbol, numbering new symbols in order of appearance (shared map). */
function assignIds(symbols: readonly string[], ids: Map<string, number>): Int32Array {
  const out = new Int32Array(symbols.length);
  for (let i = 0; i < symbols.length; i++) {
    let v = ids.get(symbols[i]);
    if (v === undefined) ids.set(symbols[i], (v = ids.size));
    out[i] = v;
  }
  return out;
}

/** Species ids of the rows (mapped sites) and columns after building the fu-fold supercell of one side. */
function expandIds(big: Int32Array, small: Int32Array, fu: number, bigSuper: boolean): { rowSp: Int32Array; colSp: Int32Array } {
  return bigSuper ? { rowSp: small, colSp: repeatIds(big, fu) } : { rowSp: repeatIds(small, fu), colSp: big };
}

/** Each id repeated fu times in a row (the site-major order of supercellCoords). */
function repeatIds(a: Int32Array, fu: number): Int32Array {
  if (fu === 1) return a;
  const out = new Int32Array(a.length * fu);
  for (let k = 0; k < out.length; k++) out[k] = a[Math.floor(k / fu)];
  return out;
}

/** A one-to-one species-preserving assignment exists iff no species has more rows than columns. */
function speciesFeasible(rowSp: Int32Array, colSp: Int32Array): boolean {
  const count = new Map<number, number>();
  for (const s of colSp) count.set(s, (count.get(s) ?? 0) + 1);
  for (const s of rowSp) {
    const c = count.get(s) ?? 0;
    if (c === 0) return false;
    count.set(s, c - 1);
  }
  return true;
}

/**
 * pymatgen's choice of trial translations: the first row whose species is rarest among the
 * columns, laid onto every compatible column (one per original site when the columns form a
 * supercell, since the other lattice points are equivalent translations).
 */
function anchorSites(rowSp: Int32Array, colSp: Int32Array, stride: number): { row: number; cols: number[] } {
  let row = 0;
  let most = -1;
  for (let i = 0; i < rowSp.length; i++) {
    let mism = 0;
    for (const s of colSp) if (s !== rowSp[i]) mism++;
    if (mism > most) {
      most = mism;
      row = i;
    }
  }
  const cols: number[] = [];
  for (let j = 0; j < colSp.length; j++) if (colSp[j] === rowSp[row]) cols.push(j);
  return { row, cols: cols.filter((_, k) => k % stride === 0) };
}
