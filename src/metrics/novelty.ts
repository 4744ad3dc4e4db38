/**
 * Uniqueness and novelty of generated crystals, the way Chemeleon2 defines them with pymatgen's
 * StructureMatcher: a generated structure is *unique* when no earlier generated structure
 * matches it (the first of a set of duplicates counts as unique), and *novel* when no structure
 * of a reference set (MP-20 train by default) matches it.
 *
 * The reference set is held in a `ReferenceIndex`: structures bucketed by reduced formula (the
 * key comes from the species list alone, so building costs no lattice work); each reference is
 * validated and reduced (primitive + Niggli) once, the first time a query shares its formula, and
 * its shape data are cached with it. A query with no same-formula reference (most generated
 * structures) pays only for its own input checks and formula key. Before the full matcher runs on a
 * pair, cheap filters reject pairs that the matcher would certainly reject — they never change a
 * verdict, they only skip work:
 *  1. Reduced formula differs → StructureMatcher.fit is false by definition (its first test).
 *  2. Primitive site counts differ → with attemptSupercell/allowSubset off the matcher returns
 *     "no match" when the mapped cells have different numbers of sites.
 *  3. Lattice bound: the matcher needs three independent vectors of the searched lattice whose
 *     lengths are each below (1 + ltol)× the matching length of the target cell. Sorted, those
 *     lengths dominate the searched lattice's successive minima λ₁ ≤ λ₂ ≤ λ₃, so a match requires
 *     λᵢ(searched) < (1 + ltol)·Lᵢ(target) for the sorted target cell lengths Lᵢ (after the volume
 *     scaling the matcher applies). A pair violating it cannot match.
 * (A volume-per-atom bound only applies with `scale: false`; with scaling on, volumes are equalised
 * first. AMD distances are not used as a filter: the matcher tolerates up to 20 % lattice strain,
 * which admits no useful rigorous AMD bound.)
 */
import { renameSync, writeFileSync, readFileSync } from "node:fs";
import { StructureError } from "../crystal/errors.ts";
import { det3, type Mat3, type Vec3 } from "../crystal/linalg.ts";
import { lllReduce, latticePointsInSphere } from "../crystal/matcher_lattice.ts";
import type { RawCell } from "../crystal/primitive.ts";
import { Structure } from "../crystal/structure.ts";
import { StructureMatcher, type PreparedStructure, type StructureMatcherOptions } from "../crystal/structure_matcher.ts";
// Static, not `await import(...)`: under tslab (which runs cells as CommonJS) a dynamic import
// loads a second copy of the library, whose classes fail `instanceof` checks in this one.
import { loadDataset } from "../data/datasets.ts";

const FORMAT = "crystal-grpo/reference-index@1";

/** Shape data used by the pre-filters, computed once per structure. */
interface Shape {
  sites: number;
  /** Successive minima of the reduced lattice, per cube root of the cell volume. */
  minima: Vec3;
  /** Sorted lengths of the reduced cell the matcher uses, per cube root of the cell volume. */
  lengths: Vec3;
}

interface Entry {
  id: string;
  prepared: PreparedStructure;
  /** Computed (with the reduction) the first time a query shares this entry's formula. */
  shape?: Shape;
}

export interface ReferenceIndexOptions {
  /** A matcher, or options for one (pymatgen defaults otherwise). */
  matcher?: StructureMatcher | StructureMatcherOptions;
  /** Identifiers (e.g. material ids), one per structure; default `properties.material_id` or the position. */
  ids?: readonly string[];
  /** Called after each structure is indexed. */
  onProgress?: (done: number, total: number) => void;
}

export class ReferenceIndex {
  private readonly buckets = new Map<string, Entry[]>();
  private count = 0;

  private constructor(readonly matcher: StructureMatcher) {}

  /**
   * Bucket every structure by reduced formula. Checks and reduction are deferred to the first
   * query that shares a structure's formula; an invalid reference structure raises a
   * StructureError (naming its id) then, not here.
   */
  static build(structures: readonly Structure[], options: ReferenceIndexOptions = {}): ReferenceIndex {
    const index = new ReferenceIndex(toMatcher(options.matcher));
    structures.forEach((s, i) => {
      index.add(options.ids?.[i] ?? String(s.properties.material_id ?? i), index.matcher.prepareDeferred(s));
      options.onProgress?.(i + 1, structures.length);
    });
    return index;
  }

