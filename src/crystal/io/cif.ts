/**
 * CIF reader and writer: CIF text ⇄ `Structure`, following pymatgen's `CifParser` /
 * `CifWriter` where a pymatgen user would notice (cell orientation, site order, symmetry
 * expansion, the P1 layout written), and stricter where pymatgen is silent:
 * partial occupancies and overlapping atoms are errors, not quietly kept.
 *
 *   const s = parseCif(text, { source: "mp-1234.cif" });
 *   const again = parseCif(structureToCif(s));
 */
import { CifParseError, CrystalError } from "../errors.ts";
import { Lattice } from "../lattice.ts";
import { Structure } from "../structure.ts";
import type { Vec3 } from "../linalg.ts";
import { parseCifBlocks, type CifBlock, type CifItem } from "./cif_syntax.ts";
import { elementFromSymbolText, elementFromTypeSymbol } from "./species_symbol.ts";
import { SymmOp } from "./symops.ts";

export { parseCifBlocks, normalizeTag, type CifBlock, type CifItem } from "./cif_syntax.ts";
export { structureToCif, type CifWriteOptions } from "./cif_writer.ts";

export interface CifReadOptions {
  /** Names the file or data set row in error messages. */
  source?: string;
  /**
   * How far below 1 an occupancy may be and still be read as a full atom (default 0: any
   * partial occupancy is an error). Accepted occupancies are kept in
   * `structure.properties.occupancies` (one number per site) whenever one of them is < 1.
   */
  occupancyTolerance?: number;
  /**
   * Fractional tolerance (per component, after wrapping into the cell) under which two symmetry
   * images of the same element are the same site. Default 1e-4, pymatgen's `site_tolerance`.
   */
  siteTolerance?: number;
  /** Two atoms closer than this (Å) that are not merged duplicates are an error. Default 0.1. */
  minDistance?: number;
}

/** One `_atom_site` row, before symmetry expansion. */
interface SiteRow {
  element: string;
  label: string;
  frac: Vec3;
  occupancy: number;
  line: number;
}

/**
 * Structure of the FIRST data block of a CIF. Pure metadata blocks (neither a cell nor atom
 * sites, e.g. the publication block journals put first) are skipped.
 * Site order is the file order, each row followed by its new symmetry images: pymatgen's order
 * for P1 files such as MP-20's (for symmetric files pymatgen also sorts by electronegativity).
 * @throws CifParseError (naming `source` and the line) for malformed syntax, a missing or
 *   impossible cell, an unknown element, an unreadable coordinate, a partial occupancy beyond
 *   `occupancyTolerance`, or atoms closer than `minDistance` after symmetry expansion.
 */
export function parseCif(text: string, options: CifReadOptions = {}): Structure {
  return structureFromCifBlock(structureBlocks(text, options)[0], options);
}

/** Structures of ALL data blocks of a CIF, in file order (metadata-only blocks skipped). */
export function parseCifAll(text: string, options: CifReadOptions = {}): Structure[] {
  return structureBlocks(text, options).map((b) => structureFromCifBlock(b, options));
}

/** Blocks that describe a structure; when none does, the first block (whose parse then names what is missing). */
function structureBlocks(text: string, options: CifReadOptions): CifBlock[] {
  const blocks = parseCifBlocks(text, options);
  const withData = blocks.filter((b) => b.items.has("_cell_length_a") || b.items.has("_atom_site_fract_x"));
  return withData.length > 0 ? withData : blocks.slice(0, 1);
}

/** Builds the structure described by one parsed data block (cell, symmetry operations, sites). */
export function structureFromCifBlock(block: CifBlock, options: CifReadOptions = {}): Structure {
  const source = options.source;
  const lattice = readLattice(block, source);
  const ops = readSymmOps(block, source);
  const rows = readSiteRows(block, source);
  checkOccupancies(rows, options.occupancyTolerance ?? 0, source);
  const sites = expandSites(rows, ops, lattice, options);
  const properties: Record<string, unknown> = {};
  if (sites.occupancies.some((o) => o < 1)) properties.occupancies = sites.occupancies;
  try {
    return new Structure(lattice, sites.species, sites.coords, { properties });
  } catch (e) {
    throw wrapError(e, `data block '${block.name}'`, source, block.line);
  }
}

function wrapError(e: unknown, what: string, source: string | undefined, line: number | undefined): Error {
  if (e instanceof CifParseError) return e;
  if (e instanceof CrystalError) return new CifParseError(`${what}: ${e.message}`, source, line);
  return e as Error;
}

