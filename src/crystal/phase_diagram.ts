/**
 * PhaseDiagram: the lower convex hull of (composition, energy per atom) entries, with
 * pymatgen's semantics for energy above hull, decomposition, stable entries and formation
 * energies — exact in any number of elements.
 *
 * How the hull is evaluated. The hull energy at a composition x (atom fractions) is the
 * linear program
 *
 *     E_hull(x) = min Σ λ_i E_i   s.t.  Σ λ_i c_i = x,  λ ≥ 0
 *
 * over the entries' atom-fraction vectors c_i and per-atom energies E_i; the optimal λ is
 * the decomposition (fractions of atoms, summing to 1 because every c_i and x sum to 1).
 * An entry holding an element absent from x would need a negative amount of that element,
 * so only entries inside x's chemical system can take part: each query solves a tiny LP
 * (one row per element of x) over just those entries. The elemental references (lowest
 * energy per element) form an identity basis with λ = x ≥ 0, a feasible start, so the
 * simplex needs no phase one. pymatgen instead triangulates the hull with qhull; both give
 * the same numbers (checked against pymatgen 2022.11 on the MP-20 subset to 1e-6 eV/atom,
 * test/crystal/phase_diagram.test.ts), and the LP needs no qhull in 80 dimensions.
 *
 * Energies are per atom, either total energies (elemental references are then the lowest
 * elemental entries, as in pymatgen) or formation energies (pass `elementalZero: true` to
 * add the elements at 0 eV/atom, the convention of the bundled MP-20 reference).
 */
import { Composition } from "./composition.ts";
import { PhaseDiagramError } from "./errors.ts";
import { solveFromIdentityBasis } from "./simplex.ts";

/** One reference phase as given by the caller. */
export interface PDEntryInput {
  /** Formula ("Fe2O3") or Composition; only its atom fractions matter. */
  composition: string | Composition;
  /** Energy per atom in eV (total or formation energy; be consistent across entries). */
  energyPerAtom: number;
  /** Identifier shown in decompositions (e.g. a material id); defaults to "entry<i>". */
  id?: string;
}

export interface PhaseDiagramOptions {
  /** The diagram's elements; entries holding any other element are an error. Default: all entries' elements. */
  elements?: readonly string[];
  /**
   * Energies are formation energies: add each element at 0 eV/atom unless an elemental entry
   * at or below 0 already exists. Without it, a missing element is an error naming it.
   */
  elementalZero?: boolean;
}

/** A reference phase inside a PhaseDiagram. */
export interface PDEntry {
  readonly id: string;
  readonly composition: Composition;
  readonly energyPerAtom: number;
  /** Atom fractions by element symbol (sum 1). */
  readonly fractions: ReadonlyMap<string, number>;
  /** True for the 0 eV/atom elements added by `elementalZero`. */
  readonly isAddedReference: boolean;
}

/** One phase of a decomposition and the fraction of atoms it holds. */
export interface DecompositionTerm {
  entry: PDEntry;
  fraction: number;
}

/** An entry counts as a hull vertex when removing its composition raises the hull by more than this (eV/atom). */
const STABLE_TOL = 1e-10;
/** Decomposition fractions below this are LP round-off, not phases. */
const FRACTION_TOL = 1e-12;

/** Lower convex hull of per-atom energies; see the module doc for the method. */
export class PhaseDiagram {
  /** All entries, including added elemental references (after the caller's entries). */
  readonly entries: readonly PDEntry[];
  /** Element symbols of the diagram, sorted. */
  readonly elements: readonly string[];
  /** Lowest-energy elemental entry per element (pymatgen's `el_refs`). */
  readonly elementalReferences: ReadonlyMap<string, PDEntry>;
  private readonly byId = new Map<string, PDEntry>();
  private readonly bySystem = new Map<string, PDEntry[]>();
  private readonly candidateCache = new Map<string, PDEntry[]>();
  private stableCache: Set<PDEntry> | undefined;

