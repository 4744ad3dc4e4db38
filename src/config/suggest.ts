/**
 * "Did you mean ...?" suggestions for config keys, group options and `_target_` names.
 * Edit distance is computed on lower-cased strings, so `Clip_Ratio` still finds `clip_ratio`.
 */

/** Levenshtein edit distance (insert, delete, substitute each cost 1). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur.push(Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost));
    }
    prev = cur;
  }
  return prev[b.length];
}

/**
 * The `limit` candidates closest to `word`, best first. A candidate is kept when its distance
 * is at most ~40% of the longer string (so unrelated names are not suggested) or when the
 * candidate contains the word (`max_steps` for `trainer.max_steps`).
 */
export function closestMatches(word: string, candidates: Iterable<string>, limit = 3): string[] {
  const w = word.toLowerCase();
  const scored: Array<[string, number]> = [];
  for (const c of new Set(candidates)) {
    const lc = c.toLowerCase();
    const d = editDistance(w, lc);
    // A candidate that contains the word (`trainer.max_steps` for `max_steps`) is close too.
    const contains = w.length >= 3 && lc.includes(w);
    if (d <= Math.max(2, Math.ceil(0.4 * Math.max(w.length, lc.length))) || contains) scored.push([c, contains ? Math.min(d, 1) : d]);
  }
  scored.sort((x, y) => x[1] - y[1] || x[0].localeCompare(y[0]));
  return scored.slice(0, limit).map(([c]) => c);
}

/** ` Did you mean "a" or "b"?` — or an empty string when nothing is close. */
export function didYouMean(word: string, candidates: Iterable<string>, limit = 3): string {
  const best = closestMatches(word, candidates, limit);
  if (best.length === 0) return "";
  return ` Did you mean ${best.map((c) => `"${c}"`).join(" or ")}?`;
}