  /** Build from a bundled data set split (default MP-20 train) through the data-set loader. */
  static async fromDataset(name = "mp_20", split = "train", options: ReferenceIndexOptions = {}): Promise<ReferenceIndex> {
    const { records } = await loadDataset(name, split);
    return ReferenceIndex.build(
      records.map((r) => r.structure),
      { ...options, ids: records.map((r) => r.materialId) },
    );
  }

  get size(): number {
    return this.count;
  }

  /** Bucket by formula; reduction waits until a query needs it, so building is cheap. */
  private add(id: string, prepared: PreparedStructure): void {
    const list = this.buckets.get(prepared.formulaKey) ?? [];
    list.push({ id, prepared });
    this.buckets.set(prepared.formulaKey, list);
    this.count++;
  }

  /** Shape of a reference entry; its first call also validates and reduces the entry. */
  private shapeOf(e: Entry): Shape {
    if (e.shape) return e.shape;
    try {
      e.prepared.validate();
    } catch (err) {
      if (!(err instanceof StructureError)) throw err;
      throw new StructureError(`Reference structure ${e.id} is invalid: ${err.message} (fix or drop it from the reference set and rebuild the index).`);
    }
    return (e.shape = shapeOf(e.prepared.reduced(), this.matcher.options.scale));
  }

  /** Ids of the reference structures that match `structure` (all of them, in index order). */
  matches(structure: Structure, firstOnly = false): string[] {
    const p = this.matcher.prepare(structure);
    const bucket = this.buckets.get(p.formulaKey);
    if (!bucket) return [];
    const shape = shapeOf(p.reduced(), this.matcher.options.scale);
    const out: string[] = [];
    for (const e of bucket) {
      const ref = this.shapeOf(e);
      if (!sameSiteCount(shape, ref, this.matcher) || !mayMatch(shape, ref, this.matcher)) continue;
      if (this.matcher.fitPrepared(p, e.prepared)) {
        out.push(e.id);
        if (firstOnly) break;
      }
    }
    return out;
  }

  /** True when no reference structure matches. */
  isNovel(structure: Structure): boolean {
    return this.matches(structure, true).length === 0;
  }

  /** Write the index (reduced cells + matcher options) as JSON, atomically (temp file + rename). */
  save(path: string): void {
    const entries = [...this.buckets.values()].flat().map((e) => ({
      id: e.id,
      s: cellJson({ matrix: e.prepared.structure.lattice.matrix, species: [...e.prepared.structure.species], frac: [...e.prepared.structure.fracCoords] }),
      r: cellJson(e.prepared.reduced()),
    }));
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify({ format: FORMAT, matcher: this.matcher.options, entries }));
    renameSync(tmp, path);
  }

  /** Read an index written by `save`. @throws StructureError for a file of another format. */
  static load(path: string): ReferenceIndex {
    const data = JSON.parse(readFileSync(path, "utf8"));
    if (data?.format !== FORMAT)
      throw new StructureError(`${path} is not a reference index (format ${JSON.stringify(data?.format)}, expected ${FORMAT}); rebuild it with ReferenceIndex.build(...).save(path).`);
    const index = new ReferenceIndex(new StructureMatcher(data.matcher));
    for (const e of data.entries) {
      const s = new Structure(e.s.lattice, e.s.species, e.s.frac, { properties: { material_id: e.id } });
      const reduced: RawCell = { matrix: e.r.lattice, species: e.r.species, frac: e.r.frac };
      index.add(e.id, index.matcher.prepareReduced(s, reduced));
    }
    return index;
  }
}

/** Novelty of each generated structure against the index. */
export function isNovel(generated: readonly Structure[], index: ReferenceIndex): boolean[] {
  return generated.map((g) => index.isNovel(g));
}

/**
 * Uniqueness within a generated set: structure i is unique when no earlier structure j < i
 * matches it (`fit(earlier, later)`), so the first of a group of duplicates is unique.
 */
