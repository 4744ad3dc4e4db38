/**
 * The config system's typed error. It extends the library-wide `CrystalError`
 * (src/crystal/errors.ts) so one `instanceof CrystalError` catches every library error.
 */
import { CrystalError } from "../crystal/errors.ts";

/**
 * A config that cannot be composed, interpolated, overridden, validated or instantiated.
 * `key` is the dotted config path at fault (e.g. `rl_module.rl_configs.clip_ratio`) and
 * `file` the YAML file involved, when known; both are also part of the message, which says
 * how to fix the problem.
 */
export class ConfigError extends CrystalError {
  constructor(
    message: string,
    readonly key?: string,
    readonly file?: string,
    options?: { cause?: unknown },
  ) {
    const where = [file, key !== undefined && key !== "" ? `key "${key}"` : undefined].filter(Boolean).join(", ");
    super(where ? `${where}: ${message}` : message);
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}