  constructor(entries: readonly PDEntryInput[], options: PhaseDiagramOptions = {}) {
    if (!Array.isArray(entries) || entries.length === 0) {
      throw new PhaseDiagramError("PhaseDiagram needs at least one entry { composition, energyPerAtom }");
    }
    const own = entries.map((e, i) => makeEntry(e, i));
    const elements = resolveElements(own, options.elements);
    const added = options.elementalZero ? zeroReferences(own, elements) : [];
    this.entries = [...own, ...added];
    this.elements = elements;
    this.elementalReferences = lowestElementalEntries(this.entries, elements);
    for (const entry of this.entries) {
      if (this.byId.has(entry.id)) throw new PhaseDiagramError(`duplicate entry id "${entry.id}": ids must be unique`);
      this.byId.set(entry.id, entry);
      const key = systemKey([...entry.fractions.keys()]);
      const list = this.bySystem.get(key);
      if (list) list.push(entry);
      else this.bySystem.set(key, [entry]);
    }
  }

  /** The entry with this id, or an error naming it. */
  getEntry(id: string): PDEntry {
    const entry = this.byId.get(id);
    if (!entry) throw new PhaseDiagramError(`no entry with id "${id}" in this phase diagram`);
    return entry;
  }

  /** Hull energy per atom at a composition (eV/atom). */
  getHullEnergyPerAtom(composition: string | Composition): number {
    return this.solve(this.queryFractions(composition)).energy;
  }

  /** Stable phases (and atom fractions) the composition decomposes into, largest fraction first. */
  getDecomposition(composition: string | Composition): DecompositionTerm[] {
    return this.solve(this.queryFractions(composition)).terms;
  }

  /**
   * Signed energy above hull (eV/atom) of a phase with this composition and energy:
   * negative below the hull, like pymatgen's `get_e_above_hull(..., allow_negative=True)`.
   */
  getEAboveHull(composition: string | Composition, energyPerAtom: number): number {
    checkEnergy(energyPerAtom, `energy of ${describe(composition)}`);
    return energyPerAtom - this.getHullEnergyPerAtom(composition);
  }

  /** Energy above hull of one of the diagram's own entries (≥ 0; 0 for stable entries). */
  getEAboveHullOfEntry(entry: PDEntry | string): number {
    const e = typeof entry === "string" ? this.getEntry(entry) : this.getEntry(entry.id);
    if (this.stableSet.has(e)) return 0;
    return Math.max(0, e.energyPerAtom - this.solve(e.fractions).energy);
  }

  /**
   * Formation energy per atom relative to the elemental references:
   * E − Σ x_el E_ref(el). Pass an entry, or a composition and its energy per atom.
   */
  getFormationEnergyPerAtom(entry: PDEntry | string | Composition, energyPerAtom?: number): number {
    const isQuery = typeof entry === "string" || entry instanceof Composition;
    const fractions = isQuery ? this.queryFractions(entry) : entry.fractions;
    const energy = isQuery ? energyPerAtom : entry.energyPerAtom;
    const what = isQuery ? describe(entry) : `entry "${entry.id}"`;
    if (energy === undefined) throw new PhaseDiagramError(`getFormationEnergyPerAtom(${what}) needs energyPerAtom`);
    checkEnergy(energy, `energy of ${what}`);
    let ref = 0;
    for (const [el, x] of fractions) ref += x * this.elementalReferences.get(el)!.energyPerAtom;
    return energy - ref;
  }

  /**
   * Vertices of the lower hull (pymatgen's `stable_entries`): for each composition the
   * lowest entry (the first one on ties), kept when the hull without that composition
   * lies above it. Points exactly on a facet are on the hull but not vertices, as in pymatgen.
   */
  get stableEntries(): PDEntry[] {
    return [...this.stableSet];
  }

