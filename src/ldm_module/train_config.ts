/**
 * The settings `train_ldm` reads from the composed `train_ldm` config (configs/train_ldm.yaml
 * + experiment + overrides), checked and typed in one place. Keys are the seed's; our
 * additions (marked below) have defaults so a seed-shaped config works unchanged.
 */
import { basename } from "node:path";
import { ConfigError } from "../config/errors.ts";
import type { ConfigObject } from "../config/tree.ts";
import { ldmHparamsFromYaml, type LDMHparams } from "./ldm_config.ts";

export interface LDMTrainSettings {
  hparams: LDMHparams;
  /** Data set column whose values condition the LDM (`y`), or null (unconditional / composition). */
  conditionProperty: string | null;
  seed: number;
  vaeCkptPath: string;
  /** Initialise the denoiser from this LDM checkpoint (fine-tuning). */
  ldmCkptPath: string | null;
  /** Resume a run from this checkpoint (weights, optimizer, EMA, RNG, loader). */
  ckptPath: string | null;
  dataset: string;
  /** Ours: use only the first rows of each split (0 = all), for smoke runs. `data.limit`. */
  limit: number;
  batchSize: number;
  translate: boolean;
  lr: number;
  weightDecay: number;
  maxSteps: number;
  /** Ours: stop after this many minutes (0 = no limit). `trainer.max_time_minutes`. */
  maxTimeMinutes: number;
  valCheckInterval: number;
  /** Ours: validation batches per check (0 = the whole split). `trainer.val_batches`. */
  valBatches: number;
  logEvery: number;
  gradClip: number;
  emaDecay: number | null;
  patience: number | null;
  outputDir: string;
  /** Ours: copy the final (EMA) model here, e.g. checkpoints/mp_20/ldm. `export_dir`. */
  exportDir: string | null;
}

function section(cfg: ConfigObject, key: string): Record<string, unknown> {
  const v = cfg[key];
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new ConfigError("missing mapping; compose with configName train_ldm.", key);
  return v as Record<string, unknown>;
}

function num(obj: Record<string, unknown>, key: string, path: string, fallback?: number): number {
  const v = obj[key] ?? fallback;
  if (typeof v !== "number" || !Number.isFinite(v)) throw new ConfigError(`must be a number, got ${JSON.stringify(obj[key])}.`, `${path}.${key}`);
  return v;
}

function str(obj: Record<string, unknown>, key: string, path: string): string | null {
  const v = obj[key];
  if (v === null || v === undefined) return null;
  if (typeof v !== "string") throw new ConfigError(`must be a path string or null, got ${JSON.stringify(v)}.`, `${path}.${key}`);
  return v;
}

function datasetName(data: Record<string, unknown>): string {
  if (typeof data.dataset_type === "string") return data.dataset_type;
  if (typeof data.data_dir === "string") return basename(data.data_dir);
  throw new ConfigError("needs dataset_type (e.g. mp_20) or data_dir.", "data");
}

/**
 * `data.target_condition` (the seed's key) against the denoiser's condition:
 *   - null: the denoiser's condition as configured (none, or composition from the atoms);
 *   - `composition`: a composition condition (added with drop_prob 0.1 if none is configured,
 *     as the seed's `mp_20/ldm_composition` experiment sets only this key);
 *   - a column name such as `band_gap`: needs a property condition on that column
 *     (`condition_module: { condition_type: { band_gap: float }, stats: ..., drop_prob: ... }`),
 *     whose values are read from the data set as `y`.
 */
function resolveCondition(hparams: LDMHparams, target: unknown): { hparams: LDMHparams; conditionProperty: string | null } {
  const cond = hparams.denoiser.condition;
  if (target === null || target === undefined) {
    if (cond?.type === "property") return { hparams, conditionProperty: cond.property };
    return { hparams, conditionProperty: null };
  }
  if (typeof target !== "string" || target === "") throw new ConfigError(`must be null, "composition" or a property column name, got ${JSON.stringify(target)}.`, "data.target_condition");
  if (target === "composition") {
    if (cond && cond.type !== "composition") throw new ConfigError(`is composition but the denoiser is conditioned on ${cond.property}; make them agree.`, "data.target_condition");
    const condition = cond ?? { type: "composition" as const, property: null, dropProb: 0.1, mean: 0, std: 1 };
    return { hparams: { ...hparams, denoiser: { ...hparams.denoiser, condition } }, conditionProperty: null };
  }
  if (cond?.type !== "property" || cond.property !== target) {
    throw new ConfigError(
      `is "${target}" but the denoiser ${cond ? `is conditioned on ${cond.property ?? "composition"}` : "has no condition"}; ` +
        `set ldm_module.condition_module: { condition_type: { ${target}: float }, stats: { ${target}: { mean: ..., std: ... } }, drop_prob: 0.1 }.`,
      "data.target_condition",
    );
  }
  return { hparams, conditionProperty: target };
}

/** Composed `train_ldm` config → typed settings (ConfigError naming the key on bad input). */
export function ldmTrainSettings(cfg: ConfigObject): LDMTrainSettings {
  const ldm = section(cfg, "ldm_module");
  const data = section(cfg, "data");
  const trainer = section(cfg, "trainer");
  const paths = section(cfg, "paths");
  const callbacks = (cfg.callbacks ?? {}) as Record<string, Record<string, unknown> | null>;
  const optimizer = (ldm.optimizer ?? {}) as Record<string, unknown>;
  const aug = (ldm.augmentation ?? {}) as Record<string, unknown>;
  const { hparams, conditionProperty } = resolveCondition(ldmHparamsFromYaml(ldm), data.target_condition);
  const vaeCkptPath = str(ldm, "vae_ckpt_path", "ldm_module");
  if (!vaeCkptPath) throw new ConfigError("is required: the VAE whose latents the LDM models.", "ldm_module.vae_ckpt_path");
  const ema = callbacks.ema;
  const early = callbacks.early_stopping;
  return {
    hparams,
    conditionProperty,
    seed: num(cfg as Record<string, unknown>, "seed", "", 0),
    vaeCkptPath,
    ldmCkptPath: str(ldm, "ldm_ckpt_path", "ldm_module"),
    ckptPath: str(cfg as Record<string, unknown>, "ckpt_path", ""),
    dataset: datasetName(data),
    limit: num(data, "limit", "data", 0),
    batchSize: num(data, "batch_size", "data", 32),
    translate: aug.translate !== false,
    lr: num(optimizer, "lr", "ldm_module.optimizer", 1e-4),
    weightDecay: num(optimizer, "weight_decay", "ldm_module.optimizer", 0),
    maxSteps: num(trainer, "max_steps", "trainer", 20000),
    maxTimeMinutes: num(trainer, "max_time_minutes", "trainer", 0),
    valCheckInterval: num(trainer, "val_check_interval", "trainer", 200),
    valBatches: num(trainer, "val_batches", "trainer", 0),
    logEvery: num(trainer, "log_every_n_steps", "trainer", 25),
    gradClip: typeof trainer.gradient_clip_val === "number" ? trainer.gradient_clip_val : 1,
    emaDecay: ema && typeof ema.decay === "number" ? ema.decay : null,
    patience: early && typeof early.patience === "number" ? early.patience : null,
    outputDir: str(paths, "output_dir", "paths") ?? "outputs/train_ldm",
    exportDir: str(cfg as Record<string, unknown>, "export_dir", ""),
  };
}
