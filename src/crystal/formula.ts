/**
 * Chemical formula text, read and written the way pymatgen does it.
 *
 * Reading: `parseFormula("Ca3(PO4)2")` → ordered amounts {Ca: 3, P: 2, O: 8}. The grammar is
 * pymatgen's (composition.py `_parse_formula`), re-implemented as a recursive-descent parser so
 * errors can point at a position:
 *   - an element is an upper-case letter plus any lower-case letters, optionally followed by
 *     spaces and an amount (`2`, `0.5`, `.5`, `1e-3`);
 *   - a group in (), [] or {} may nest and takes an optional multiplier (`(PO4)2`, `[Fe(CN)6]3`);
 *   - "@" is dropped (metallofullerenes, "Y3N@C80") and spaces are allowed between tokens.
 * Element order is first appearance, left to right, and amounts accumulate in the same order
 * pymatgen accumulates them (each term times its group factor), so sums agree bit for bit.
 * Known, deliberate difference: pymatgen 2022.11 treats only () as groups; newer pymatgen and
 * this parser also accept [] and {}.
 *
 * Writing: pymatgen prints amounts through Python's `round`/`repr`, whose output differs from
 * JavaScript's (`2.0` vs `2`, `1e-05` vs `0.00001`, round-half-even on exact ties).
 * {@link formatAmount}, {@link pythonRound} and {@link pythonFloatRepr} reproduce it.
 */
import { FormulaError } from "./errors.ts";
import { isElementSymbol, unknownSymbolMessage } from "./elements.ts";

const OPEN_TO_CLOSE: Readonly<Record<string, string>> = { "(": ")", "[": "]", "{": "}" };
/** Python `float()` syntax restricted to the characters pymatgen's amount regex admits. */
const PY_FLOAT = /^-?(\d+\.?\d*|\.\d+)(e-?\d+)?$/;

/** Cursor over the formula text; `pos` indexes the original string (for error messages). */
interface Cursor {
  readonly text: string;
  pos: number;
}

/**
 * Parses a formula into element amounts in first-appearance order. Throws {@link FormulaError}
 * naming the formula and the 0-based position of the first problem.
 */
export function parseFormula(formula: string): Map<string, number> {
  if (typeof formula !== "string") throw new FormulaError(`A formula must be a string, got ${typeof formula}.`);
  // "@" is dropped as in pymatgen; replacing it by a space keeps error positions exact.
  const cur: Cursor = { text: formula.replaceAll("@", " "), pos: 0 };
  const amounts = applyFactor(parseSequence(cur, formula, undefined), 1);
  if (amounts.size === 0 && formula.trim() === "")
    throw new FormulaError(`Empty formula ${JSON.stringify(formula)}: give at least one element, e.g. "Fe2O3".`);
  return amounts;
}

/** One element amount before the enclosing group's factor is applied. */
type Term = [symbol: string, amount: number];

/** Terms up to the closing bracket `close` (or the end of the text when `close` is undefined). */
function parseSequence(cur: Cursor, formula: string, close: string | undefined): Term[] {
  const terms: Term[] = [];
  for (;;) {
    skipSpaces(cur);
    const ch = cur.text[cur.pos];
    if (ch === undefined) {
      if (close) fail(formula, cur.pos, `missing closing "${close}"`);
      return terms;
    }
    if (ch === close) return terms;
    if (ch in OPEN_TO_CLOSE) terms.push(...parseGroup(cur, formula));
    else if (ch >= "A" && ch <= "Z") terms.push(parseElementTerm(cur, formula));
    else fail(formula, cur.pos, `unexpected ${JSON.stringify(ch)}; expected an element symbol (upper-case first letter) or a bracket`);
  }
}

/** A bracketed group and its optional multiplier, expanded to one term per element. */
function parseGroup(cur: Cursor, formula: string): Term[] {
  const start = cur.pos;
  const close = OPEN_TO_CLOSE[cur.text[cur.pos]];
  cur.pos++;
  const inner = parseSequence(cur, formula, close);
  if (inner.length === 0) fail(formula, start, "empty bracket group");
  cur.pos++; // the closing bracket
  skipSpaces(cur);
  // pymatgen's group multiplier admits digits, "." and "e" but no sign.
  const factorText = takeWhile(cur, /[.e\d]/);
  const factor = factorText === "" ? 1 : parseAmount(factorText, formula, cur.pos - factorText.length);
  return [...applyFactor(inner, factor)];
}

