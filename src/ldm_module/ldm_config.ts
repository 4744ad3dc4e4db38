/**
 * LDM hyper-parameters: the `ldm_module` section of configs/ldm_module/ldm_module.yaml
 * (`denoiser`, `diffusion_configs`, `normalize_latent`, `vae_ckpt_path`), mapped in this one
 * place from the seed's snake_case keys onto the options of `LDMModule`, and back for
 * checkpoints. Unknown keys and impossible values are `ConfigError`s naming the key.
 */
import { ConfigError } from "../config/errors.ts";
import { didYouMean } from "../config/suggest.ts";
import type { CreateDiffusionOptions } from "./diffusion/index.ts";
import { conditionFromYaml, ditConfigFromYaml, ditConfigToYaml, validateDiTConfig, type ConditionConfig, type DiTConfig } from "./sizes.ts";

/** `diffusion_configs` of the seed, camelCased (see diffusion/create.ts for their meaning). */
export interface DiffusionSettings {
  timestepRespacing: string;
  noiseSchedule: "linear" | "cosine";
  diffusionSteps: number;
  learnSigma: boolean;
  predictXstart: boolean;
  rescaleLearnedSigmas: boolean;
}

export const DIFFUSION_DEFAULTS: Readonly<DiffusionSettings> = Object.freeze({
  timestepRespacing: "",
  noiseSchedule: "linear",
  diffusionSteps: 1000,
  learnSigma: true,
  predictXstart: false,
  rescaleLearnedSigmas: true,
});

/** Everything that rebuilds an LDM besides its weights and its VAE. */
export interface LDMHparams {
  denoiser: DiTConfig;
  diffusion: DiffusionSettings;
  /** Divide latents by `latentStd` before diffusion (the seed's `normalize_latent`). */
  normalizeLatent: boolean;
}

const DIFFUSION_KEYS: Record<string, keyof DiffusionSettings> = {
  timestep_respacing: "timestepRespacing",
  noise_schedule: "noiseSchedule",
  diffusion_steps: "diffusionSteps",
  learn_sigma: "learnSigma",
  predict_xstart: "predictXstart",
  rescale_learned_sigmas: "rescaleLearnedSigmas",
};

/** `diffusion_configs:` → DiffusionSettings (defaults for absent keys). */
export function diffusionFromYaml(raw: unknown, path = "ldm_module.diffusion_configs"): DiffusionSettings {
  if (raw === null || raw === undefined) return { ...DIFFUSION_DEFAULTS };
  if (typeof raw !== "object") throw new ConfigError("must be a mapping of diffusion settings.", path);
  const out: Record<string, unknown> = { ...DIFFUSION_DEFAULTS };
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    const field = DIFFUSION_KEYS[k];
    if (!field) throw new ConfigError(`unknown key; allowed keys are ${Object.keys(DIFFUSION_KEYS).join(", ")}.`, `${path}.${k}`);
    const want = typeof DIFFUSION_DEFAULTS[field];
    const value = field === "timestepRespacing" && typeof v === "number" ? String(v) : v;
    if (typeof value !== want) throw new ConfigError(`must be a ${want}, got ${JSON.stringify(v)}.`, `${path}.${k}`);
    out[field] = value;
  }
  const s = out as unknown as DiffusionSettings;
  if (!Number.isInteger(s.diffusionSteps) || s.diffusionSteps < 2) {
    throw new ConfigError(`must be an integer ≥ 2, got ${s.diffusionSteps}.`, `${path}.diffusion_steps`);
  }
  if (s.noiseSchedule !== "linear" && s.noiseSchedule !== "cosine") {
    throw new ConfigError(`unknown schedule "${s.noiseSchedule}"; use linear or cosine.`, `${path}.noise_schedule`);
  }
  return s;
}

export function diffusionToYaml(s: DiffusionSettings): Record<string, unknown> {
  return Object.fromEntries(Object.entries(DIFFUSION_KEYS).map(([k, field]) => [k, s[field]]));
}

/** DiffusionSettings → createDiffusion options (the training diffusion: all steps). */
export function createDiffusionOptions(s: DiffusionSettings): CreateDiffusionOptions {
  return {
    timestepRespacing: s.timestepRespacing,
    noiseSchedule: s.noiseSchedule,
    diffusionSteps: s.diffusionSteps,
    learnSigma: s.learnSigma,
    predictXstart: s.predictXstart,
    rescaleLearnedSigmas: s.rescaleLearnedSigmas,
    // Latents are unbounded: the continuous Gaussian likelihood for the t = 0 vb term
    // (the seed's 256-bin discretised likelihood assumes images scaled to [−1, 1]).
    decoderNll: "gaussian",
  };
}

/**
 * Every key an `ldm_module:` mapping may hold (the seed's configs/ldm_module/ldm_module.yaml).
 * Run keys (optimizer, scheduler, augmentation, checkpoint paths) are read by train_ldm, not
 * here, but are listed so that a typo anywhere in the section fails at start.
 */
export const LDM_MODULE_KEYS = [
  "_target_", "denoiser", "vae_ckpt_path", "ldm_ckpt_path", "normalize_latent", "augmentation",
  "diffusion_configs", "condition_module", "optimizer", "scheduler", "lora_configs",
] as const;

