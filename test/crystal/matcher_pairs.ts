/**
 * Deterministic structure pairs for checking StructureMatcher against pymatgen. Each pair is a
 * small spec (kind, source material ids, seed, magnitude) from which both structures are rebuilt
 * exactly, so the committed fixture stores specs and pymatgen's verdicts rather than structures.
 *
 * Kinds:
 * - perturb: every site displaced by a random vector of length ≤ `mag` Å.
 * - supercell: an integer supercell (diagonal or sheared) with small displacements.
 * - reorder: sites shuffled, the origin shifted, the cell rotated and strained (|ε| ≤ `mag`).
 * - swap: the positions of two equally abundant species exchanged.
 * - prototype: structure A relabelled with B's elements (same stoichiometry pattern) vs B.
 * - polymorph: two MP-20 entries with the same reduced formula.
 * - reversed: another pair with its arguments swapped (pymatgen's fit is not symmetric).
 */
import { Lattice } from "../../src/crystal/lattice.ts";
import type { Mat3, Vec3 } from "../../src/crystal/linalg.ts";
import { matmul3 } from "../../src/crystal/linalg.ts";
import { reducedFormulaKey } from "../../src/crystal/matcher_input.ts";
import { Structure } from "../../src/crystal/structure.ts";
import type { Mp20Row } from "./matcher_data.ts";

export type PairKind = "perturb" | "supercell" | "reorder" | "swap" | "prototype" | "polymorph";

export interface PairSpec {
  kind: PairKind;
  a: string;
  b: string;
  seed: number;
  mag: number;
  reversed: boolean;
}

/** mulberry32: tiny seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random unit vector (uniform on the sphere). */
function unitVector(rand: () => number): Vec3 {
  const z = 2 * rand() - 1;
  const phi = 2 * Math.PI * rand();
  const r = Math.sqrt(1 - z * z);
  return [r * Math.cos(phi), r * Math.sin(phi), z];
}

/** Displace every site by a random vector of length uniform in [0, mag] Å. */
export function perturb(s: Structure, mag: number, rand: () => number): Structure {
  const cart = s.cartCoords.map((c) => {
    const u = unitVector(rand);
    const l = mag * rand();
    return [c[0] + l * u[0], c[1] + l * u[1], c[2] + l * u[2]];
  });
  return Structure.fromCartesian(s.lattice, s.species, cart, { properties: s.properties });
}

const SUPERCELLS: Mat3[] = [
  [[2, 0, 0], [0, 1, 0], [0, 0, 1]],
  [[1, 0, 0], [0, 2, 0], [0, 0, 1]],
  [[1, 0, 0], [0, 1, 0], [0, 0, 2]],
  [[1, 1, 0], [0, 1, 0], [0, 0, 2]],
  [[1, 0, 0], [1, 2, 0], [0, 0, 1]],
  [[2, 0, 0], [0, 1, 1], [0, 0, 1]],
];

export function supercell(s: Structure, m: Mat3): Structure {
  const lat = new Lattice(matmul3(m, s.lattice.matrix));
  const det = Math.round(Math.abs(m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])));
  const species: string[] = [];
  const cart: number[][] = [];
  const cc = s.cartCoords;
  // Lattice translations of the small cell that fall inside the supercell.
  const found: Vec3[] = [];
  for (let i = -2; i <= 2 && found.length < det; i++)
    for (let j = -2; j <= 2; j++)
      for (let k = -2; k <= 2; k++) {
        const t = s.lattice.getCartesianCoords([i, j, k]);
        const f = lat.getFractionalCoords(t);
        if (f.every((x) => x > -1e-8 && x < 1 - 1e-8)) found.push(t);
      }
  for (const t of found.slice(0, det))
    cc.forEach((c, n) => {
      species.push(s.species[n]);
      cart.push([c[0] + t[0], c[1] + t[1], c[2] + t[2]]);
    });
  return Structure.fromCartesian(lat, species, cart, { properties: s.properties });
}

/** Random rotation (unit quaternion) as a 3×3 matrix acting on row vectors. */
function rotation(rand: () => number): Mat3 {
  let q = [rand() - 0.5, rand() - 0.5, rand() - 0.5, rand() - 0.5];
  const n = Math.hypot(...q);
  q = q.map((x) => x / n);
  const [w, x, y, z] = q;
  return [
    [1 - 2 * (y * y + z * z), 2 * (x * y + w * z), 2 * (x * z - w * y)],
    [2 * (x * y - w * z), 1 - 2 * (x * x + z * z), 2 * (y * z + w * x)],
    [2 * (x * z + w * y), 2 * (y * z - w * x), 1 - 2 * (x * x + y * y)],
  ];
}

