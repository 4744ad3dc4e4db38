/**
 * SMACT-style composition validity ("comp. validity" in CDVAE, DiffCSP, MatterGen and
 * Chemeleon2 benchmarks): can the composition be written as an ionic compound?
 *
 * The test, in the order SMACT's `smact_validity` applies it (re-implemented here from its
 * published description, not copied):
 *  1. A pure element is valid.
 *  2. An intermetallic — every element a metal — is valid (SMACT's `include_alloys=True`,
 *     the default every benchmark uses): alloys need no charge balance.
 *  3. Otherwise the composition is valid when SOME assignment of one oxidation state per element
 *     is both
 *       - charge neutral: Σ_e q_e · n_e = 0 over the element counts n_e, and
 *       - electronegativity ordered (Pauling test): every cation (q > 0) is strictly less
 *         electronegative than every anion (q < 0). Elements without a Pauling
 *         electronegativity (noble gases) never fail this test, as in SMACT, where comparing
 *         with a missing value counts as a pass.
 *     An element without any oxidation state (He, Ne, Ar) makes step 3 impossible.
 *
 * Oxidation states: SMACT's default table is a comprehensive list of known states; the closest
 * table we bundle is pymatgen's `Element.oxidation_states` ("all", the default). "common"
 * (pymatgen's common states) and "icsd" are stricter alternatives; they flag e.g. Cu₂O (Cu⁺ is
 * not a "common" state in pymatgen) and are offered for comparison only.
 *
 * The metal list is SMACT's: s-block metals (not H, He), all d- and f-block elements, and the
 * post-transition metals Al, Ga, In, Sn, Tl, Pb, Bi, Po.
 */
import { Composition, type CompositionInput } from "../crystal/composition.ts";
import { CompositionError } from "../crystal/errors.ts";
import { getElement, type Element } from "../crystal/elements.ts";
import type { Structure } from "../crystal/structure.ts";

/** Which oxidation-state table to draw from (see the module doc). */
export type OxidationStateSet = "all" | "common" | "icsd";

export interface CompositionValidityOptions {
  /** Oxidation-state table; default "all" (closest to SMACT's default table). */
  oxidationStates?: OxidationStateSet;
  /** Apply the electronegativity ordering test (SMACT's `use_pauling_test`); default true. */
  paulingTest?: boolean;
  /** Count all-metal compositions as valid (SMACT's `include_alloys`); default true. */
  includeAlloys?: boolean;
}

const POST_TRANSITION_METALS = new Set(["Al", "Ga", "In", "Sn", "Tl", "Pb", "Bi", "Po"]);

/** True for elements SMACT counts as metals (see the module doc). */
export function isSmactMetal(element: Element): boolean {
  if (element.block === "d" || element.block === "f") return true;
  if (element.block === "s") return element.symbol !== "H" && element.symbol !== "He";
  return POST_TRANSITION_METALS.has(element.symbol);
}

function statesOf(element: Element, set: OxidationStateSet): readonly number[] {
  if (set === "all") return element.oxidationStates;
  if (set === "common") return element.commonOxidationStates;
  if (set === "icsd") return element.icsdOxidationStates;
  throw new CompositionError(`unknown oxidation-state set "${String(set)}"; use "all", "common" or "icsd"`);
}

/** One element's candidate states, its count and electronegativity, for the search. */
interface Site {
  states: readonly number[];
  count: number;
  X: number;
}

/**
 * Depth-first search over oxidation-state assignments. The Pauling test is kept as the running
 * bounds "largest cation X" / "smallest anion X", so a violating branch is cut as soon as it
 * appears; charge neutrality is checked at the leaves.
 */
function searchAssignment(sites: readonly Site[], paulingTest: boolean): boolean {
  const visit = (i: number, charge: number, maxCationX: number, minAnionX: number): boolean => {
    if (i === sites.length) return Math.abs(charge) < 1e-9;
    const { states, count, X } = sites[i];
    for (const q of states) {
      let hi = maxCationX;
      let lo = minAnionX;
      if (paulingTest && !Number.isNaN(X)) {
        if (q > 0) hi = Math.max(hi, X);
        if (q < 0) lo = Math.min(lo, X);
        if (hi >= lo) continue;
      }
      if (visit(i + 1, charge + q * count, hi, lo)) return true;
    }
    return false;
  };
  return visit(0, 0, -Infinity, Infinity);
}

/**
 * SMACT-style validity of one composition (formula, Composition, element → count map, or a
 * Structure). See the module doc for the rules.
 * @throws CompositionError for an empty composition or an unknown oxidation-state set.
 */
export function compositionValidity(input: CompositionInput | Structure, options: CompositionValidityOptions = {}): boolean {
  const composition = toComposition(input);
  const symbols = composition.elements;
  if (symbols.length === 0) throw new CompositionError("compositionValidity: the composition has no atoms; pass a non-empty formula or structure");
  const elements = symbols.map((s) => getElement(s));
  const set = options.oxidationStates ?? "all";
  if (elements.length === 1) return true;
  if ((options.includeAlloys ?? true) && elements.every(isSmactMetal)) return true;
  const sites = elements.map((el) => ({ states: statesOf(el, set), count: composition.getAmount(el.symbol), X: el.X }));
  return searchAssignment(sites, options.paulingTest ?? true);
}

function toComposition(input: CompositionInput | Structure): Composition {
  if (input instanceof Composition) return input;
  if (typeof input === "object" && input !== null && "composition" in input && "lattice" in input) return (input as Structure).composition;
  return new Composition(input as CompositionInput);
}
