/**
 * Typed errors of the crystal core. Each message names the offending input
 * (file, row, line, key) and says how to fix it.
 */

/** Base class: every library error carries a stable `name` for `instanceof`-free checks. */
export class CrystalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A lattice matrix that is singular, left-handed (negative volume) or not finite. */
export class LatticeError extends CrystalError {}

/** A structure with no atoms, non-finite coordinates, overlapping atoms or mismatched arrays. */
export class StructureError extends CrystalError {}

/** An unknown element symbol or atomic number. */
export class ElementError extends CrystalError {}

/** A chemical formula that cannot be parsed. */
export class FormulaError extends CrystalError {}

/** A CIF that cannot be turned into a structure; `source` names the file or data set row. */
export class CifParseError extends CrystalError {
  constructor(
    message: string,
    readonly source?: string,
    readonly line?: number,
  ) {
    super(
      `${source ? `${source}: ` : ""}${line !== undefined ? `line ${line}: ` : ""}${message}`,
    );
  }
}

/** A POSCAR that cannot be turned into a structure. */
export class PoscarParseError extends CrystalError {}

/** A symmetry analysis that failed (e.g. moyo could not find a consistent space group). */
export class SymmetryError extends CrystalError {}

/** An unknown data set, a missing split file or a malformed row. */
export class DatasetError extends CrystalError {}