/** Unknown keys of the `ldm_module:` mapping, and seed features we do not implement, are ConfigErrors. */
function checkModuleKeys(raw: Record<string, unknown>, path: string): void {
  for (const k of Object.keys(raw)) {
    if (!(LDM_MODULE_KEYS as readonly string[]).includes(k)) {
      throw new ConfigError(`unknown key.${didYouMean(k, LDM_MODULE_KEYS)} Allowed keys: ${LDM_MODULE_KEYS.join(", ")}.`, `${path}.${k}`);
    }
  }
  if (raw.lora_configs !== null && raw.lora_configs !== undefined) {
    throw new ConfigError("LoRA fine-tuning is not implemented; set lora_configs: null (the whole denoiser is fine-tuned).", `${path}.lora_configs`);
  }
}

const SEED_CONDITION_KEYS = ["condition_type", "stats", "hidden_dim", "drop_prob"];

/**
 * `condition_module:` in either layout: ours (`type`, `property`, `drop_prob`, `mean`, `std`;
 * see sizes.ts) or the seed's
 *
 *     condition_module:
 *       condition_type: { dft_band_gap: "float" }      # or { composition: "composition" }
 *       stats: { dft_band_gap: { mean: 0.797, std: 1.408 } }
 *       hidden_dim: 768                                # must equal denoiser.hidden_size
 *       drop_prob: 0.2
 *
 * Our denoiser embeds one condition, so a `condition_type` with several entries is refused.
 */
export function conditionModuleFromYaml(raw: unknown, hiddenSize: number, path: string): ConditionConfig | null {
  if (!raw || typeof raw !== "object" || !("condition_type" in raw)) return conditionFromYaml(raw, path);
  const obj = raw as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    if (!SEED_CONDITION_KEYS.includes(k)) throw new ConfigError(`unknown key; allowed keys are ${SEED_CONDITION_KEYS.join(", ")}.`, `${path}.${k}`);
  }
  const types = obj.condition_type as Record<string, unknown> | null;
  const entries = types && typeof types === "object" ? Object.entries(types) : [];
  if (entries.length !== 1) {
    throw new ConfigError(`must map exactly one condition name to its kind (e.g. { band_gap: "float" } or { composition: "composition" }); this denoiser embeds a single condition.`, `${path}.condition_type`);
  }
  const [name, kind] = entries[0];
  if (kind !== "float" && kind !== "composition") throw new ConfigError(`condition kind "${String(kind)}" is unknown; use "float" or "composition".`, `${path}.condition_type.${name}`);
  if (obj.hidden_dim !== undefined && obj.hidden_dim !== hiddenSize) {
    throw new ConfigError(`is ${String(obj.hidden_dim)} but the denoiser's hidden_size is ${hiddenSize}; they must be equal (use \${ldm_module.denoiser.hidden_size}).`, `${path}.hidden_dim`);
  }
  const stats = ((obj.stats ?? {}) as Record<string, Record<string, unknown> | null>)[name] ?? {};
  return conditionFromYaml(
    kind === "composition"
      ? { type: "composition", drop_prob: obj.drop_prob }
      : { type: "property", property: name, drop_prob: obj.drop_prob, mean: stats.mean, std: stats.std },
    path,
  );
}

/** The model part of an `ldm_module:` config → LDMHparams (run keys like optimizer are checked, not read). */
export function ldmHparamsFromYaml(raw: Record<string, unknown>, path = "ldm_module"): LDMHparams {
  checkModuleKeys(raw, path);
  const denoiserRaw = raw.denoiser;
  if (!denoiserRaw || typeof denoiserRaw !== "object") {
    throw new ConfigError("missing the denoiser mapping (select one with ldm_module/denoiser=dit_tiny|dit_s|dit_b|dit_l).", `${path}.denoiser`);
  }
  let denoiser = ditConfigFromYaml(denoiserRaw as Record<string, unknown>, `${path}.denoiser`);
  // The seed configures the condition beside the denoiser (`condition_module`); accept it there too.
  const conditionModule = conditionModuleFromYaml(raw.condition_module, denoiser.hiddenSize, `${path}.condition_module`);
  if (conditionModule && denoiser.condition) {
    throw new ConfigError("the condition is set twice (condition_module and denoiser.condition); keep one.", `${path}.condition_module`);
  }
  if (conditionModule) {
    denoiser = { ...denoiser, condition: conditionModule };
    validateDiTConfig(denoiser, `${path}.denoiser`);
  }
  const diffusion = diffusionFromYaml(raw.diffusion_configs, `${path}.diffusion_configs`);
  if (diffusion.learnSigma !== denoiser.learnSigma) {
    throw new ConfigError(
      `diffusion_configs.learn_sigma (${diffusion.learnSigma}) and denoiser.learn_sigma (${denoiser.learnSigma}) disagree; set both to the same value.`,
      `${path}.denoiser.learn_sigma`,
    );
  }
  const normalize = raw.normalize_latent ?? true;
  if (typeof normalize !== "boolean") throw new ConfigError(`must be true or false.`, `${path}.normalize_latent`);
  return { denoiser, diffusion, normalizeLatent: normalize };
}

export function ldmHparamsToYaml(h: LDMHparams): Record<string, unknown> {
  return { denoiser: ditConfigToYaml(h.denoiser), diffusion_configs: diffusionToYaml(h.diffusion), normalize_latent: h.normalizeLatent };
}
