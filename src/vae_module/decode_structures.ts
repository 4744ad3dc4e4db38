/**
 * Decoder predictions → `Structure`s. Element = argmax of the logits; coordinate =
 * atan2(sin, cos) / 2π wrapped into [0, 1); lattice from lengths (scaled back by n^(1/3)) and
 * angles. A prediction that is no crystal (non-positive length, angles that close no cell,
 * non-finite numbers) is not dropped: its slot is `null` with the reason, so callers can count
 * and report invalid decodings.
 */
import { tf } from "../nn/tf.ts";
import { getElement } from "../crystal/elements.ts";
import { Lattice } from "../crystal/lattice.ts";
import { Structure } from "../crystal/structure.ts";
import type { VAEPredictions } from "./decoder.ts";

/** One decoded item: a structure, or null and why. */
export interface DecodedStructure {
  structure: Structure | null;
  /** Why `structure` is null (undefined when it is not). */
  reason?: string;
}

/** The decoded numbers of a batch, before any Structure is built. */
export interface DecodedArrays {
  batchSize: number;
  maxAtoms: number;
  /** Atomic numbers [B·N] (0 on padding). */
  atomTypes: Int32Array;
  /** Fractional coordinates [B·N·3] in [0, 1). */
  fracCoords: Float64Array;
  /** a, b, c in Å [B·3]. */
  lengths: Float64Array;
  /** alpha, beta, gamma in degrees [B·3]. */
  angles: Float64Array;
  mask: Float32Array;
}

function wrapUnit(x: number): number {
  const w = x - Math.floor(x);
  return w >= 1 ? 0 : w;
}

/** Reads the predictions (synchronously) into plain arrays in physical units. */
export function decodeArrays(pred: VAEPredictions, mask: tf.Tensor): DecodedArrays {
  const [b, n] = mask.shape;
  const m = Float32Array.from(mask.dataSync());
  const classes = tf.tidy(() => tf.argMax(pred.atomLogits, -1));
  const cls = classes.dataSync();
  classes.dispose();
  const vec = pred.coordVectors.dataSync();
  const lenScaled = pred.scaledLengths.dataSync();
  const ang = pred.angles.dataSync();
  const out: DecodedArrays = {
    batchSize: b,
    maxAtoms: n,
    atomTypes: new Int32Array(b * n),
    fracCoords: new Float64Array(b * n * 3),
    lengths: new Float64Array(b * 3),
    angles: new Float64Array(b * 3),
    mask: m,
  };
  for (let s = 0; s < b * n; s++) {
    if (m[s] === 0) continue;
    out.atomTypes[s] = cls[s] + 1;
    for (let k = 0; k < 3; k++) {
      const c = vec[(3 * s + k) * 2];
      const sn = vec[(3 * s + k) * 2 + 1];
      out.fracCoords[3 * s + k] = wrapUnit(Math.atan2(sn, c) / (2 * Math.PI));
    }
  }
  for (let i = 0; i < b; i++) {
    let count = 0;
    for (let j = 0; j < n; j++) count += m[i * n + j];
    const scale = Math.cbrt(Math.max(count, 1));
    for (let k = 0; k < 3; k++) {
      out.lengths[3 * i + k] = lenScaled[3 * i + k] * scale;
      out.angles[3 * i + k] = (ang[3 * i + k] * 180) / Math.PI;
    }
  }
  return out;
}

/** Builds one structure from decoded arrays, or explains why it cannot. */
function buildOne(d: DecodedArrays, i: number): DecodedStructure {
  const n = d.maxAtoms;
  const species: string[] = [];
  const frac: number[][] = [];
  for (let j = 0; j < n; j++) {
    const s = i * n + j;
    if (d.mask[s] === 0) continue;
    species.push(getElement(d.atomTypes[s]).symbol);
    frac.push(Array.from(d.fracCoords.subarray(3 * s, 3 * s + 3)));
  }
  if (species.length === 0) return { structure: null, reason: "no atoms: the mask of this item is all zero" };
  const [a, b, c] = d.lengths.subarray(3 * i, 3 * i + 3);
  const [al, be, ga] = d.angles.subarray(3 * i, 3 * i + 3);
  const params = `a=${a.toFixed(3)} b=${b.toFixed(3)} c=${c.toFixed(3)} α=${al.toFixed(2)} β=${be.toFixed(2)} γ=${ga.toFixed(2)}`;
  let lattice: Lattice;
  try {
    lattice = Lattice.fromParameters(a, b, c, al, be, ga);
  } catch (e) {
    return { structure: null, reason: `invalid lattice (${params}): ${(e as Error).message}` };
  }
  if (!(lattice.volume > 1e-6)) return { structure: null, reason: `degenerate lattice (${params}): volume ${lattice.volume}` };
  return { structure: new Structure(lattice, species, frac) };
}

/** One entry per batch item: the structure or null + reason. */
export function arraysToStructures(d: DecodedArrays): DecodedStructure[] {
  return Array.from({ length: d.batchSize }, (_, i) => buildOne(d, i));
}
