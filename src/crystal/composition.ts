/**
 * Composition: an immutable element → amount mapping with pymatgen's semantics.
 *
 * Every formula string it produces (`formula`, `reducedFormula`, `anonymizedFormula`, ...)
 * matches pymatgen 2022.11's `Composition` character for character; scripts/parity/
 * formula_parity.py checks this against pymatgen for every MP-20 row and a few hundred tricky
 * formulas. The rules, learned from pymatgen's composition.py (MIT licence) and re-written:
 *   - amounts with |x| < 1e-8 are dropped; element order is insertion order;
 *   - `formula` orders elements by Pauling electronegativity (stable: ties keep insertion order);
 *   - `reducedFormula` divides integer amounts by their gcd, orders by (X, symbol), writes the
 *     two most electronegative elements as a bracketed polyanion when their X differ by
 *     < 1.65 and the pair still has a common factor ("Ca3(PO4)2"), and maps the special
 *     formulas (O → O2, LiO → Li2O2, ...), halving the factor; non-integer compositions are
 *     not reduced at all ("Li0.5Co1O2");
 *   - elements without electronegativity (noble gases) have X = NaN, which compares false
 *     with everything; we sort with CPython's own algorithm so they land where pymatgen puts them.
 * Species with oxidation states and dummy species are not supported (elements only).
 */
import { CompositionError } from "./errors.ts";
import { getElement } from "./elements.ts";
import { formatAmount, parseFormula, pythonFloatRepr } from "./formula.ts";
import { pythonSort } from "./python_sort.ts";

/** Anything a Composition can be built from: a formula, symbol (or Z) → amount, or a Composition. */
export type CompositionInput = string | Composition | ReadonlyMap<string | number, number> | Readonly<Record<string, number>>;

/** pymatgen's `Composition.amount_tolerance`: amounts below it are treated as zero. */
export const AMOUNT_TOLERANCE = 1e-8;

/** pymatgen's `special_formulas`: peroxides and diatomic elements keep their molecular form. */
export const SPECIAL_FORMULAS: Readonly<Record<string, string>> = Object.freeze({
  LiO: "Li2O2",
  NaO: "Na2O2",
  KO: "K2O2",
  HO: "H2O2",
  CsO: "Cs2O2",
  RbO: "Rb2O2",
  O: "O2",
  N: "N2",
  F: "F2",
  Cl: "Cl2",
  H: "H2",
});

export interface CompositionOptions {
  /** Allow negative amounts (pymatgen's `allow_negative`); default false. */
  allowNegative?: boolean;
}

export class Composition {
  /** Element symbol → amount, in insertion order; amounts are never (near) zero. */
  readonly amounts: ReadonlyMap<string, number>;
  /** Sum of |amount| (pymatgen's `num_atoms`). */
  readonly numAtoms: number;
  readonly allowNegative: boolean;

  /**
   * @param input formula ("Fe2O3", "Ca3(PO4)2", "Li0.5CoO2"), Map or Record of symbol (or atomic
   *   number) → amount, or another Composition.
   * @throws FormulaError for an unparsable formula, ElementError for an unknown symbol,
   *   CompositionError for a negative (unless allowed) or non-finite amount.
   */
  constructor(input: CompositionInput, options: CompositionOptions = {}) {
    this.allowNegative = options.allowNegative ?? (input instanceof Composition ? input.allowNegative : false);
    const amounts = new Map<string, number>();
    let natoms = 0;
    for (const [key, amount] of inputEntries(input)) {
      const symbol = getElement(elementKey(key)).symbol;
      checkAmount(symbol, amount, this.allowNegative);
      if (Math.abs(amount) < AMOUNT_TOLERANCE) continue;
      amounts.set(symbol, (amounts.get(symbol) ?? 0) + amount);
      natoms += Math.abs(amount);
    }
    this.amounts = amounts;
    this.numAtoms = natoms;
  }