// ---------------------------------------------------------------- numbers and items

/**
 * A CIF number: "5.431", "5.431(2)" (standard uncertainty dropped), "-1e-3".
 * Returns undefined for the CIF null values "?" and "."; NaN for anything unreadable.
 */
export function parseCifNumber(value: string): number | undefined {
  if (value === "?" || value === ".") return undefined;
  const paren = value.indexOf("(");
  const core = paren >= 0 && value.endsWith(")") ? value.slice(0, paren) : value;
  return NUMBER.test(core) ? Number(core) : NaN;
}
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function firstItem(block: CifBlock, tags: readonly string[]): CifItem | undefined {
  for (const t of tags) {
    const item = block.items.get(t);
    if (item) return item;
  }
  return undefined;
}

// ---------------------------------------------------------------- lattice

const CELL_TAGS = ["_cell_length_a", "_cell_length_b", "_cell_length_c", "_cell_angle_alpha", "_cell_angle_beta", "_cell_angle_gamma"];

/** Cell parameters → Lattice in pymatgen's orientation; rejects missing, non-numeric or degenerate cells. */
function readLattice(block: CifBlock, source: string | undefined): Lattice {
  const params = CELL_TAGS.map((tag) => {
    const item = block.items.get(tag);
    if (!item) throw new CifParseError(`data block '${block.name}' is missing ${tag}: the CIF must give all six cell parameters`, source, block.line);
    const v = parseCifNumber(item.values[0]);
    if (v === undefined || !Number.isFinite(v))
      throw new CifParseError(`${tag} is '${item.values[0]}', not a number`, source, item.lines[0]);
    return v;
  });
  const [a, b, c, al, be, ga] = params;
  const line = block.items.get(CELL_TAGS[0])!.lines[0];
  if (a <= 0 || b <= 0 || c <= 0) throw new CifParseError(`cell lengths must be > 0 Å, got a=${a}, b=${b}, c=${c}`, source, line);
  const cosines = [al, be, ga].map((x) => Math.cos((x * Math.PI) / 180));
  const q = 1 - cosines[0] ** 2 - cosines[1] ** 2 - cosines[2] ** 2 + 2 * cosines[0] * cosines[1] * cosines[2];
  if (![al, be, ga].every((x) => x > 0 && x < 180) || !(q > 1e-10))
    throw new CifParseError(
      `cell angles alpha=${al}, beta=${be}, gamma=${ga} give a zero or negative cell volume (no real cell has these angles); check the _cell_angle_* values`,
      source,
      line,
    );
  try {
    return Lattice.fromParameters(a, b, c, al, be, ga);
  } catch (e) {
    throw wrapError(e, "cell parameters", source, line);
  }
}

// ---------------------------------------------------------------- symmetry operations

const SYMOP_TAGS = ["_symmetry_equiv_pos_as_xyz", "_space_group_symop_operation_xyz"];
const SPACE_GROUP_TAGS = ["_symmetry_space_group_name_h-m", "_space_group_name_h-m_alt", "_symmetry_int_tables_number", "_space_group_it_number"];

/**
 * The block's symmetry operations, identity when none is given. A block that names a space
 * group other than P1 but lists no operations is an error: expanding it as P1 would silently
 * lose atoms.
 */
function readSymmOps(block: CifBlock, source: string | undefined): SymmOp[] {
  const item = firstItem(block, SYMOP_TAGS);
  if (!item) {
    checkImpliesP1(block, source);
    return [SymmOp.identity()];
  }
  return item.values.map((v, k) => {
    try {
      return SymmOp.fromXyzString(v);
    } catch (e) {
      throw wrapError(e, "symmetry operation", source, item.lines[k]);
    }
  });
}

function checkImpliesP1(block: CifBlock, source: string | undefined): void {
  for (const tag of SPACE_GROUP_TAGS) {
    const item = block.items.get(tag);
    if (!item) continue;
    const v = item.values[0].replace(/\s+/g, "").toLowerCase();
    if (v !== "p1" && v !== "1" && v !== "?" && v !== ".")
      throw new CifParseError(
        `${tag} is '${item.values[0]}' but the block lists no symmetry operations; add a _symmetry_equiv_pos_as_xyz loop (or write the structure in P1)`,
        source,
        item.lines[0],
      );
  }
}

// ---------------------------------------------------------------- atom sites

