/**
 * Input checks and composition keys for structure comparison. A matcher verdict on a broken
 * structure (no atoms, NaN coordinates, two atoms on the same spot) would be meaningless, so
 * those raise a StructureError naming the problem instead.
 */
import { StructureError } from "./errors.ts";
import { inv3 } from "./linalg.ts";
import { lllReduce } from "./matcher_lattice.ts";
import type { Structure } from "./structure.ts";

/**
 * @throws StructureError when the structure has no sites, a non-finite coordinate or lattice entry,
 * or two sites (or a site and its own periodic image) closer than `minSeparation` Å.
 */
export function validateForMatching(s: Structure, minSeparation: number): void {
  if (s.length === 0)
    throw new StructureError(`Cannot compare a structure with zero atoms: add sites or drop it from the list.`);
  s.fracCoords.forEach((f, i) => {
    if (!f.every(Number.isFinite))
      throw new StructureError(`Site ${i} (${s.species[i]}) has non-finite fractional coordinates ${JSON.stringify(f)}: fix or drop the structure.`);
  });
  if (!s.lattice.matrix.every((r) => r.every(Number.isFinite)))
    throw new StructureError(`The lattice has non-finite entries: fix or drop the structure.`);
  const close = closePair(s, minSeparation);
  if (close.d < minSeparation) {
    const [i, j] = close.pair;
    if (i === j)
      throw new StructureError(`The lattice has a vector only ${close.d.toExponential(3)} Å long: every site overlaps its own image. Fix the lattice.`);
    throw new StructureError(
      `Sites ${i} (${s.species[i]}) and ${j} (${s.species[j]}) overlap: ${close.d.toExponential(3)} Å apart, below ${minSeparation} Å. ` +
        `Remove duplicate sites (or merge them) before matching.`,
    );
  }
}

/**
 * The closest pair of sites when it is closer than `limit` Å (else d = Infinity). A Cartesian
 * difference x has fractional components g_k = x·b_k with |b_k| = 1/h_k (h_k the cell height), so
 * |x| < limit forces |g_k| < limit/h_k: for a small limit only the nearest-integer image of the
 * fractional difference can qualify, which makes the check O(n²) with no image search.
 */
function closePair(s: Structure, limit: number): { d: number; pair: [number, number] } {
  const m = s.lattice.matrix;
  const inv = inv3(m);
  const fracLimit = [0, 1, 2].map((k) => limit * Math.hypot(inv[0][k], inv[1][k], inv[2][k]));
  // All fractional limits < 0.5 also means every cell height exceeds 2·limit, so no lattice
  // vector (a site's distance to its own image) is shorter than the limit.
  if (fracLimit.some((x) => x >= 0.5)) return bruteClosePair(s, limit);
  const f = s.fracCoords;
  for (let i = 0; i < f.length; i++)
    for (let j = i + 1; j < f.length; j++) {
      let g0 = f[j][0] - f[i][0];
      g0 -= Math.round(g0);
      if (Math.abs(g0) >= fracLimit[0]) continue;
      let g1 = f[j][1] - f[i][1];
      g1 -= Math.round(g1);
      if (Math.abs(g1) >= fracLimit[1]) continue;
      let g2 = f[j][2] - f[i][2];
      g2 -= Math.round(g2);
      if (Math.abs(g2) >= fracLimit[2]) continue;
      const d = Math.hypot(...[0, 1, 2].map((l) => g0 * m[0][l] + g1 * m[1][l] + g2 * m[2][l]));
      if (d < limit) return { d, pair: [i, j] };
    }
  return { d: Infinity, pair: [0, 0] };
}

/** Fallback for a limit comparable to the cell size: every pair over the 27 neighbouring LLL cells. */
function bruteClosePair(s: Structure, limit: number): { d: number; pair: [number, number] } {
  const lll = lllReduce(s.lattice.matrix).matrix;
  const shortest = Math.min(...lll.map((r) => Math.hypot(r[0], r[1], r[2])));
  if (shortest < limit) return { d: shortest, pair: [0, 0] };
  const inv = inv3(lll);
  const cart = s.cartCoords;
  for (let i = 0; i < cart.length; i++)
    for (let j = i + 1; j < cart.length; j++) {
      const dc = [0, 1, 2].map((l) => cart[j][l] - cart[i][l]);
      const f = [0, 1, 2].map((l) => dc[0] * inv[0][l] + dc[1] * inv[1][l] + dc[2] * inv[2][l]).map((x) => x - Math.round(x));
      for (let a = -1; a <= 1; a++)
        for (let b = -1; b <= 1; b++)
          for (let c = -1; c <= 1; c++) {
            const g = [f[0] + a, f[1] + b, f[2] + c];
            const d = Math.hypot(...[0, 1, 2].map((l) => g[0] * lll[0][l] + g[1] * lll[1][l] + g[2] * lll[2][l]));
            if (d < limit) return { d, pair: [i, j] };
          }
    }
  return { d: Infinity, pair: [0, 0] };
}

/**
 * Reduced-formula key with elements in alphabetical order ("Fe3Ni", "O2Si"): equal keys ⇔ equal
 * reduced compositions, which is what pymatgen's SpeciesComparator hashes on.
 */
export function reducedFormulaKey(species: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const s of species) counts.set(s, (counts.get(s) ?? 0) + 1);
  const g = [...counts.values()].reduce(gcd, 0);
  return [...counts.keys()]
    .sort()
    .map((el) => {
      const n = counts.get(el)! / g;
      return n === 1 ? el : `${el}${n}`;
    })
    .join("");
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
