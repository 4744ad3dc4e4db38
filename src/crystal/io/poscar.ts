/**
 * VASP POSCAR/CONTCAR reader and writer.
 *
 * Layout: comment, scale (one positive factor, a negative number = target cell volume in Å³,
 * or three per-axis factors), three lattice rows, species line (VASP 5; absent in VASP 4),
 * counts, optional "Selective dynamics", "Direct" or "Cartesian" (only the first letter
 * counts: D, or C/K for Cartesian), then one coordinate row per atom. Velocities and
 * predictor-corrector blocks after the coordinates are ignored.
 */
import { CrystalError, PoscarParseError } from "../errors.ts";
import { Lattice } from "../lattice.ts";
import { Structure } from "../structure.ts";
import type { Vec3 } from "../linalg.ts";
import { elementFromTypeSymbol } from "./species_symbol.ts";

export interface PoscarReadOptions {
  /**
   * Element of each species group, for VASP 4 files that have no species line (e.g. from the
   * POTCAR order). Ignored when the file has a species line.
   */
  species?: readonly string[];
  /** Names the file in error messages. */
  source?: string;
}

/** Cursor over the non-empty lines of the file, keeping 1-based line numbers for errors. */
class Lines {
  private i = 0;
  constructor(
    private readonly lines: string[],
    private readonly source: string | undefined,
  ) {}
  get lineNumber(): number {
    return this.i + 1;
  }
  next(what: string): string[] {
    if (this.i >= this.lines.length) throw this.error(`file ends before the ${what}`);
    return this.lines[this.i++].trim().split(/\s+/);
  }
  peek(): string[] {
    return (this.lines[this.i] ?? "").trim().split(/\s+/);
  }
  error(message: string, line = this.i): PoscarParseError {
    return new PoscarParseError(`${this.source ? `${this.source}: ` : ""}POSCAR line ${line}: ${message}`);
  }
}

/**
 * Structure from POSCAR text.
 * @throws PoscarParseError naming the line for a missing or non-numeric field, counts that do not
 *   match the species or coordinate rows, a VASP 4 file without `species`, or an invalid cell.
 */
export function parsePoscar(text: string, options: PoscarReadOptions = {}): Structure {
  if (typeof text !== "string" || text.trim().length === 0)
    throw new PoscarParseError(`${options.source ? `${options.source}: ` : ""}the POSCAR text is empty.`);
  const all = text.replace(/\r/g, "").split("\n");
  while (all.length > 0 && all[all.length - 1].trim() === "") all.pop(); // trailing blank lines are not data
  const lines = new Lines(all, options.source);
  const comment = lines.next("comment line").join(" ");
  const scale = readNumbers(lines, "scale factor", [1, 3]);
  const rows = [0, 1, 2].map((k) => readNumbers(lines, `lattice vector ${k + 1}`, [3]) as Vec3);
  const { symbols, counts } = readSpeciesAndCounts(lines, comment, options);
  if (/^s/i.test(lines.peek()[0] ?? "")) lines.next("selective dynamics line");
  const mode = lines.next("coordinate mode line (Direct or Cartesian)")[0] ?? "";
  const cartesian = /^[ck]/i.test(mode);
  if (!cartesian && !/^d/i.test(mode)) throw lines.error(`expected 'Direct' or 'Cartesian', got '${mode}'`);
  const total = counts.reduce((x, y) => x + y, 0);
  const coords = Array.from({ length: total }, (_, k) => readNumbers(lines, `coordinates of atom ${k + 1}`, [3], true) as Vec3);
  const species = symbols.flatMap((s, k) => Array<string>(counts[k]).fill(s));
  try {
    const matrix = scaleMatrix(rows, scale, lines);
    const lattice = new Lattice(matrix);
    if (!cartesian) return new Structure(lattice, species, coords, { properties: { comment } });
    const f = cartesianFactor(rows, matrix);
    return Structure.fromCartesian(lattice, species, coords.map((c) => c.map((x, i) => x * f[i])), { properties: { comment } });
  } catch (e) {
    if (e instanceof PoscarParseError || !(e instanceof CrystalError)) throw e;
    throw new PoscarParseError(`${options.source ? `${options.source}: ` : ""}POSCAR: ${e.message}`);
  }
}

/**
 * Reads the leading numbers of the next line; trailing words ("T T F" flags, a species name) are
 * ignored. `allowed` lists the accepted counts; with `atLeast`, extra numbers are dropped.
 */
