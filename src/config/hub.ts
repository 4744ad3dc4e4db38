/**
 * The checkpoint hub: short names → bundled checkpoint directories, used by `${hub:NAME}` in
 * configs (Chemeleon2 writes `ldm_ckpt_path: ${hub:mp_20_ldm_base}` and downloads from
 * HuggingFace; here the names point at directories under the package's `checkpoints/`, and
 * nothing is downloaded). Resolving a name only builds the path: whoever loads the checkpoint
 * checks that it exists and says how to get it.
 *
 *   registerHub("my_ldm", "/data/runs/ldm/best");   // then ${hub:my_ldm} in any config
 */
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "./errors.ts";
import { didYouMean } from "./suggest.ts";

/** Folder of the bundled checkpoints (`<package>/checkpoints`). */
export const CHECKPOINTS_DIR = fileURLToPath(new URL("../../checkpoints/", import.meta.url));

/** Bundled names, relative to CHECKPOINTS_DIR (the seed's names where the seed has one). */
const BUNDLED: Readonly<Record<string, string>> = {
  mp_20_vae: "mp_20/vae",
  // The VAE the bundled LDM was trained on (an earlier export of the same run; latents must match).
  mp_20_ldm_vae: "mp_20/ldm_vae",
  mp_20_ldm_base: "mp_20/ldm",
  mp_20_ldm_rl: "mp_20/ldm_rl",
  mp_20_predictor_band_gap: "mp_20/predictor_band_gap",
  mp_20_predictor_formation_energy: "mp_20/predictor_formation_energy",
};

const table = new Map<string, string>(Object.entries(BUNDLED).map(([k, v]) => [k, join(CHECKPOINTS_DIR, v)]));

/**
 * Register (or replace) a hub name. A relative `path` is taken relative to the current
 * working directory at registration time and stored absolute, so a later `chdir` does not
 * change what the name means.
 */
export function registerHub(name: string, path: string): void {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) {
    throw new ConfigError(`hub name "${name}" may only contain letters, digits, "_", "." and "-".`);
  }
  if (typeof path !== "string" || path === "") throw new ConfigError(`hub "${name}" needs a non-empty directory path.`);
  table.set(name, isAbsolute(path) ? path : resolve(path));
}

/** The directory a hub name stands for; unknown names throw a ConfigError listing the known ones. */
export function resolveHub(name: string): string {
  const path = table.get(name);
  if (path !== undefined) return path;
  const known = [...table.keys()].sort();
  throw new ConfigError(
    `unknown checkpoint hub name "${name}".${didYouMean(name, known)} Known names: ${known.join(", ")}. ` +
      `Register it with registerHub("${name}", dir) or write the checkpoint path directly.`,
  );
}

/** All hub names with their directories (a copy). */
export function listHubs(): Record<string, string> {
  return Object.fromEntries([...table.entries()].sort(([a], [b]) => a.localeCompare(b)));
}
