/**
 * CrystalBatch: structures as padded tensors, and back.
 *
 *     const batch = collate(structures, { niggli: true });   // tensors, caller disposes
 *     batch.atomTypes;   // int32 [B, N]: atomic numbers Z, 0 = padding
 *     batchToStructures(batch);                              // Structure[] again
 *     disposeBatch(batch);
 *
 * Building happens in two stages: `collateHost` fills plain typed arrays (`HostBatch`), which
 * is where shuffling and augmentation (augment.ts) work cheaply, and `toTensors` uploads them.
 * `N` is the largest structure of the batch (so a batch of 4-atom cells costs 4 tokens, not
 * `maxAtoms`), unless `padTo` fixes it.
 *
 * Lattices are described by lengths (Å) and angles (degrees), as pymatgen's
 * `lattice.abc` / `lattice.angles`: they do not depend on the Cartesian frame, so a batch of a
 * rotated structure is identical to the batch of the original (see augment.ts).
 */
import { tf } from "../nn/tf.ts";
import { BatchError } from "../crystal/errors.ts";
import { getElement } from "../crystal/elements.ts";
import { Lattice } from "../crystal/lattice.ts";
import { inv3, vecmat3, wrap01 } from "../crystal/linalg.ts";
import { Structure } from "../crystal/structure.ts";

/** A padded batch on the tensor back-end. Every tensor is owned by the caller (see `disposeBatch`). */
export interface CrystalBatch {
  /** int32 [B, N]: atomic number of each site, 0 for padding. */
  atomTypes: tf.Tensor2D;
  /** float32 [B, N, 3]: fractional coordinates in [0, 1) (0 for padding). */
  fracCoords: tf.Tensor3D;
  /** float32 [B, 3]: a, b, c in Å. */
  lengths: tf.Tensor2D;
  /** float32 [B, 3]: alpha, beta, gamma in degrees. */
  angles: tf.Tensor2D;
  /** float32 [B, N]: 1 for a real site, 0 for padding. */
  mask: tf.Tensor2D;
  /** int32 [B]: sites per structure. */
  numAtoms: tf.Tensor1D;
}

/** The same batch as plain typed arrays (row-major, shapes as in `CrystalBatch`). */
export interface HostBatch {
  batchSize: number;
  /** Padded number of sites N. */
  maxAtoms: number;
  atomTypes: Int32Array;
  fracCoords: Float32Array;
  lengths: Float32Array;
  angles: Float32Array;
  mask: Float32Array;
  numAtoms: Int32Array;
}

export interface CollateOptions {
  /** Replace each lattice by its Niggli-reduced cell first (the seed's preprocessing). Default true. */
  niggli?: boolean;
  /** Reject structures with more sites than this (BatchError naming the structure). */
  maxAtoms?: number;
  /** Pad to exactly this many sites instead of the largest structure of the batch. */
  padTo?: number;
}

/**
 * The structure on its Niggli-reduced lattice (pymatgen's `get_reduced_structure()`): same
 * Cartesian positions, fractional coordinates re-expressed in the reduced basis and wrapped
 * into [0, 1).
 */
export function niggliReduce(structure: Structure): Structure {
  const reduced = structure.lattice.getNiggliReduced();
  const inv = inv3(reduced.matrix);
  const frac = structure.cartCoords.map((c) => vecmat3(c, inv).map(wrap01));
  return structure.copy({ lattice: reduced, fracCoords: frac });
}

function checkSizes(structures: readonly Structure[], opts: CollateOptions): number {
  if (structures.length === 0) throw new BatchError("collate: got an empty list of structures; pass at least one.");
  let largest = 0;
  structures.forEach((s, i) => {
    if (s.length === 0) throw new BatchError(`collate: structure ${i} has no sites; remove it from the batch.`);
    if (opts.maxAtoms !== undefined && s.length > opts.maxAtoms) {
      throw new BatchError(
        `collate: structure ${i} (${s.composition.formula}) has ${s.length} sites, more than maxAtoms = ${opts.maxAtoms}; ` +
          "filter such structures out or use a model trained for larger cells.",
      );
    }
    largest = Math.max(largest, s.length);
  });
  if (opts.padTo !== undefined) {
    if (!Number.isInteger(opts.padTo) || opts.padTo < largest) {
      throw new BatchError(`collate: padTo = ${opts.padTo} is smaller than the largest structure (${largest} sites) or not an integer.`);
    }
    return opts.padTo;
  }
  return largest;
}

/** Allocates a zero-filled host batch of B structures padded to N sites. */
export function emptyHostBatch(batchSize: number, maxAtoms: number): HostBatch {
  return {
    batchSize,
    maxAtoms,
    atomTypes: new Int32Array(batchSize * maxAtoms),
    fracCoords: new Float32Array(batchSize * maxAtoms * 3),
    lengths: new Float32Array(batchSize * 3),
    angles: new Float32Array(batchSize * 3),
    mask: new Float32Array(batchSize * maxAtoms),
    numAtoms: new Int32Array(batchSize),
  };
}