/** Reads the `_atom_site_*` loop: element, label, fractional coordinates, occupancy per row. */
function readSiteRows(block: CifBlock, source: string | undefined): SiteRow[] {
  const fx = block.items.get("_atom_site_fract_x");
  const fy = block.items.get("_atom_site_fract_y");
  const fz = block.items.get("_atom_site_fract_z");
  if (!fx || !fy || !fz) {
    const cart = block.items.has("_atom_site_cartn_x") ? " (Cartesian _atom_site_Cartn_* coordinates are not supported)" : "";
    throw new CifParseError(`data block '${block.name}' has no _atom_site_fract_x/y/z loop${cart}`, source, block.line);
  }
  const types = block.items.get("_atom_site_type_symbol");
  const labels = block.items.get("_atom_site_label");
  const occ = block.items.get("_atom_site_occupancy");
  if (!types && !labels) throw new CifParseError(`data block '${block.name}' has neither _atom_site_type_symbol nor _atom_site_label: no species`, source, fx.lines[0]);
  for (const [tag, item] of Object.entries({ _atom_site_fract_y: fy, _atom_site_fract_z: fz, _atom_site_type_symbol: types, _atom_site_label: labels, _atom_site_occupancy: occ }))
    if (item && item.values.length !== fx.values.length)
      throw new CifParseError(`${tag} has ${item.values.length} values but _atom_site_fract_x has ${fx.values.length}: they must be columns of one loop`, source, item.lines[0]);
  return fx.values.map((_, i) => {
    const line = fx.lines[i];
    const label = labels?.values[i] ?? types!.values[i];
    return {
      element: readElement(types?.values[i], label, source, line),
      label,
      frac: [readCoord(fx, i, "x", label, source), readCoord(fy, i, "y", label, source), readCoord(fz, i, "z", label, source)],
      occupancy: readOccupancy(occ, i, label, source),
      line,
    };
  });
}

function readElement(typeSymbol: string | undefined, label: string, source: string | undefined, line: number): string {
  const el = typeSymbol !== undefined && typeSymbol !== "?" && typeSymbol !== "." ? elementFromTypeSymbol(typeSymbol) : elementFromSymbolText(label);
  if (el) return el;
  const what = typeSymbol !== undefined ? `_atom_site_type_symbol '${typeSymbol}'` : `_atom_site_label '${label}'`;
  throw new CifParseError(`unknown element symbol in ${what} (site ${label}); use a symbol such as Fe, Fe2+ or O2-`, source, line);
}

function readCoord(item: CifItem, i: number, axis: string, label: string, source: string | undefined): number {
  const v = parseCifNumber(item.values[i]);
  if (v === undefined || !Number.isFinite(v))
    throw new CifParseError(`site ${label}: fractional ${axis} coordinate '${item.values[i]}' is not a number`, source, item.lines[i]);
  return snapThirds(v);
}

/**
 * Coordinates written with finite precision (0.6667, 0.333333) are snapped to exactly 1/3 or
 * 2/3 when within a relative 1e-4, as pymatgen's CifParser does: otherwise symmetry images of
 * such a site miss each other by more than the site tolerance and come out as near-duplicates.
 */
function snapThirds(v: number): number {
  if (Math.abs(1 - v * 3) < 1e-4) return 1 / 3;
  if (Math.abs(1 - v * 1.5) < 1e-4) return 2 / 3;
  return v;
}

/** Occupancy of row i; absent or '?' means 1 (as in pymatgen). */
function readOccupancy(item: CifItem | undefined, i: number, label: string, source: string | undefined): number {
  if (!item) return 1;
  const v = parseCifNumber(item.values[i]);
  if (v === undefined) return 1;
  if (!Number.isFinite(v) || v < 0)
    throw new CifParseError(`site ${label}: _atom_site_occupancy '${item.values[i]}' is not a number in [0, 1]`, source, item.lines[i]);
  return v;
}

/** Partial occupancies cannot live in an ordered Structure: reject them unless the tolerance allows. */
function checkOccupancies(rows: readonly SiteRow[], tolerance: number, source: string | undefined): void {
  for (const r of rows) {
    if (r.occupancy > 1 + 1e-6)
      throw new CifParseError(`site ${r.label} has occupancy ${r.occupancy} > 1`, source, r.line);
    if (r.occupancy < 1 - tolerance - 1e-12)
      throw new CifParseError(
        `site ${r.label} (${r.element}) is partially occupied (occupancy ${r.occupancy}); a Structure holds ordered sites only. ` +
          `Pass { occupancyTolerance: ${+(1 - r.occupancy).toPrecision(6)} } to read it as a full atom, or order the structure first`,
        source,
        r.line,
      );
  }
}

