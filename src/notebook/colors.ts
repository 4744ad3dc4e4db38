/**
 * One colour per reward component, the same in every table and figure, so "energy" is
 * always blue whether it is a bar, a histogram or a training curve. Built-in Chemeleon2
 * components get fixed colours from the Okabe–Ito colour-blind-safe palette; any other name
 * (a user's custom reward) gets a stable colour from a hash of its name.
 */

/** Fixed colours of the built-in components (keys are normalised names, see componentKey). */
const KNOWN: Record<string, string> = {
  creativity: "#E69F00",
  energy: "#0072B2",
  structurediversity: "#009E73",
  compositiondiversity: "#CC79A7",
  predictor: "#D55E00",
  custom: "#56B4E9",
  total: "#333333",
};

/** Colours for other names: Tableau-10 hues that differ from the fixed ones above. */
const EXTRA = ["#4E79A7", "#F28E2B", "#59A14F", "#B07AA1", "#EDC948", "#9C755F", "#76B7B2", "#FF9DA7", "#E15759", "#BAB0AC"];

/** Series colours for non-component data (strategies, groups, metrics). */
export const SERIES_COLORS = ["#4E79A7", "#F28E2B", "#E15759", "#76B7B2", "#59A14F", "#EDC948", "#B07AA1", "#FF9DA7", "#9C755F", "#BAB0AC"];

/**
 * "EnergyReward", "energy", "energy_reward", "src.rl_module.components.EnergyReward" and the
 * metrics.jsonl key "train/reward/energy" all name the same component: keep the last dotted
 * or slash-separated part, lower-case, drop "reward" and non-letters.
 */
export function componentKey(name: string): string {
  const last = name.split(/[./]/).pop() ?? name;
  return last.toLowerCase().replace(/reward$/, "").replace(/[^a-z0-9]/g, "").replace(/reward$/, "");
}

function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Stable colour (hex) of a reward component name. */
export function componentColor(name: string): string {
  const key = componentKey(name);
  return KNOWN[key] ?? EXTRA[hash(key) % EXTRA.length];
}

/** The i-th series colour (cycles). */
export function seriesColor(i: number): string {
  return SERIES_COLORS[((i % SERIES_COLORS.length) + SERIES_COLORS.length) % SERIES_COLORS.length];
}

/** True for the built-in reward component names (any spelling componentKey accepts). */
export function isKnownComponent(name: string): boolean {
  return componentKey(name) in KNOWN;
}