function readNumbers(lines: Lines, what: string, allowed: number[], atLeast = false): number[] {
  const words = lines.next(what);
  const nums: number[] = [];
  for (const w of words) {
    const v = Number(w);
    if (w === "" || !Number.isFinite(v)) break;
    nums.push(v);
  }
  const want = allowed[allowed.length - 1];
  if (atLeast ? nums.length < want : !allowed.includes(nums.length))
    throw lines.error(`${what}: expected ${allowed.join(" or ")} numbers, got '${words.join(" ")}'`, lines.lineNumber - 1);
  return atLeast ? nums.slice(0, want) : nums;
}

/** Species line (VASP 5) or `options.species` / comment-line symbols (VASP 4), and the counts line. */
function readSpeciesAndCounts(lines: Lines, comment: string, options: PoscarReadOptions): { symbols: string[]; counts: number[] } {
  let symbols: string[] | undefined;
  if (!/^\d/.test(lines.peek()[0] ?? "")) {
    const words = lines.next("species line");
    // VASP may write "Fe_pv" or "Fe/abc123" POTCAR names: keep the element part.
    symbols = words.map((w) => {
      const el = elementFromTypeSymbol(w.split(/[_/]/)[0]);
      if (!el) throw lines.error(`unknown element symbol '${w}' in the species line`, lines.lineNumber - 1);
      return el;
    });
  }
  const countWords = lines.next("atom counts line");
  const counts = countWords.map(Number);
  if (counts.some((n) => !Number.isInteger(n) || n < 0) || counts.every((n) => n === 0))
    throw lines.error(`atom counts must be non-negative integers (not all zero), got '${countWords.join(" ")}'`, lines.lineNumber - 1);
  symbols ??= vasp4Species(comment, counts.length, options, lines);
  if (symbols.length !== counts.length)
    throw lines.error(`${symbols.length} species (${symbols.join(" ")}) but ${counts.length} counts (${countWords.join(" ")})`, lines.lineNumber - 1);
  return { symbols, counts };
}

function vasp4Species(comment: string, n: number, options: PoscarReadOptions, lines: Lines): string[] {
  if (options.species) {
    const els = options.species.map((s) => elementFromTypeSymbol(s));
    if (els.some((e) => !e)) throw lines.error(`options.species ${JSON.stringify(options.species)} holds an unknown element symbol`);
    return els as string[];
  }
  // pymatgen's fallback: a comment line made of exactly n element symbols names the groups.
  const words = comment.split(/\s+/).map((w) => elementFromTypeSymbol(w.replace(/\d+$/, "")));
  if (words.length === n && words.every((e) => e)) return words as string[];
  throw lines.error(`VASP 4 POSCAR has no species line; pass { species: [...] } with ${n} element symbols (the POTCAR order)`, 6);
}

/** Applies the scale: one factor, a negative target volume, or three per-axis factors. */
function scaleMatrix(rows: Vec3[], scale: number[], lines: Lines): number[][] {
  if (scale.length === 3) {
    if (scale.some((s) => !(s > 0))) throw lines.error(`per-axis scale factors must all be > 0, got ${scale.join(" ")}`, 2);
    return rows.map((r) => r.map((x, j) => x * scale[j]));
  }
  const s = scale[0];
  if (s === 0) throw lines.error("scale factor is 0", 2);
  if (s > 0) return rows.map((r) => r.map((x) => x * s));
  const vol = new Lattice(rows).volume;
  const f = Math.cbrt(-s / vol);
  return rows.map((r) => r.map((x) => x * f));
}

/** Cartesian coordinates are scaled like the lattice: ratio of scaled to unscaled matrix per axis. */
function cartesianFactor(rows: Vec3[], matrix: number[][]): Vec3 {
  const f: Vec3 = [1, 1, 1];
  for (let j = 0; j < 3; j++) {
    const k = [0, 1, 2].find((i) => rows[i][j] !== 0);
    if (k !== undefined) f[j] = matrix[k][j] / rows[k][j];
  }
  return f;
}

/**
 * POSCAR (VASP 5, Direct) for `structure`. Consecutive sites of one element form a group, so
 * site order is kept exactly (a structure "Fe O Fe" writes three groups).
 */
export function structureToPoscar(structure: Structure, options: { comment?: string } = {}): string {
  const groups: { el: string; n: number }[] = [];
  for (const el of structure.species) {
    const last = groups[groups.length - 1];
    if (last && last.el === el) last.n++;
    else groups.push({ el, n: 1 });
  }
  const num = (x: number) => x.toFixed(16).padStart(21);
  const comment = (options.comment ?? structure.composition.formula).replace(/\n/g, " ");
  return [
    comment,
    "1.0",
    ...structure.lattice.matrix.map((r) => r.map(num).join(" ")),
    groups.map((g) => g.el).join(" "),
    groups.map((g) => g.n).join(" "),
    "direct",
    ...structure.fracCoords.map((f, i) => `${f.map(num).join(" ")} ${structure.species[i]}`),
    "",
  ].join("\n");
}
