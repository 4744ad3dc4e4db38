/**
 * Element symbols as file formats write them: "Fe", "Fe2+", "O2-", "FE", or an atom-site label
 * such as "Fe1" or "O2a". Reduced to a plain element symbol the Structure accepts.
 */
import { isElementSymbol } from "../elements.ts";

/** "fE" → "Fe". */
function titleCase(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
}

/**
 * Element symbol of a species or label string, or `undefined` when none can be read.
 * Tries the first two letters, then the first letter (pymatgen's rule), so "Ca1" → Ca,
 * "C1" → C, "Cs2" → Cs, "Fe3+" → Fe, "O2-" → O, "FE" → Fe. Deuterium "D" maps to H.
 */
export function elementFromSymbolText(text: string): string | undefined {
  const s = text.trim();
  if (!/^[A-Za-z]/.test(s)) return undefined;
  const two = titleCase(s.slice(0, 2));
  // A two-letter match only counts when the second character is a letter ("C1" is not "C1").
  if (two.length === 2 && /[A-Za-z]/.test(two[1]) && isElementSymbol(two)) return two;
  const one = s.charAt(0).toUpperCase();
  if (isElementSymbol(one)) return one;
  if (one === "D") return "H";
  return undefined;
}

/**
 * Like `elementFromSymbolText`, but strict for type symbols: after the element only an oxidation
 * state / charge ("2+", "+3", "-", "3-") may follow. "Xx" or "Fe(II)" return `undefined`.
 */
export function elementFromTypeSymbol(text: string): string | undefined {
  // The charge group holds no letters, so m[1] is the whole run of letters ("Xx" stays "Xx").
  const m = /^([A-Za-z]{1,2})([0-9.]*[+-]?|[+-][0-9.]*)$/.exec(text.trim());
  if (!m) return undefined;
  const sym = titleCase(m[1]);
  if (isElementSymbol(sym)) return sym;
  return sym === "D" ? "H" : undefined;
}