  /** Composition from pymatgen's `as_dict()` output ({"Fe": 2, "O": 3}). */
  static fromDict(d: Readonly<Record<string, number>>): Composition {
    return new Composition(d);
  }

  /** Element symbols in insertion order (pymatgen's `elements`, as symbols). */
  get elements(): string[] {
    return [...this.amounts.keys()];
  }

  /** Number of distinct elements (pymatgen's `len(comp)`). */
  get length(): number {
    return this.amounts.size;
  }

  /** True for a single-element composition. */
  get isElement(): boolean {
    return this.amounts.size === 1;
  }

  /** Amount of an element (0 if absent). Throws ElementError for an unknown symbol. */
  getAmount(element: string | number): number {
    return this.amounts.get(getElement(element).symbol) ?? 0;
  }

  /** Molar mass in amu (g/mol). */
  get weight(): number {
    let w = 0;
    for (const [symbol, amount] of this.amounts) w += amount * getElement(symbol).atomicMass;
    return w;
  }

  /** Atomic fraction |amount| / numAtoms of an element. */
  getAtomicFraction(element: string | number): number {
    return Math.abs(this.getAmount(element)) / this.numAtoms;
  }

  /** Weight fraction of an element. */
  getWtFraction(element: string | number): number {
    return (getElement(element).atomicMass * Math.abs(this.getAmount(element))) / this.weight;
  }

  /** Amount-weighted mean Pauling electronegativity (NaN if a noble gas is present). */
  get averageElectroneg(): number {
    let sum = 0;
    for (const [symbol, amount] of this.amounts) sum += getElement(symbol).X * Math.abs(amount);
    return sum / this.numAtoms;
  }

  /** "Fe2 O3": elements by electronegativity, every amount written (pymatgen's `formula`). */
  get formula(): string {
    const symbols = pythonSort([...this.amounts.keys()], (a, b) => getElement(a).X < getElement(b).X);
    return symbols.map((s) => s + formatAmount(this.amounts.get(s)!, false)).join(" ");
  }

  /** `formula` with the terms sorted alphabetically ("Fe2 O3"; "Co1 Li0.5 O2"). */
  get alphabeticalFormula(): string {
    return this.formula.split(" ").sort().join(" ");
  }

  /**
   * Hill formula: C first, then H, then the rest alphabetically; without carbon, everything
   * alphabetically. Amounts of 1 are omitted.
   */
  get hillFormula(): string {
    let symbols = [...this.amounts.keys()].sort();
    if (symbols.includes("C")) symbols = ["C", ...symbols.filter((s) => s !== "C")];
    return symbols
      .map((s) => {
        const amount = this.amounts.get(s)!;
        return s + (amount === 1 ? "" : formatAmount(amount));
      })
      .join(" ");
  }

  /** Reduced formula, e.g. "LiFePO4" for Li4Fe4P4O16, "O2" for O, "Li0.5Co1O2" (pymatgen's `reduced_formula`). */
  get reducedFormula(): string {
    return this.getReducedFormulaAndFactor()[0];
  }

  /** [reduced formula, factor]: Li4Fe4P4O16 → ["LiFePO4", 4]; O4 → ["O2", 2]; LiO → ["Li2O2", 0.5]. */
  getReducedFormulaAndFactor(): [formula: string, factor: number] {
    const values = [...this.amounts.values()];
    if (!values.every((x) => Math.abs(x - Math.round(x)) < AMOUNT_TOLERANCE)) return [this.formula.replaceAll(" ", ""), 1];
    const ints = new Map([...this.amounts].map(([s, x]) => [s, Math.round(x)]));
    const [formula, factor] = reduceFormula(ints);
    const special = SPECIAL_FORMULAS[formula];
    return special ? [special, factor / 2] : [formula, factor];
  }

  /** [reduced composition, factor], e.g. Fe4O6 → [Fe2O3, 2]. */
  getReducedCompositionAndFactor(): [composition: Composition, factor: number] {
    const factor = this.getReducedFormulaAndFactor()[1];
    return [this.divide(factor), factor];
  }

