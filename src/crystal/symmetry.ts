/**
 * Space-group analysis via moyo (`@spglib/moyo-wasm`), the Rust successor of spglib, compiled to
 * WebAssembly. pymatgen users know this as `SpacegroupAnalyzer`; here it is a few functions.
 *
 * The wasm module is instantiated synchronously (`initSync` with the bytes read from disk) on
 * first use, so every function here is synchronous under Node.
 *
 * What moyo-wasm gives and what we add:
 * - `analyze_cell` returns the space group, operations, Wyckoff letters, orbits (equivalent
 *   atoms) and BOTH the standardized conventional cell (`std_cell`) and the standardized
 *   primitive cell (`prim_std_cell`); we only map atom numbers back to element symbols.
 * - There is no angle tolerance in the wasm API (moyo-wasm 0.15 `analyze_cell(cell, symprec,
 *   setting)`), so `angleTolerance` is rejected with a SymmetryError rather than ignored.
 * - Settings follow spglib (`"Spglib"`), the convention pymatgen's SpacegroupAnalyzer reports.
 *   Cells are moyo's standardization, which can differ from pymatgen's
 *   `get_primitive_standard_structure` (Setyawan–Curtarolo orientation) by a rotation/basis choice.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { initSync, analyze_cell, type MoyoCell, type MoyoDataset } from "@spglib/moyo-wasm";
import { SymmetryError } from "./errors.ts";
import { Lattice } from "./lattice.ts";
import type { Mat3, Vec3 } from "./linalg.ts";
import { Structure } from "./structure.ts";

export interface SymmetryOptions {
  /** Distance tolerance in Å (spglib/pymatgen `symprec`); default 0.1 as in MP. */
  symprec?: number;
  /** Not supported by moyo-wasm; giving it throws (see module doc). */
  angleTolerance?: number;
}

/** A symmetry operation on fractional coordinates: x' = rotation · x + translation. */
export interface SymmetryOperation {
  rotation: Mat3;
  translation: Vec3;
}

/** The parts of moyo's dataset most users need, with pymatgen/spglib names. */
export interface SymmetryDataset {
  /** International space-group number 1–230. */
  number: number;
  /** Hermann–Mauguin symbol, e.g. "F m -3 m" as moyo writes it. */
  symbol: string;
  hallNumber: number;
  pearsonSymbol: string;
  /** Operations of the input cell (fractional, input basis). */
  operations: SymmetryOperation[];
  /** Wyckoff letter of each input site. */
  wyckoffs: string[];
  /** For each site, the index of the first site of its orbit (spglib's `equivalent_atoms`). */
  equivalentAtoms: number[];
  /** Site-symmetry symbol of each input site. */
  siteSymmetrySymbols: string[];
  symprec: number;
}

let initialised = false;

/** Instantiates the wasm module once, synchronously, from the package's own .wasm file. */
function ensureMoyo(): void {
  if (initialised) return;
  const require = createRequire(import.meta.url);
  const jsPath = require.resolve("@spglib/moyo-wasm");
  const wasmPath = jsPath.replace(/moyo_wasm\.js$/, "moyo_wasm_bg.wasm");
  initSync({ module: readFileSync(wasmPath) });
  initialised = true;
}

/** Formula for error messages; never throws. */
function describe(structure: Structure): string {
  try {
    return structure.composition.formula;
  } catch {
    return structure.species.join("");
  }
}

/** Distinct element symbols in first-appearance order: moyo wants integer labels, any will do. */
function speciesLabels(structure: Structure): { symbols: string[]; numbers: number[] } {
  const symbols: string[] = [];
  const numbers = structure.species.map((s) => {
    let k = symbols.indexOf(s);
    if (k < 0) k = symbols.push(s) - 1;
    return k + 1;
  });
  return { symbols, numbers };
}

