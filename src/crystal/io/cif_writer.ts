/**
 * CIF writer in pymatgen's `CifWriter` layout. Without `symprec` it writes the P1 file MP-20
 * ships (identity operation only, one row per site); with `symprec` it finds the space group
 * with moyo and writes its operations plus one row per symmetry orbit, in the input cell.
 *
 * Coordinates and cell parameters get 8 decimals (pymatgen's default), enough for a
 * write → read round trip to ~1e-7 Å.
 */
import { Structure, countSpecies } from "../structure.ts";
import type { Vec3 } from "../linalg.ts";
import { getSymmetryDataset } from "../symmetry.ts";
import { SymmOp } from "./symops.ts";

export interface CifWriteOptions {
  /** Symmetry tolerance (Å). When given, the CIF lists the space group operations and one site per orbit. */
  symprec?: number;
  /** Decimals for coordinates and cell parameters (default 8, as pymatgen). */
  decimals?: number;
}

/** Site rows and symmetry information to write. */
export interface CifSymmetryData {
  spaceGroupSymbol: string;
  spaceGroupNumber: number;
  operations: SymmOp[];
  /** Representative site of each orbit (its index and the coordinates to write) and the orbit size. */
  representatives: { index: number; multiplicity: number; frac?: Vec3 }[];
}

/** P1 symmetry data: identity, every site its own orbit. */
function p1Symmetry(structure: Structure): CifSymmetryData {
  return {
    spaceGroupSymbol: "P 1",
    spaceGroupNumber: 1,
    operations: [SymmOp.identity()],
    representatives: structure.species.map((_, index) => ({ index, multiplicity: 1 })),
  };
}

/**
 * Symmetry data found by moyo within `symprec` (Å), in the structure's own cell (pymatgen's
 * `CifWriter(refine_struct=False)`): the operations of that cell and one representative per
 * orbit, moved onto its exact special position so that reading the file back regenerates the
 * orbit without near-duplicate images.
 */
export function findCifSymmetry(structure: Structure, symprec: number): CifSymmetryData {
  const ds = getSymmetryDataset(structure, { symprec });
  const operations = ds.operations.map((op) => new SymmOp(op.rotation, op.translation.map(cleanTranslation)));
  const sizes = new Map<number, number>();
  for (const o of ds.equivalentAtoms) sizes.set(o, (sizes.get(o) ?? 0) + 1);
  const representatives = [...sizes].map(([index, multiplicity]) => ({
    index,
    multiplicity,
    frac: symmetrizePosition(structure.fracCoords[index], operations, structure, symprec),
  }));
  return { spaceGroupSymbol: ds.symbol, spaceGroupNumber: ds.number, operations, representatives };
}

/**
 * A translation wrapped into [0, 1) and, when within 1e-6 of a fraction k/n (n ≤ 24), set to it:
 * symmetry finders return translations with float noise ("x+2.5e-7"), which would otherwise be written.
 */
function cleanTranslation(t: number): number {
  const w = t - Math.floor(t);
  for (let den = 1; den <= 24; den++) {
    const k = Math.round(w * den);
    if (Math.abs(w - k / den) < 1e-6) return k === den ? 0 : k / den;
  }
  return w;
}

/**
 * Average of the images of `p` under the operations that map it onto itself (its site-symmetry
 * group), each taken at the lattice translate nearest to `p`: the projection onto the special position.
 */
function symmetrizePosition(p: Vec3, operations: readonly SymmOp[], structure: Structure, symprec: number): Vec3 {
  const sum: Vec3 = [0, 0, 0];
  let n = 0;
  for (const op of operations) {
    const q = op.operate(p);
    const d = q.map((x, i) => x - p[i]);
    const shift = d.map(Math.round);
    const diff = d.map((x, i) => x - shift[i]);
    const cart = structure.lattice.getCartesianCoords(diff);
    if (Math.hypot(...cart) > symprec) continue;
    for (let i = 0; i < 3; i++) sum[i] += q[i] - shift[i];
    n++;
  }
  return n > 0 ? (sum.map((x) => x / n) as Vec3) : p;
}

