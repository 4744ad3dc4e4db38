/**
 * Typed errors of the Gaussian diffusion maths. They extend the library-wide `CrystalError`
 * (src/crystal/errors.ts), so `instanceof CrystalError` catches them too; each message names
 * the offending input and says how to fix it.
 */
import { CrystalError } from "../../crystal/errors.ts";

/**
 * A bad diffusion argument: an invalid beta schedule, an unknown respacing string, a timestep
 * out of range, a tensor or model output of the wrong shape, an `eta` that makes DDIM's
 * variance negative.
 */
export class DiffusionError extends CrystalError {}