/** Shuffle sites, shift the origin, rotate and strain the cell by a random symmetric strain of size ≤ mag. */
export function reorderRotateStrain(s: Structure, mag: number, rand: () => number): Structure {
  const order = s.species.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const shift = [rand(), rand(), rand()];
  const e = [0, 1, 2].map(() => [0, 1, 2].map(() => (2 * rand() - 1) * mag));
  const strain = [0, 1, 2].map((i) => [0, 1, 2].map((j) => (i === j ? 1 : 0) + (e[i][j] + e[j][i]) / 2)) as Mat3;
  const matrix = matmul3(matmul3(s.lattice.matrix, strain), rotation(rand));
  const frac = order.map((i) => s.fracCoords[i].map((x, k) => x + shift[k]));
  return new Structure(new Lattice(matrix), order.map((i) => s.species[i]), frac, { properties: s.properties });
}

/** Exchange the elements of two species with equal counts (null when none exist). */
export function swapSpecies(s: Structure, rand: () => number): Structure | null {
  const counts = new Map<string, number>();
  for (const x of s.species) counts.set(x, (counts.get(x) ?? 0) + 1);
  const els = [...counts.keys()];
  const pairs: [string, string][] = [];
  for (let i = 0; i < els.length; i++)
    for (let j = i + 1; j < els.length; j++) if (counts.get(els[i]) === counts.get(els[j])) pairs.push([els[i], els[j]]);
  if (!pairs.length) return null;
  const [x, y] = pairs[Math.floor(rand() * pairs.length)];
  return s.copy({ species: s.species.map((e) => (e === x ? y : e === y ? x : e)) });
}

/** Stoichiometry pattern, e.g. "1,2" for AB2: structures sharing it can be relabelled onto each other. */
export function anonymousPattern(s: Structure): string {
  const counts = new Map<string, number>();
  for (const x of s.species) counts.set(x, (counts.get(x) ?? 0) + 1);
  return [...counts.entries()].sort((p, q) => p[1] - q[1] || (p[0] < q[0] ? -1 : 1)).map(([, n]) => n).join(",");
}

/** A's structure with its elements replaced by B's, matched by (count, then symbol) order, so it has B's composition. */
export function relabel(a: Structure, b: Structure): Structure {
  const rank = (s: Structure) => {
    const counts = new Map<string, number>();
    for (const x of s.species) counts.set(x, (counts.get(x) ?? 0) + 1);
    return [...counts.entries()].sort((p, q) => p[1] - q[1] || (p[0] < q[0] ? -1 : 1)).map(([e]) => e);
  };
  const [ra, rb] = [rank(a), rank(b)];
  return a.copy({ species: a.species.map((e) => rb[ra.indexOf(e)]) });
}

/** Rebuild both structures of a pair from its spec. */
export function buildPair(spec: PairSpec, byId: ReadonlyMap<string, Structure>): [Structure, Structure] {
  const a = byId.get(spec.a);
  const b = byId.get(spec.b);
  if (!a || !b) throw new Error(`unknown material id in pair ${JSON.stringify(spec)}`);
  const rand = mulberry32(spec.seed);
  let pair: [Structure, Structure];
  switch (spec.kind) {
    case "perturb":
      pair = [a, perturb(a, spec.mag, rand)];
      break;
    case "supercell":
      pair = [a, perturb(supercell(a, SUPERCELLS[Math.floor(rand() * SUPERCELLS.length)]), spec.mag, rand)];
      break;
    case "reorder":
      pair = [a, reorderRotateStrain(perturb(a, 0.05, rand), spec.mag, rand)];
      break;
    case "swap":
      pair = [a, perturb(swapSpecies(a, rand) ?? a, spec.mag, rand)];
      break;
    case "prototype":
      pair = [relabel(a, b), b];
      break;
    case "polymorph":
      pair = [a, b];
      break;
  }
  return spec.reversed ? [pair[1], pair[0]] : pair;
}