  private get stableSet(): Set<PDEntry> {
    this.stableCache ??= new Set(this.entries.filter((e) => this.isVertex(e)));
    return this.stableCache;
  }

  private isVertex(entry: PDEntry): boolean {
    const key = fractionKey(entry.fractions);
    if (entry.fractions.size === 1) return this.elementalReferences.get([...entry.fractions.keys()][0]) === entry;
    const rivals = this.candidates([...entry.fractions.keys()]).filter((e) => fractionKey(e.fractions) === key);
    const lowest = rivals.reduce((a, b) => (b.energyPerAtom < a.energyPerAtom ? b : a));
    if (lowest !== entry) return false;
    const others = this.solve(entry.fractions, key).energy;
    return others - entry.energyPerAtom > STABLE_TOL;
  }

  /** Atom fractions of a query, with its elements checked against the diagram. */
  private queryFractions(composition: string | Composition): Map<string, number> {
    const fractions = atomFractions(toComposition(composition, "query composition"), describe(composition));
    for (const el of fractions.keys()) {
      if (!this.elementalReferences.has(el)) {
        throw new PhaseDiagramError(
          `${describe(composition)} contains ${el}, which is not in this phase diagram (elements: ${this.elements.join(" ")}); ` +
            `add entries for ${el} (or build the diagram with elementalZero: true and ${el} in options.elements)`,
        );
      }
    }
    return fractions;
  }

  /** Entries whose elements are all in `elements` (the only ones a query there can use). */
  private candidates(elements: string[]): PDEntry[] {
    const key = systemKey(elements);
    const cached = this.candidateCache.get(key);
    if (cached) return cached;
    const inside = new Set(elements);
    const keys =
      2 ** elements.length <= this.bySystem.size
        ? subsetKeys([...elements].sort())
        : [...this.bySystem.keys()].filter((k) => k.split("-").every((el) => inside.has(el)));
    const found = keys.flatMap((k) => this.bySystem.get(k) ?? []);
    this.candidateCache.set(key, found);
    return found;
  }

  /** Solves the hull LP at `fractions`, optionally without entries of composition `excludeKey`. */
  private solve(fractions: ReadonlyMap<string, number>, excludeKey?: string): { energy: number; terms: DecompositionTerm[] } {
    const elements = [...fractions.keys()].sort();
    const refs = elements.map((el) => this.elementalReferences.get(el)!);
    const others = this.candidates(elements).filter(
      (e) => !refs.includes(e) && (excludeKey === undefined || fractionKey(e.fractions) !== excludeKey),
    );
    const columns = [...refs, ...others];
    const solution = solveFromIdentityBasis(
      {
        columns: columns.map((e) => elements.map((el) => e.fractions.get(el) ?? 0)),
        costs: columns.map((e) => e.energyPerAtom),
        rhs: elements.map((el) => fractions.get(el)!),
      },
      elements.map((_, i) => i),
    );
    const terms = solution.basis
      .map((j, i) => ({ entry: columns[j], fraction: solution.values[i] }))
      .filter((t) => t.fraction > FRACTION_TOL)
      .sort((a, b) => b.fraction - a.fraction);
    return { energy: solution.objective, terms };
  }
}

function makeEntry(input: PDEntryInput, index: number): PDEntry {
  if (input === null || typeof input !== "object") {
    throw new PhaseDiagramError(`entry ${index} is not an object { composition, energyPerAtom }`);
  }
  const id = input.id ?? `entry${index}`;
  const composition = toComposition(input.composition, `entry ${index} ("${id}")`);
  checkEnergy(input.energyPerAtom, `entry ${index} ("${id}") energyPerAtom`);
  const fractions = atomFractions(composition, `entry ${index} ("${id}")`);
  return { id, composition, energyPerAtom: input.energyPerAtom, fractions, isAddedReference: false };
}

function toComposition(value: string | Composition, what: string): Composition {
  if (value instanceof Composition) return value;
  if (typeof value === "string") return new Composition(value);
  throw new PhaseDiagramError(`${what}: expected a formula string or Composition, got ${typeof value}`);
}