  /** The composition divided by its reduction factor ("Fe4 P4 O16" → "Fe1 P1 O4"). */
  get reducedComposition(): Composition {
    return this.getReducedCompositionAndFactor()[0];
  }

  /** Amounts normalised to sum to 1 ("Fe2 O3" → "Fe0.4 O0.6"). */
  get fractionalComposition(): Composition {
    return this.divide(this.numAtoms);
  }

  /** "Fe-O": element symbols sorted alphabetically, joined by dashes. */
  get chemicalSystem(): string {
    return [...this.amounts.keys()].sort().join("-");
  }

  /** Prototype formula: amounts (gcd-reduced when integral) ascending, labelled A, B, C ... ("ABC3"). */
  get anonymizedFormula(): string {
    let values = [...this.amounts.values()];
    if (values.every((x) => x === Math.trunc(x))) {
      const g = values.reduce((acc, x) => gcd(acc, x), 0);
      values = values.map((x) => x / g);
    }
    values.sort((a, b) => a - b);
    return values
      .slice(0, 26) // pymatgen zips with A–Z, silently dropping any 27th element
      .map((amt, i) => String.fromCharCode(65 + i) + anonymousAmount(amt))
      .join("");
  }

  /** pymatgen's `almost_equals`: every amount within atol + rtol · mean(|a|, |b|). */
  almostEquals(other: Composition, tolerance: { rtol?: number; atol?: number } = {}): boolean {
    const { rtol = 0.1, atol = 1e-8 } = tolerance;
    for (const s of new Set([...this.amounts.keys(), ...other.amounts.keys()])) {
      const a = this.amounts.get(s) ?? 0;
      const b = other.amounts.get(s) ?? 0;
      if (Math.abs(b - a) > atol + (rtol * (Math.abs(a) + Math.abs(b))) / 2) return false;
    }
    return true;
  }

  /** pymatgen's `==`: same elements, amounts within 1e-8. */
  equals(other: Composition): boolean {
    if (other.amounts.size !== this.amounts.size) return false;
    for (const [s, a] of this.amounts) if (Math.abs(a - (other.amounts.get(s) ?? 0)) > AMOUNT_TOLERANCE) return false;
    return true;
  }

  /** Sum of two compositions (Fe2O3 + FeO = Fe3O4). */
  add(other: CompositionInput): Composition {
    return this.combine(new Composition(other), 1);
  }

  /** Difference; throws CompositionError if an amount turns negative (unless allowNegative). */
  subtract(other: CompositionInput): Composition {
    return this.combine(new Composition(other, { allowNegative: true }), -1);
  }

  /** Every amount times `k` (Fe2O3 × 4 = Fe8O12). */
  multiply(k: number): Composition {
    return this.mapAmounts((x) => x * k);
  }

  /** Every amount divided by `k`. */
  divide(k: number): Composition {
    return this.mapAmounts((x) => x / k);
  }

  /** {symbol: amount} in insertion order (pymatgen's `as_dict()`). */
  asDict(): Record<string, number> {
    return Object.fromEntries(this.amounts);
  }

  toJSON(): Record<string, number> {
    return this.asDict();
  }

  /** "Fe2 O3" in insertion order, every amount written (pymatgen's `str(comp)`). */
  toString(): string {
    return [...this.amounts].map(([s, x]) => s + formatAmount(x, false)).join(" ");
  }

  private mapAmounts(f: (x: number) => number): Composition {
    const out = new Map([...this.amounts].map(([s, x]) => [s, f(x)]));
    return new Composition(out, { allowNegative: this.allowNegative });
  }

  private combine(other: Composition, sign: 1 | -1): Composition {
    const out = new Map(this.amounts);
    for (const [s, x] of other.amounts) out.set(s, (out.get(s) ?? 0) + sign * x);
    return new Composition(out, { allowNegative: this.allowNegative });
  }
}