/** The full pair list: ~3500 specs over the given rows, deterministic for a seed. */
export function makePairSpecs(rows: readonly Mp20Row[], seed = 20260101): PairSpec[] {
  const rand = mulberry32(seed);
  const specs: PairSpec[] = [];
  const add = (kind: PairKind, a: string, b: string, mag: number) =>
    specs.push({ kind, a, b, seed: Math.floor(rand() * 2 ** 31), mag: Math.round(mag * 1e4) / 1e4, reversed: false });
  const ids = rows.map((r) => r.materialId);
  const pick = () => ids[Math.floor(rand() * ids.length)];
  for (const id of ids) add("perturb", id, id, 0.6 * rand());
  for (let i = 0; i < 400; i++) add("supercell", pick(), "", 0.1 * rand());
  for (let i = 0; i < 600; i++) add("reorder", pick(), "", 0.3 * rand());
  const swappable = rows.filter((r) => swapSpecies(r.structure, () => 0)).map((r) => r.materialId);
  for (let i = 0; i < 250; i++) add("swap", swappable[Math.floor(rand() * swappable.length)], "", 0.05 * rand());
  addPrototypePairs(rows, rand, add);
  addPolymorphPairs(rows, add);
  for (const s of specs) if (!s.b) s.b = s.a;
  const n = specs.length;
  for (let i = 0; i < 350; i++) specs.push({ ...specs[Math.floor(rand() * n)], reversed: true });
  return specs;
}

function addPrototypePairs(rows: readonly Mp20Row[], rand: () => number, add: (k: PairKind, a: string, b: string, mag: number) => void): void {
  const byPattern = new Map<string, Mp20Row[]>();
  for (const r of rows) {
    const p = `${anonymousPattern(r.structure)}|${r.structure.length}`;
    byPattern.set(p, [...(byPattern.get(p) ?? []), r]);
  }
  const groups = [...byPattern.values()].filter((g) => g.length > 1);
  for (let i = 0; i < 700; i++) {
    const g = groups[Math.floor(rand() * groups.length)];
    const a = g[Math.floor(rand() * g.length)];
    const b = g[Math.floor(rand() * g.length)];
    if (a !== b) add("prototype", a.materialId, b.materialId, 0);
  }
}

function addPolymorphPairs(rows: readonly Mp20Row[], add: (k: PairKind, a: string, b: string, mag: number) => void): void {
  const byFormula = new Map<string, Mp20Row[]>();
  for (const r of rows) {
    const k = reducedFormulaKey(r.structure.species);
    byFormula.set(k, [...(byFormula.get(k) ?? []), r]);
  }
  for (const g of byFormula.values())
    for (let i = 0; i < g.length; i++) for (let j = i + 1; j < g.length; j++) add("polymorph", g[i].materialId, g[j].materialId, 0);
}

/** pymatgen keyword options of a non-default matcher (plus `symmetric` for fit(symmetric=True)). */
export interface PymatgenOptions {
  primitive_cell?: boolean;
  attempt_supercell?: boolean;
  allow_subset?: boolean;
  scale?: boolean;
  symmetric?: boolean;
}

/** The same options in this project's camelCase. */
export function camelOptions(o: PymatgenOptions): { primitiveCell?: boolean; attemptSupercell?: boolean; allowSubset?: boolean; scale?: boolean; symmetric?: boolean } {
  return { primitiveCell: o.primitive_cell, attemptSupercell: o.attempt_supercell, allowSubset: o.allow_subset, scale: o.scale, symmetric: o.symmetric };
}

/**
 * Pairs for checking non-default options against pymatgen: supercell pairs without primitive
 * reduction (attempt_supercell, allow_subset), order-swapped and strained pairs (symmetric),
 * perturbed/strained pairs without volume scaling.
 */
export function optionPairs(specs: readonly PairSpec[]): { spec: PairSpec; options: PymatgenOptions }[] {
  const of = (kinds: PairKind[], reversed: boolean | null, n: number) =>
    specs.filter((s) => kinds.includes(s.kind) && (reversed === null || s.reversed === reversed)).slice(0, n);
  return [
    ...of(["supercell"], null, 120).map((spec) => ({ spec, options: { primitive_cell: false, attempt_supercell: true } })),
    ...of(["supercell"], null, 80).map((spec) => ({ spec, options: { primitive_cell: false, allow_subset: true } })),
    ...of(["reorder", "prototype", "swap"], true, 150).map((spec) => ({ spec, options: { symmetric: true } })),
    ...of(["perturb", "reorder"], false, 150).map((spec) => ({ spec, options: { scale: false } })),
  ];
}