/** An element symbol with its optional amount ("Fe2", "O", "Li0.5", "Fe 2"). */
function parseElementTerm(cur: Cursor, formula: string): Term {
  const start = cur.pos;
  const symbol = takeWhile(cur, /[A-Z]/, 1) + takeWhile(cur, /[a-z]/);
  if (!isElementSymbol(symbol)) fail(formula, start, caseHint(cur.text, start) || unknownSymbolMessage(symbol));
  skipSpaces(cur);
  const amountText = takeWhile(cur, /[-*.e\d]/);
  const amount = amountText === "" ? 1 : parseAmount(amountText, formula, cur.pos - amountText.length);
  if (amount < -1e-8) fail(formula, start, `negative amount ${amountText} for ${symbol}; amounts must be >= 0`);
  return [symbol, amount];
}

/** Sums terms per element (first-appearance order), each multiplied by `factor` as pymatgen does. */
function applyFactor(terms: readonly Term[], factor: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const [symbol, amount] of terms) out.set(symbol, (out.get(symbol) ?? 0) + amount * factor);
  return out;
}

/** For "FE2O3": the upper-case pair "FE" read as F + E; suggest "Fe" if that is an element. */
function caseHint(text: string, start: number): string {
  const pair = text.slice(start - 1, start + 1);
  const fixed = pair.length === 2 ? pair[0] + pair[1].toLowerCase() : "";
  return /^[A-Z][A-Z]$/.test(pair) && isElementSymbol(fixed)
    ? `"${pair}" reads as the two symbols ${pair[0]} and ${pair[1]}, and ${pair[1]} is not an element. Did you mean "${fixed}"? Symbols are case-sensitive.`
    : "";
}

function parseAmount(text: string, formula: string, pos: number): number {
  if (!PY_FLOAT.test(text)) fail(formula, pos, `malformed amount ${JSON.stringify(text)}; write e.g. 2, 0.5 or 1e-3`);
  return Number(text);
}

/** Consumes characters matching `re` (at most `max`) and returns them. */
function takeWhile(cur: Cursor, re: RegExp, max = Infinity): string {
  const start = cur.pos;
  while (cur.pos - start < max && cur.pos < cur.text.length && re.test(cur.text[cur.pos])) cur.pos++;
  return cur.text.slice(start, cur.pos);
}

function skipSpaces(cur: Cursor): void {
  while (cur.pos < cur.text.length && /\s/.test(cur.text[cur.pos])) cur.pos++;
}

function fail(formula: string, pos: number, why: string): never {
  const end = why.endsWith(".") ? "" : ".";
  throw new FormulaError(`Cannot parse formula ${JSON.stringify(formula)} at position ${pos}: ${why}${end}`);
}

// --- Python-compatible number formatting (pymatgen.util.string.formula_double_format) ---

/**
 * An amount as pymatgen writes it in formulas: "" for exactly 1 when `ignoreOnes`, the integer
 * when within `tol` of its truncation (so 2.9999999999 is NOT an integer here, as in pymatgen),
 * else Python's `str(round(x, 8))` ("0.5", "3.0", "1e-05").
 */
export function formatAmount(x: number, ignoreOnes = true, tol = 1e-8): string {
  if (ignoreOnes && x === 1) return "";
  const whole = Math.trunc(x);
  if (Math.abs(x - whole) < tol) return BigInt(whole).toString();
  return pythonFloatRepr(pythonRound(x, 8));
}

/**
 * Python's `round(x, ndigits)`: correctly rounded to `ndigits` decimals, ties to even.
 * `toFixed` rounds the exact binary value too but breaks exact ties away from zero; an exact
 * tie is only possible when the exact decimal expansion ends in 5 at digit ndigits + 1.
 */
export function pythonRound(x: number, ndigits: number): number {
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21) return x;
  const exact = Math.abs(x).toFixed(100).replace(/0+$/, "");
  const [, frac = ""] = exact.split(".");
  if (frac.length === ndigits + 1 && frac.endsWith("5")) {
    const down = Number(exact.slice(0, exact.length - 1));
    const lastKept = ndigits >= 1 ? Number(frac[ndigits - 1]) : Math.trunc(Math.abs(x)) % 10;
    const rounded = lastKept % 2 === 0 ? down : Number((down + 10 ** -ndigits).toFixed(ndigits));
    return Math.sign(x) * rounded;
  }
  return Number(x.toFixed(ndigits));
}

/**
 * Python's `repr(float)`: shortest round-trip digits (same digits as JavaScript), fixed
 * notation with at least one decimal for 1e-4 <= |x| < 1e16, else scientific with a signed,
 * at-least-two-digit exponent ("1e-05", "1.5e+16").
 */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa, expText] = Math.abs(x).toExponential().split("e");
  const digits = mantissa.replace(".", "");
  const exp = Number(expText);
  const sign = x < 0 ? "-" : "";
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return `${sign}${digits}${"0".repeat(exp + 1 - digits.length)}.0`;
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}