/**
 * pymatgen's `reduce_formula` on integer amounts: returns [reduced formula, gcd factor].
 * Recurses once for the polyanion (the two most electronegative elements).
 */
export function reduceFormula(amounts: ReadonlyMap<string, number>): [formula: string, factor: number] {
  const byX = (a: string, b: string): boolean => {
    const xa = getElement(a).X;
    const xb = getElement(b).X;
    // Python compares the key lists [X, symbol]: symbols only decide when the X values are ==.
    return xa === xb ? a < b : xa < xb;
  };
  let symbols = pythonSort([...amounts.keys()], byX).filter((s) => Math.abs(amounts.get(s)!) > AMOUNT_TOLERANCE);
  const values = [...amounts.values()];
  const factor = values.every((x) => Math.trunc(x) === x) ? Math.abs(values.reduce((g, x) => gcd(g, Math.trunc(x)), 0)) : 1;
  const polyanion = polyanionSuffix(symbols, amounts, factor);
  if (polyanion) symbols = symbols.slice(0, -2);
  const body = symbols.map((s) => s + formatAmount(amounts.get(s)! / factor)).join("");
  return [body + polyanion, factor];
}

/** "(PO4)2" when the last two elements (by X) form a polyanion with a common factor, else "". */
function polyanionSuffix(symbols: readonly string[], amounts: ReadonlyMap<string, number>, factor: number): string {
  if (symbols.length < 3) return "";
  const [second, last] = symbols.slice(-2);
  // NaN (noble gas) makes the difference NaN and the comparison false, as in pymatgen.
  if (!(getElement(last).X - getElement(second).X < 1.65)) return "";
  const pair = new Map([second, last].map((s) => [s, amounts.get(s)! / factor]));
  const [polyForm, polyFactor] = reduceFormula(pair);
  return polyFactor !== 1 ? `(${polyForm})${polyFactor}` : "";
}

/** Entries of any accepted input, in the input's order. */
function inputEntries(input: CompositionInput): Iterable<[string | number, number]> {
  if (typeof input === "string") return parseFormula(input);
  if (input instanceof Composition) return input.amounts;
  if (input instanceof Map) return input;
  if (input && typeof input === "object") return Object.entries(input);
  throw new CompositionError(
    `Cannot build a Composition from ${input === null ? "null" : typeof input}: pass a formula string, a Map or a {symbol: amount} object.`,
  );
}

/** pymatgen accepts atomic numbers, also as digit strings ({"26": 2}); symbols pass through. */
function elementKey(key: string | number): string | number {
  return typeof key === "string" && /^\d+$/.test(key) ? Number(key) : key;
}

function checkAmount(symbol: string, amount: number, allowNegative: boolean): void {
  if (typeof amount !== "number" || !Number.isFinite(amount))
    throw new CompositionError(`Amount of ${symbol} is ${String(amount)}: amounts must be finite numbers.`);
  if (amount < -AMOUNT_TOLERANCE && !allowNegative)
    throw new CompositionError(
      `Amount of ${symbol} is ${amount}: amounts in a Composition cannot be negative (pass { allowNegative: true } to allow it).`,
    );
}

/** Amount text of `anonymizedFormula`: "" for 1, the integer, else Python's repr. */
function anonymousAmount(amt: number): string {
  if (amt === 1) return "";
  if (Math.abs(pyMod1(amt)) < 1e-8) return BigInt(Math.trunc(amt)).toString();
  return pythonFloatRepr(amt);
}

/** Python's `x % 1` (result has the sign of the divisor, i.e. is in [0, 1)). */
function pyMod1(x: number): number {
  return ((x % 1) + 1) % 1;
}

/** Greatest common divisor of two integers (gcd(0, n) = |n|, like math.gcd). */
export function gcd(a: number, b: number): number {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b) [a, b] = [b, a % b];
  return a;
}
