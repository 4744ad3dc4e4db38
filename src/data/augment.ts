/**
 * Data augmentation for crystal batches.
 *
 * Translation: every structure of the batch is shifted by its own random fractional vector
 * t ~ U[0, 1)³ (coordinates wrapped back into [0, 1)). The crystal is unchanged, but the
 * VAE sees its fractional coordinates, which are not translation invariant, so this teaches
 * the model that only relative positions matter (the seed's random translation).
 *
 * Rotation: our models never see Cartesian coordinates. Their inputs are fractional
 * coordinates plus lattice lengths and angles, all of which are unchanged by a rigid rotation
 * of the Cartesian frame, so rotating a structure leaves its `CrystalBatch` unchanged up to
 * float rounding (the test checks it). `rotateStructure` is therefore not part of training; it is
 * here for models or features that do read Cartesian positions, and to document the invariance.
 */
import type { Rng } from "../nn/rng.ts";
import { Lattice } from "../crystal/lattice.ts";
import { matmul3, type Mat3 } from "../crystal/linalg.ts";
import type { Structure } from "../crystal/structure.ts";
import type { HostBatch } from "./batch.ts";

/** Shifts each structure of `host` by a random fractional translation, in place; returns `host`. */
export function randomTranslation(host: HostBatch, rng: Rng): HostBatch {
  const n = host.maxAtoms;
  for (let b = 0; b < host.batchSize; b++) {
    const shift = [rng.uniform(), rng.uniform(), rng.uniform()];
    for (let i = 0; i < n; i++) {
      const slot = b * n + i;
      if (host.mask[slot] === 0) continue;
      for (let k = 0; k < 3; k++) {
        const x = host.fracCoords[3 * slot + k] + shift[k];
        // float32 storage: x − floor(x) can round up to exactly 1; keep the range half-open.
        const w = x - Math.floor(x);
        host.fracCoords[3 * slot + k] = w >= 1 ? 0 : w;
      }
    }
  }
  return host;
}

/** A uniformly random proper rotation matrix (from a random unit quaternion, Shoemake's method). */
export function randomRotationMatrix(rng: Rng): Mat3 {
  const [u1, u2, u3] = [rng.uniform(), rng.uniform(), rng.uniform()];
  const a = Math.sqrt(1 - u1);
  const b = Math.sqrt(u1);
  const [w, x, y, z] = [a * Math.sin(2 * Math.PI * u2), a * Math.cos(2 * Math.PI * u2), b * Math.sin(2 * Math.PI * u3), b * Math.cos(2 * Math.PI * u3)];
  return [
    [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
    [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
    [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
  ];
}

/**
 * The structure rigidly rotated in Cartesian space (lattice rows multiplied by a random
 * rotation; fractional coordinates unchanged). See the module doc: a no-op for our models.
 */
export function rotateStructure(structure: Structure, rng: Rng): Structure {
  const r = randomRotationMatrix(rng);
  // Row vectors rotate as v' = v · Rᵀ; using R directly is an equally random rotation.
  return structure.copy({ lattice: new Lattice(matmul3(structure.lattice.matrix, r)) });
}
