/**
 * Symmetry operations written as coordinate triplets ("x, y+1/2, -z"), the notation of the
 * CIF tags `_symmetry_equiv_pos_as_xyz` and `_space_group_symop_operation_xyz`.
 *
 * A `SymmOp` acts on FRACTIONAL coordinates: x' = R·x + t, with R an integer-valued (in
 * practice) 3×3 matrix and t a translation, as pymatgen's `SymmOp` built by
 * `SymmOp.from_xyz_string`.
 */
import { SymmOpParseError } from "../errors.ts";
import type { Mat3, Vec3 } from "../linalg.ts";

const AXES = "xyz";

export class SymmOp {
  /** Rotation part; row i gives the coefficients of x, y, z in component i. */
  readonly rotation: Mat3;
  /** Translation part (fractional). */
  readonly translation: Vec3;

  constructor(rotation: readonly (readonly number[])[], translation: readonly number[]) {
    this.rotation = rotation.map((r) => [r[0], r[1], r[2]]) as Mat3;
    this.translation = [translation[0], translation[1], translation[2]];
  }

  /** The identity operation "x, y, z". */
  static identity(): SymmOp {
    return new SymmOp(
      [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ],
      [0, 0, 0],
    );
  }

  /**
   * Parses a coordinate triplet such as "-x+1/2, y, z+0.25" or "x-y,x,1/3+z" (case and
   * whitespace insensitive; coefficients like "2x" or "2*x" are accepted).
   * @throws SymmOpParseError naming the triplet and the part that could not be read.
   */
  static fromXyzString(xyz: string): SymmOp {
    const parts = splitTriplet(xyz);
    const rotation: number[][] = [];
    const translation: number[] = [];
    parts.forEach((part, i) => {
      const { coeffs, constant } = parseComponent(part, xyz, i);
      rotation.push(coeffs);
      translation.push(constant);
    });
    return new SymmOp(rotation, translation);
  }

  /** Applies the operation to fractional coordinates (no wrapping into the unit cell). */
  operate(frac: readonly number[]): Vec3 {
    const r = this.rotation;
    const t = this.translation;
    return [
      r[0][0] * frac[0] + r[0][1] * frac[1] + r[0][2] * frac[2] + t[0],
      r[1][0] * frac[0] + r[1][1] * frac[1] + r[1][2] * frac[2] + t[1],
      r[2][0] * frac[0] + r[2][1] * frac[1] + r[2][2] * frac[2] + t[2],
    ];
  }

  /** True for "x, y, z" (translation compared exactly: a pure lattice translation is not identity). */
  get isIdentity(): boolean {
    return this.rotation.every((row, i) => row.every((v, j) => v === (i === j ? 1 : 0))) && this.translation.every((t) => t === 0);
  }

  /** The triplet in pymatgen's `as_xyz_string` style: "-x+1/2, y, z+1/3". */
  toXyzString(): string {
    return this.rotation.map((row, i) => formatComponent(row, this.translation[i])).join(", ");
  }

  toString(): string {
    return this.toXyzString();
  }
}

/** Splits "a,b,c" (or, in some old files, "a b c") into its three components. */
function splitTriplet(xyz: string): string[] {
  const text = xyz.trim();
  let parts = text.split(",");
  if (parts.length === 1) parts = text.split(/\s+/);
  if (parts.length !== 3)
    throw new SymmOpParseError(
      `Symmetry operation '${xyz}' must have three comma-separated components like 'x, y+1/2, -z', got ${parts.length}.`,
    );
  return parts.map((p) => p.replace(/\s+/g, "").toLowerCase());
}

/** One signed term of a component: an optional number (int, decimal or a/b) and an optional axis. */
const TERM = /([+-]?)((?:\d+\.?\d*|\.\d+)(?:\/\d+\.?\d*)?)?\*?([xyz]?)/y;

/**
 * Reads one component ("-x+y+1/2") into coefficients of x, y, z and a constant.
 * A sticky regex walks the string term by term, so every character must belong to a term.
 */
function parseComponent(part: string, xyz: string, index: number): { coeffs: number[]; constant: number } {
  const coeffs = [0, 0, 0];
  let constant = 0;
  if (part.length === 0) throw new SymmOpParseError(`Symmetry operation '${xyz}': component ${index + 1} is empty.`);
  let pos = 0;
  while (pos < part.length) {
    TERM.lastIndex = pos;
    const m = TERM.exec(part);
    // A term must consume something beyond its sign, and a number or an axis must be present.
    if (!m || m[0].length === 0 || (!m[2] && !m[3]) || (pos > 0 && !m[1]))
      throw new SymmOpParseError(
        `Symmetry operation '${xyz}': cannot read component ${index + 1} ('${part}') at '${part.slice(pos)}'. ` +
          `Use terms like x, -y, +1/2, 0.25 joined by + or -.`,
      );
    const sign = m[1] === "-" ? -1 : 1;
    const value = m[2] ? parseNumber(m[2]) : 1;
    if (m[3]) coeffs[AXES.indexOf(m[3])] += sign * value;
    else constant += sign * value;
    pos = TERM.lastIndex;
  }
  if (!coeffs.every(Number.isFinite) || !Number.isFinite(constant))
    throw new SymmOpParseError(`Symmetry operation '${xyz}': component ${index + 1} ('${part}') has a non-finite value.`);
  return { coeffs, constant };
}

function parseNumber(text: string): number {
  const slash = text.indexOf("/");
  return slash < 0 ? Number(text) : Number(text.slice(0, slash)) / Number(text.slice(slash + 1));
}

/** Formats one component as pymatgen does: axis terms first, then the translation as a fraction. */
function formatComponent(coeffs: readonly number[], constant: number): string {
  let out = "";
  coeffs.forEach((c, j) => {
    if (c === 0) return;
    const mag = Math.abs(c) === 1 ? "" : formatNumber(Math.abs(c));
    out += `${c < 0 ? "-" : out ? "+" : ""}${mag}${AXES[j]}`;
  });
  if (constant !== 0) out += `${constant < 0 ? "-" : out ? "+" : ""}${formatNumber(Math.abs(constant))}`;
  return out || "0";
}

/** A positive number as a small fraction (1/2, 2/3, 3/4, 5/6, ...) when it is one, else a decimal. */
function formatNumber(x: number): string {
  for (const den of [1, 2, 3, 4, 6, 8, 12, 24]) {
    const num = Math.round(x * den);
    if (Math.abs(num / den - x) < 1e-8) return den === 1 ? `${num}` : `${num}/${den}`;
  }
  return `${Number(x.toPrecision(12))}`;
}