/** Runs moyo on a structure; the raw dataset plus the label → symbol table. */
function analyze(structure: Structure, options: SymmetryOptions): { ds: MoyoDataset; symbols: string[] } {
  const symprec = options.symprec ?? 0.1;
  const name = describe(structure);
  if (!(symprec > 0) || !Number.isFinite(symprec))
    throw new SymmetryError(`symprec must be a finite number > 0 Å, got ${symprec} (for ${name}); 0.1 is the usual choice.`);
  if (options.angleTolerance !== undefined)
    throw new SymmetryError(
      `angleTolerance is not supported: moyo-wasm's analyze_cell takes only a distance tolerance. ` +
        `Remove angleTolerance (for ${name}) and tune symprec instead.`,
    );
  if (structure.length === 0) throw new SymmetryError("Cannot analyse the symmetry of a structure with no sites.");
  ensureMoyo();
  const { symbols, numbers } = speciesLabels(structure);
  const cell: MoyoCell = {
    lattice: { basis: structure.lattice.matrix.flat() as MoyoCell["lattice"]["basis"] },
    positions: structure.fracCoords.map((f) => [f[0], f[1], f[2]]),
    numbers,
  };
  try {
    return { ds: analyze_cell(JSON.stringify(cell), symprec, "Spglib"), symbols };
  } catch (err) {
    throw new SymmetryError(
      `Symmetry search failed for ${name} at symprec=${symprec} Å: ${String((err as Error)?.message ?? err)}. ` +
        `Try a looser symprec (e.g. ${Math.min(symprec * 2, 0.5)}), or check for overlapping atoms.`,
    );
  }
}

/** Column-major 9-vector → 3×3 rows. */
const transposeFlat = (r: readonly number[]): Mat3 => [
  [r[0], r[3], r[6]],
  [r[1], r[4], r[7]],
  [r[2], r[5], r[8]],
];

const toMat3 = (r: readonly number[]): Mat3 => [
  [r[0], r[1], r[2]],
  [r[3], r[4], r[5]],
  [r[6], r[7], r[8]],
];

/** Space-group number (1–230) at tolerance `symprec` (pymatgen `get_space_group_number`). */
export function getSpaceGroupNumber(structure: Structure, options: SymmetryOptions = {}): number {
  return analyze(structure, options).ds.number;
}

/** Hermann–Mauguin symbol as moyo writes it (e.g. "P 6_3/m m c"); pymatgen writes it without spaces. */
export function getSpaceGroupSymbol(structure: Structure, options: SymmetryOptions = {}): string {
  return analyze(structure, options).ds.hm_symbol;
}

/** Full symmetry dataset (pymatgen `get_symmetry_dataset`, subset with camelCase names). */
export function getSymmetryDataset(structure: Structure, options: SymmetryOptions = {}): SymmetryDataset {
  const { ds } = analyze(structure, options);
  return {
    number: ds.number,
    symbol: ds.hm_symbol,
    hallNumber: ds.hall_number,
    pearsonSymbol: ds.pearson_symbol,
    // moyo serialises its nalgebra rotation matrices column-major: transpose to get rows.
    operations: ds.operations.map((op) => ({ rotation: transposeFlat(op.rotation), translation: [...op.translation] as Vec3 })),
    wyckoffs: [...ds.wyckoffs],
    equivalentAtoms: [...ds.orbits],
    siteSymmetrySymbols: [...ds.site_symmetry_symbols],
    symprec: ds.symprec,
  };
}

/** Builds a Structure from a moyo cell, mapping labels back to symbols. */
function fromMoyoCell(cell: MoyoCell, symbols: string[], source: Structure): Structure {
  const lattice = new Lattice(toMat3(cell.lattice.basis));
  const species = cell.numbers.map((n) => symbols[n - 1]);
  return new Structure(lattice, species, cell.positions, { properties: { ...source.properties } });
}

/** Standardized primitive cell (moyo's `prim_std_cell`, spglib setting). */
export function getPrimitiveStandardStructure(structure: Structure, options: SymmetryOptions = {}): Structure {
  const { ds, symbols } = analyze(structure, options);
  return fromMoyoCell(ds.prim_std_cell, symbols, structure);
}

/** Standardized conventional cell (moyo's `std_cell`, spglib setting). */
export function getConventionalStandardStructure(structure: Structure, options: SymmetryOptions = {}): Structure {
  const { ds, symbols } = analyze(structure, options);
  return fromMoyoCell(ds.std_cell, symbols, structure);
}