export function isUnique(generated: readonly Structure[], matcher: StructureMatcher | StructureMatcherOptions = {}): boolean[] {
  const m = toMatcher(matcher);
  const prepared = generated.map((g) => m.prepare(g));
  const shapes: (Shape | undefined)[] = [];
  const byFormula = new Map<string, number[]>();
  return prepared.map((p, i) => {
    const earlier = byFormula.get(p.formulaKey) ?? [];
    const dup = earlier.some((j) => {
      const [sj, si] = [(shapes[j] ??= shapeOf(prepared[j].reduced(), m.options.scale)), (shapes[i] ??= shapeOf(p.reduced(), m.options.scale))];
      return sameSiteCount(sj, si, m) && mayMatch(sj, si, m) && m.fitPrepared(prepared[j], p);
    });
    byFormula.set(p.formulaKey, [...earlier, i]);
    return !dup;
  });
}

function toMatcher(m: StructureMatcher | StructureMatcherOptions | undefined): StructureMatcher {
  return m instanceof StructureMatcher ? m : new StructureMatcher(m ?? {});
}

/** Filter 2 of the module doc (only valid without supercells/subsets). */
function sameSiteCount(a: Shape, b: Shape, matcher: StructureMatcher): boolean {
  return matcher.options.attemptSupercell || matcher.options.allowSubset || a.sites === b.sites;
}

function cellJson(c: RawCell): { lattice: number[][]; species: string[]; frac: number[][] } {
  return { lattice: c.matrix.map((r) => [...r]), species: [...c.species], frac: c.frac.map((f) => [...f]) };
}

/** Shape of a reduced cell; lengths are divided by V^(1/3) when the matcher scales volumes. */
function shapeOf(cell: RawCell, scaled: boolean): Shape {
  const unit = scaled ? Math.cbrt(Math.abs(det3(cell.matrix))) : 1;
  const lengths = cell.matrix.map((r) => Math.hypot(r[0], r[1], r[2]) / unit).sort((a, b) => a - b) as Vec3;
  const minima = successiveMinima(cell.matrix).map((x) => x / unit) as Vec3;
  return { sites: cell.species.length, minima, lengths };
}

/**
 * Filter 3 of the module doc: can the lattice of `searched` map onto the cell of `target`?
 * The matcher searches the first argument's lattice; with `symmetric` both directions must hold.
 * The 1e-9 relative slack absorbs rounding so the filter never rejects a borderline match.
 */
function mayMatch(searched: Shape, target: Shape, matcher: StructureMatcher): boolean {
  if (matcher.options.attemptSupercell || matcher.options.allowSubset) return true;
  const f = (1 + matcher.options.ltol) * (1 + 1e-9);
  return minimaFit(searched, target, f) && (!matcher.options.symmetric || minimaFit(target, searched, f));
}

/** λᵢ(searched) < f·Lᵢ(target) for i = 1..3. */
function minimaFit(searched: Shape, target: Shape, f: number): boolean {
  return searched.minima[0] < f * target.lengths[0] && searched.minima[1] < f * target.lengths[1] && searched.minima[2] < f * target.lengths[2];
}

/**
 * Successive minima λ₁ ≤ λ₂ ≤ λ₃: lengths of the shortest three linearly independent lattice
 * vectors. All candidates lie within the longest LLL vector, so picking the shortest vectors
 * greedily while they stay independent gives the exact minima.
 */
export function successiveMinima(m: Mat3): Vec3 {
  const lll = lllReduce(m).matrix;
  const r = Math.max(...lll.map((v) => Math.hypot(v[0], v[1], v[2])));
  const pts = latticePointsInSphere(lll, r * (1 + 1e-9));
  const order = pts.dist.map((_, i) => i).filter((i) => pts.dist[i] > 0).sort((i, j) => pts.dist[i] - pts.dist[j]);
  const chosen: Vec3[] = [];
  const out: number[] = [];
  for (const i of order) {
    const v = pts.cart[i];
    if (chosen.length === 1 && cross(chosen[0], v) < 1e-10 * pts.dist[i] ** 2) continue;
    if (chosen.length === 2 && Math.abs(det3([chosen[0], chosen[1], v])) < 1e-10 * pts.dist[i] ** 3) continue;
    chosen.push(v);
    out.push(pts.dist[i]);
    if (chosen.length === 3) break;
  }
  return out as Vec3;
}

function cross(a: Vec3, b: Vec3): number {
  return Math.hypot(a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]);
}