// ---------------------------------------------------------------- symmetry expansion

interface ExpandedSites {
  species: string[];
  coords: Vec3[];
  occupancies: number[];
  labels: string[];
}

/**
 * Applies every operation to every row, wraps images into [0, 1) and keeps each distinct site
 * once, in file order (each row followed by its new images), which is pymatgen's order for P1
 * files. Images of the same element within `siteTolerance` of a kept site are duplicates;
 * anything else closer than `minDistance` Å is an overlap error.
 */
function expandSites(rows: readonly SiteRow[], ops: readonly SymmOp[], lattice: Lattice, options: CifReadOptions): ExpandedSites {
  const siteTol = options.siteTolerance ?? 1e-4;
  const checker = new OverlapChecker(lattice, options.minDistance ?? 0.1);
  const out: ExpandedSites = { species: [], coords: [], occupancies: [], labels: [] };
  for (const row of rows) {
    for (const op of ops) {
      const p = op.operate(row.frac);
      const img: Vec3 = [p[0] - Math.floor(p[0]), p[1] - Math.floor(p[1]), p[2] - Math.floor(p[2])];
      const clash = findClash(out, img, row.element, siteTol, checker);
      if (clash === "duplicate") continue;
      if (clash !== undefined)
        throw new CifParseError(
          `atoms overlap: site ${row.label} (${row.element}) under operation '${op.toXyzString()}' lies ${clash.distance.toFixed(4)} Å ` +
            `from site ${out.labels[clash.index]} (${out.species[clash.index]}) (closer than ${checker.minDistance} Å). ` +
            `Check the coordinates and symmetry operations, or raise siteTolerance if these are rounding duplicates`,
          options.source,
          row.line,
        );
      out.species.push(row.element);
      out.coords.push(img);
      out.occupancies.push(row.occupancy);
      out.labels.push(row.label);
    }
  }
  return out;
}

function findClash(
  sites: ExpandedSites,
  img: Vec3,
  element: string,
  siteTol: number,
  checker: OverlapChecker,
): "duplicate" | { index: number; distance: number } | undefined {
  for (let k = 0; k < sites.coords.length; k++) {
    const c = sites.coords[k];
    let dx = img[0] - c[0];
    let dy = img[1] - c[1];
    let dz = img[2] - c[2];
    dx -= Math.round(dx);
    dy -= Math.round(dy);
    dz -= Math.round(dz);
    if (sites.species[k] === element && Math.abs(dx) <= siteTol && Math.abs(dy) <= siteTol && Math.abs(dz) <= siteTol) return "duplicate";
    const d = checker.distanceIfClose(dx, dy, dz);
    if (d !== undefined) return { index: k, distance: d };
  }
  return undefined;
}

/**
 * Periodic "closer than minDistance?" test for a wrapped fractional difference. The spacing of
 * lattice planes gives a cheap lower bound (|d_i| · h_i ≤ distance), so the 27-image search
 * only runs for pairs that might really be close.
 */
class OverlapChecker {
  private readonly m: number[][];
  private readonly spacing: Vec3;
  constructor(
    lattice: Lattice,
    readonly minDistance: number,
  ) {
    this.m = lattice.matrix;
    const inv = lattice.invMatrix;
    // Plane spacing h_i = 1 / |column i of M⁻¹| (the reciprocal vector b*_i).
    this.spacing = [0, 1, 2].map((i) => 1 / Math.hypot(inv[0][i], inv[1][i], inv[2][i])) as Vec3;
  }

  distanceIfClose(dx: number, dy: number, dz: number): number | undefined {
    const h = this.spacing;
    const r = this.minDistance;
    if (Math.abs(dx) * h[0] >= r || Math.abs(dy) * h[1] >= r || Math.abs(dz) * h[2] >= r) return undefined;
    let best = Infinity;
    const m = this.m;
    for (let i = -1; i <= 1; i++)
      for (let j = -1; j <= 1; j++)
        for (let k = -1; k <= 1; k++) {
          const a = dx + i;
          const b = dy + j;
          const c = dz + k;
          const x = a * m[0][0] + b * m[1][0] + c * m[2][0];
          const y = a * m[0][1] + b * m[1][1] + c * m[2][1];
          const z = a * m[0][2] + b * m[1][2] + c * m[2][2];
          best = Math.min(best, Math.hypot(x, y, z));
        }
    return best < r ? best : undefined;
  }
}
