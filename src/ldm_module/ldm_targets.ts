/**
 * Config-registry factories of the LDM stage (registered lazily in src/config/targets.ts under
 * the seed's dotted names):
 *
 *     _target_: src.ldm_module.ldm_module.LDMModule   → ldmModuleFactory
 *     _target_: src.ldm_module.denoisers.dit.DiT      → ditFactory
 *
 *     const ldm = await instantiate<LDMModule>(cfg.ldm_module);   // loads vae_ckpt_path
 *
 * As for the VAE (vae_targets.ts), the LDMModule owns and initialises its denoiser, so the
 * DiT target validates the denoiser group and returns its hyper-parameters.
 */
import { existsSync } from "node:fs";
import { ConfigError } from "../config/errors.ts";
import type { Kwargs } from "../config/registry.ts";
import { Rng } from "../nn/rng.ts";
import { loadVAE } from "../vae_module/vae_checkpoint.ts";
import { resolveStoredPath } from "./ldm_checkpoint.ts";
import { ldmHparamsFromYaml, ldmHparamsToYaml, type LDMHparams } from "./ldm_config.ts";
import { LDMModule } from "./ldm_module.ts";
import { ditConfigFromYaml, ditConfigToYaml } from "./sizes.ts";

/** Denoiser group → validated hyper-parameters as a YAML mapping (round-trips through ditConfigFromYaml). */
export function ditFactory(kw: Kwargs): Record<string, unknown> {
  return ditConfigToYaml(ditConfigFromYaml(kw, "ldm_module.denoiser"));
}

function checkpointDir(value: unknown, key: string, what: string): string | null {
  if (value === null || value === undefined || value === "") return null;
  if (typeof value !== "string") throw new ConfigError(`must be a checkpoint directory path or null, got ${JSON.stringify(value)}.`, key);
  const dir = resolveStoredPath(value);
  if (!existsSync(dir)) throw new ConfigError(`checkpoint ${dir} does not exist; ${what}.`, key);
  return dir;
}

/** A checkpoint must hold the model the config describes (its weights would not fit otherwise). */
function checkSameModel(configured: LDMHparams, loaded: LDMModule, ckptDir: string): void {
  const want = JSON.stringify(ldmHparamsToYaml(configured));
  const have = JSON.stringify(ldmHparamsToYaml(loaded.hparams));
  if (want !== have) {
    throw new ConfigError(
      `the checkpoint ${ckptDir} holds a different model than ldm_module configures (checkpoint ${have}, config ${want}); ` +
        "select the denoiser / diffusion_configs / condition_module the checkpoint was trained with.",
      "ldm_module.ldm_ckpt_path",
    );
  }
}

/**
 * An LDMModule from an `ldm_module:` config: the VAE comes from `vae_ckpt_path` (required);
 * with `ldm_ckpt_path` the denoiser weights come from that checkpoint, else they are freshly
 * initialised from `seed` (ours, default 0, passed as an extra kwarg).
 */
export async function ldmModuleFactory(kw: Kwargs): Promise<LDMModule> {
  const { seed = 0, ...rest } = kw;
  if (!Number.isInteger(seed)) throw new ConfigError(`must be an integer, got ${JSON.stringify(seed)}.`, "ldm_module.seed");
  const hparams = ldmHparamsFromYaml(rest);
  const vaePath = checkpointDir(rest.vae_ckpt_path, "ldm_module.vae_ckpt_path", "train a VAE first (train_vae) or use ${hub:mp_20_ldm_vae}");
  if (!vaePath) throw new ConfigError("is required: the VAE whose latents the LDM models (e.g. ${hub:mp_20_ldm_vae}).", "ldm_module.vae_ckpt_path");
  const ldmPath = checkpointDir(rest.ldm_ckpt_path, "ldm_module.ldm_ckpt_path", "train an LDM first (train_ldm) or set ldm_ckpt_path: null");
  const { vae } = await loadVAE(vaePath);
  try {
    if (!ldmPath) return new LDMModule({ vae, hparams, rng: new Rng(seed as number), vaeCkptPath: vaePath });
    const ldm = await LDMModule.loadFromCheckpoint(ldmPath, { vae, vaeCkptPath: vaePath });
    checkSameModel(hparams, ldm, ldmPath);
    return ldm;
  } catch (e) {
    vae.dispose();
    throw e;
  }
}
