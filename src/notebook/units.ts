/**
 * Units of the quantities that show up on axes, so every figure says "E_hull (eV/atom)" and
 * not a bare "e_above_hull". Matching is by name pattern (snake_case or camelCase, with or
 * without a "reward/" style prefix); unknown quantities are treated as dimensionless.
 */

const PATTERNS: [RegExp, string][] = [
  [/e_?above_?hull|formation_?energy|energy_?per_?atom/i, "eV/atom"],
  [/band_?gap/i, "eV"],
  [/volume_?per_?atom/i, "Å³/atom"],
  [/volume/i, "Å³"],
  [/density/i, "g/cm³"],
  [/(^|[^a-z])(a|b|c|length|distance|radius)$/i, "Å"],
  [/angle|alpha|beta|gamma/i, "°"],
  [/^lr$|learning_?rate/i, ""],
];

/** Unit of a quantity name ("" when dimensionless or unknown). */
export function unitFor(name: string): string {
  return PATTERNS.find(([re]) => re.test(name))?.[1] ?? "";
}

/** Axis title "name (unit)"; an explicit unit overrides the lookup, "" means none. */
export function axisTitle(name: string, unit?: string): string {
  const u = unit ?? unitFor(name);
  return u ? `${name} (${u})` : name;
}
