/**
 * Typed errors of the tensor engine. They extend the library-wide `CrystalError`
 * (src/crystal/errors.ts) so `catch (e) { if (e instanceof CrystalError) ... }` catches
 * every library error; each message names the offending input and says how to fix it.
 */
import { CrystalError } from "../crystal/errors.ts";

/** A bad argument to an nn constructor or function (negative size, unknown activation, ...). */
export class NnArgumentError extends CrystalError {}

/**
 * A state dict that does not fit a module. `missing`, `unexpected` and `mismatched` list
 * every offending key, so one error reports all of them at once (like PyTorch's
 * `load_state_dict`), not just the first.
 */
export class StateDictError extends CrystalError {
  constructor(
    readonly missing: string[],
    readonly unexpected: string[],
    readonly mismatched: string[],
    context = "state dict",
  ) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing keys: ${missing.join(", ")}`);
    if (unexpected.length) parts.push(`unexpected keys: ${unexpected.join(", ")}`);
    if (mismatched.length) parts.push(`shape mismatches: ${mismatched.join("; ")}`);
    super(
      `${context} does not fit the module (${parts.join(" | ")}). ` +
        "Check that the module is built with the same sizes as the one that was saved, " +
        "or pass strict=false to skip missing/unexpected keys.",
    );
  }
}

/** A checkpoint directory that is missing, truncated, corrupt or does not fit the target. */
export class CheckpointError extends CrystalError {
  constructor(
    message: string,
    readonly path?: string,
  ) {
    super(`${path ? `${path}: ` : ""}${message}`);
  }
}