/** Structures → padded typed arrays (no tensors). */
export function collateHost(structures: readonly Structure[], opts: CollateOptions = {}): HostBatch {
  const n = checkSizes(structures, opts);
  const host = emptyHostBatch(structures.length, n);
  structures.forEach((raw, b) => {
    const s = opts.niggli === false ? raw : niggliReduce(raw);
    host.numAtoms[b] = s.length;
    host.lengths.set(s.lattice.abc, 3 * b);
    host.angles.set(s.lattice.angles, 3 * b);
    s.species.forEach((sym, i) => {
      const slot = b * n + i;
      host.atomTypes[slot] = getElement(sym).Z;
      host.mask[slot] = 1;
      host.fracCoords.set(s.fracCoords[i].map(wrap01), 3 * slot);
    });
  });
  return host;
}

/** Uploads a host batch (copies; the host arrays stay usable). */
export function toTensors(host: HostBatch): CrystalBatch {
  const { batchSize: b, maxAtoms: n } = host;
  return {
    atomTypes: tf.tensor2d(host.atomTypes, [b, n], "int32"),
    fracCoords: tf.tensor3d(host.fracCoords, [b, n, 3], "float32"),
    lengths: tf.tensor2d(host.lengths, [b, 3], "float32"),
    angles: tf.tensor2d(host.angles, [b, 3], "float32"),
    mask: tf.tensor2d(host.mask, [b, n], "float32"),
    numAtoms: tf.tensor1d(host.numAtoms, "int32"),
  };
}

/** Structures → tensors in one call (`collateHost` + `toTensors`). */
export function collate(structures: readonly Structure[], opts: CollateOptions = {}): CrystalBatch {
  return toTensors(collateHost(structures, opts));
}

/** Reads a tensor batch back to typed arrays (synchronously). */
export function toHost(batch: CrystalBatch): HostBatch {
  const [b, n] = batch.atomTypes.shape;
  const shapeOk =
    batch.fracCoords.shape.join() === [b, n, 3].join() &&
    batch.mask.shape.join() === [b, n].join() &&
    batch.lengths.shape.join() === [b, 3].join() &&
    batch.angles.shape.join() === [b, 3].join() &&
    batch.numAtoms.shape.join() === [b].join();
  if (!shapeOk) throw new BatchError(`batch tensors disagree on shape: atomTypes is [${b}, ${n}], check fracCoords/mask/lengths/angles/numAtoms.`);
  return {
    batchSize: b,
    maxAtoms: n,
    atomTypes: Int32Array.from(batch.atomTypes.dataSync()),
    fracCoords: Float32Array.from(batch.fracCoords.dataSync()),
    lengths: Float32Array.from(batch.lengths.dataSync()),
    angles: Float32Array.from(batch.angles.dataSync()),
    mask: Float32Array.from(batch.mask.dataSync()),
    numAtoms: Int32Array.from(batch.numAtoms.dataSync()),
  };
}

/** Host batch → structures (lattice from lengths/angles, as pymatgen's `Lattice.from_parameters`). */
export function hostToStructures(host: HostBatch): Structure[] {
  const out: Structure[] = [];
  for (let b = 0; b < host.batchSize; b++) {
    const [la, lb, lc] = host.lengths.subarray(3 * b, 3 * b + 3);
    const [al, be, ga] = host.angles.subarray(3 * b, 3 * b + 3);
    const lattice = Lattice.fromParameters(la, lb, lc, al, be, ga);
    const species: string[] = [];
    const frac: number[][] = [];
    for (let i = 0; i < host.maxAtoms; i++) {
      const slot = b * host.maxAtoms + i;
      if (host.mask[slot] === 0) continue;
      species.push(getElement(host.atomTypes[slot]).symbol);
      frac.push(Array.from(host.fracCoords.subarray(3 * slot, 3 * slot + 3)));
    }
    out.push(new Structure(lattice, species, frac));
  }
  return out;
}

/** Tensor batch → structures. */
export function batchToStructures(batch: CrystalBatch): Structure[] {
  return hostToStructures(toHost(batch));
}

/** Frees every tensor of the batch. */
export function disposeBatch(batch: CrystalBatch): void {
  for (const t of Object.values(batch) as tf.Tensor[]) t.dispose();
}

/** A subset of a host batch's rows (used to split a batch without re-collating). */
export function selectRows(host: HostBatch, rows: readonly number[]): HostBatch {
  const n = host.maxAtoms;
  const out = emptyHostBatch(rows.length, n);
  rows.forEach((r, k) => {
    if (!(r >= 0 && r < host.batchSize)) throw new BatchError(`selectRows: row ${r} is outside the batch of ${host.batchSize}.`);
    out.atomTypes.set(host.atomTypes.subarray(r * n, (r + 1) * n), k * n);
    out.mask.set(host.mask.subarray(r * n, (r + 1) * n), k * n);
    out.fracCoords.set(host.fracCoords.subarray(3 * r * n, 3 * (r + 1) * n), 3 * k * n);
    out.lengths.set(host.lengths.subarray(3 * r, 3 * r + 3), 3 * k);
    out.angles.set(host.angles.subarray(3 * r, 3 * r + 3), 3 * k);
    out.numAtoms[k] = host.numAtoms[r];
  });
  return out;
}