/**
 * Writes `structure` as a CIF string (pymatgen CifWriter layout).
 * Per-site occupancies come from `structure.properties.occupancies` when present, else 1.
 * With `symprec`, the file lists the space-group operations and one site per orbit (see `findCifSymmetry`).
 */
export function structureToCif(structure: Structure, options: CifWriteOptions = {}): string {
  const dec = options.decimals ?? 8;
  const sym = options.symprec !== undefined ? findCifSymmetry(structure, options.symprec) : p1Symmetry(structure);
  const f = (x: number) => x.toFixed(dec);
  const { reduced, sum, units } = formulaFields(structure);
  const [a, b, c, al, be, ga] = structure.lattice.parameters;
  const lines = [
    "# generated using crystal-grpo",
    `data_${reduced}`,
    `_symmetry_space_group_name_H-M   ${quote(sym.spaceGroupSymbol)}`,
    `_cell_length_a   ${f(a)}`,
    `_cell_length_b   ${f(b)}`,
    `_cell_length_c   ${f(c)}`,
    `_cell_angle_alpha   ${f(al)}`,
    `_cell_angle_beta   ${f(be)}`,
    `_cell_angle_gamma   ${f(ga)}`,
    `_symmetry_Int_Tables_number   ${sym.spaceGroupNumber}`,
    `_chemical_formula_structural   ${reduced}`,
    `_chemical_formula_sum   ${quote(sum)}`,
    `_cell_volume   ${f(structure.lattice.volume)}`,
    `_cell_formula_units_Z   ${units}`,
    "loop_",
    " _symmetry_equiv_pos_site_id",
    " _symmetry_equiv_pos_as_xyz",
    ...sym.operations.map((op, i) => `  ${i + 1}  '${op.toXyzString()}'`),
    ...atomSiteLoop(structure, sym, f),
  ];
  return lines.join("\n") + "\n";
}

function atomSiteLoop(structure: Structure, sym: CifSymmetryData, f: (x: number) => string): string[] {
  const occ = structure.properties.occupancies;
  const occupancies = Array.isArray(occ) && occ.length === structure.length ? (occ as number[]) : undefined;
  const head = ["loop_", " _atom_site_type_symbol", " _atom_site_label", " _atom_site_symmetry_multiplicity"];
  head.push(" _atom_site_fract_x", " _atom_site_fract_y", " _atom_site_fract_z", " _atom_site_occupancy");
  const rows = sym.representatives.map(({ index, multiplicity, frac }, k) => {
    const el = structure.species[index];
    const xyz = (frac ?? structure.fracCoords[index]).map(f).join("  ");
    const o = occupancies ? `${occupancies[index]}` : "1";
    return `  ${el}  ${el}${k}  ${multiplicity}  ${xyz}  ${o}`;
  });
  return [...head, ...rows];
}

/** Quotes a CIF value that contains whitespace. */
function quote(v: string): string {
  return /\s/.test(v) ? `'${v}'` : v;
}

/**
 * Formula fields: `_chemical_formula_sum` ("Ga4 Te4"), the reduced formula ("GaTe") and Z.
 * Element order follows `composition.formula` (electronegativity order once Composition has it).
 */
function formulaFields(structure: Structure): { reduced: string; sum: string; units: number } {
  const counts = countSpecies(structure.species);
  const order = orderFromFormula(structure.composition.formula, counts);
  const units = order.map((el) => counts.get(el)!).reduce(gcd);
  const sum = order.map((el) => `${el}${counts.get(el)}`).join(" ");
  const comp = structure.composition as unknown as { reducedFormula?: unknown };
  const reduced =
    typeof comp.reducedFormula === "string"
      ? comp.reducedFormula
      : order.map((el) => `${el}${counts.get(el)! / units === 1 ? "" : counts.get(el)! / units}`).join("");
  return { reduced, sum, units };
}

/** Element order as printed by `composition.formula` ("Fe2 O3" → [Fe, O]); first-appearance order otherwise. */
function orderFromFormula(formula: string, counts: Map<string, number>): string[] {
  const named = formula
    .split(/\s+/)
    .map((t) => /^([A-Z][a-z]*)/.exec(t)?.[1])
    .filter((e): e is string => e !== undefined && counts.has(e));
  const seen = new Set(named);
  return seen.size === counts.size ? [...seen] : [...counts.keys()];
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