/** Atom fractions of the elements with a positive amount; rejects empty and negative compositions. */
function atomFractions(composition: Composition, what: string): Map<string, number> {
  const amounts = composition.elements.map((el) => [el, composition.getAmount(el)] as const);
  const negative = amounts.find(([, n]) => !(n >= 0));
  if (negative) throw new PhaseDiagramError(`${what}: amount of ${negative[0]} is ${negative[1]}; amounts must be ≥ 0`);
  const total = amounts.reduce((s, [, n]) => s + n, 0);
  if (!(total > 0)) throw new PhaseDiagramError(`${what}: composition has no atoms`);
  return new Map(amounts.filter(([, n]) => n > 0).map(([el, n]) => [el, n / total]));
}

function checkEnergy(value: unknown, what: string): void {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new PhaseDiagramError(`${what} is ${String(value)}; energies must be finite numbers in eV/atom`);
  }
}

function describe(composition: string | Composition): string {
  return typeof composition === "string" ? `"${composition}"` : `composition ${String(composition.formula)}`;
}

function resolveElements(entries: PDEntry[], declared?: readonly string[]): string[] {
  const present = new Set(entries.flatMap((e) => [...e.fractions.keys()]));
  if (!declared) return [...present].sort();
  const allowed = new Set(declared);
  for (const e of entries) {
    const extra = [...e.fractions.keys()].find((el) => !allowed.has(el));
    if (extra) {
      throw new PhaseDiagramError(`entry "${e.id}" contains ${extra}, which is not in options.elements (${declared.join(" ")}); add it or drop the entry`);
    }
  }
  return [...allowed].sort();
}

/** Elements at 0 eV/atom for every element without an elemental entry at or below 0. */
function zeroReferences(entries: PDEntry[], elements: string[]): PDEntry[] {
  const covered = new Set(
    entries.filter((e) => e.fractions.size === 1 && e.energyPerAtom <= 0).map((e) => [...e.fractions.keys()][0]),
  );
  return elements
    .filter((el) => !covered.has(el))
    .map((el) => ({
      id: `${el} (elemental reference)`,
      composition: new Composition({ [el]: 1 }),
      energyPerAtom: 0,
      fractions: new Map([[el, 1]]),
      isAddedReference: true,
    }));
}

function lowestElementalEntries(entries: readonly PDEntry[], elements: readonly string[]): Map<string, PDEntry> {
  const refs = new Map<string, PDEntry>();
  for (const e of entries) {
    if (e.fractions.size !== 1) continue;
    const el = [...e.fractions.keys()][0];
    const best = refs.get(el);
    if (!best || e.energyPerAtom < best.energyPerAtom) refs.set(el, e);
  }
  const missing = elements.filter((el) => !refs.has(el));
  if (missing.length) {
    throw new PhaseDiagramError(
      `no elemental entry for ${missing.join(", ")}: a phase diagram needs one per element. ` +
        `Add entries for ${missing.join(", ")}, or pass { elementalZero: true } if the energies are formation energies`,
    );
  }
  return refs;
}

function systemKey(elements: readonly string[]): string {
  return [...elements].sort().join("-");
}

/** Keys of every non-empty subset of sorted `elements` ("Fe", "O", "Fe-O", ...). */
function subsetKeys(elements: string[]): string[] {
  const keys: string[] = [];
  for (let mask = 1; mask < 2 ** elements.length; mask++) {
    keys.push(elements.filter((_, i) => mask & (1 << i)).join("-"));
  }
  return keys;
}

/** Composition identity up to scaling: sorted element fractions at 12 significant digits. */
function fractionKey(fractions: ReadonlyMap<string, number>): string {
  return [...fractions.keys()].sort().map((el) => `${el}:${fractions.get(el)!.toPrecision(12)}`).join(" ");
}
