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

/** A symmetry-operation triplet ("x, y+1/2, -z") that cannot be parsed. */
export class SymmOpParseError extends CrystalError {}

/** A pymatgen `Structure.as_dict()` object that cannot be turned into a structure. */
export class PymatgenDictError extends CrystalError {}

/** A tensor back-end that cannot be selected or initialised (unknown name, bad thread count, failed load). */
export class BackendError extends CrystalError {}

/** A phase diagram that cannot be built (missing elemental reference, bad energy) or queried. */
export class PhaseDiagramError extends CrystalError {}

/** A linear program the hull solver could not finish (unbounded or numerically degenerate). */
export class SimplexError extends CrystalError {}

/** Bad reward input: unknown normaliser, mismatched group sizes, malformed feature matrices. */
export class RewardError extends CrystalError {}

/** A composition with a negative or non-finite amount, or an operation on compositions that is undefined. */
export class CompositionError extends CrystalError {}

/** Notebook display: a table input that is neither a DataFrame nor an array of row objects, or bad table options. */
export class TableInputError extends CrystalError {}

/** Notebook display: a plotly figure or figure-builder input that cannot be drawn or exported (bad data, bad path). */
export class FigureError extends CrystalError {}

/** No headless Chromium for static figure export; the message names the apt package and CHROMIUM_PATH. */
export class BrowserNotFoundError extends CrystalError {}

/** A batch that cannot be built or read back: more atoms than `maxAtoms`, an empty structure list, mismatched tensor shapes. */
export class BatchError extends CrystalError {}

/** GRPO / RL training input that cannot be used: mismatched trajectory shapes, an unknown loss type, NaN log-probabilities. */
export class RLError extends CrystalError {}

/** A crystal graph that cannot be built: bad cutoff / neighbour count, a lattice so small or flat that the neighbour search would explode. */
export class CrystalGraphError extends CrystalError {}

/** A property predictor that cannot be trained, loaded or asked: unknown target, bad training option, a checkpoint that is not a predictor. */
export class PredictorError extends CrystalError {}

/** A monitored validation metric that cannot be compared (NaN or infinite), for checkpointing and early stopping. */
export class MonitorError extends CrystalError {}
