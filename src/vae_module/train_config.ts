/**
 * Settings of a VAE training run (src/train_vae.ts), read from the composed Hydra-style config
 * `configs/train_vae.yaml` (src/config) with command-line overrides:
 *
 *     node --import tsx src/train_vae.ts experiment=mp_20/vae_dng trainer.max_steps=3000 \
 *          +trainer.max_time_minutes=40 +export_dir=checkpoints/mp_20/vae
 *
 * Keys read (seed names): `seed`, `ckpt_path` (resume), `paths.output_dir`,
 * `callbacks.model_checkpoint.dirpath`, `callbacks.early_stopping.patience`,
 * `logger.jsonl.{save_dir,file_name}`, `data.{data_dir,dataset_type,batch_size}`,
 * `vae_module.*` (model: see `vaeConfigFromModuleConfig`; `augmentation.translate`; `augmentation.rotate`
 * is accepted but changes nothing, see data/augment.ts;
 * `optimizer.{lr,weight_decay}`), `trainer.{max_steps,val_check_interval,log_every_n_steps,
 * gradient_clip_val}`. Keys of ours, added with `+`: `trainer.max_time_minutes`
 * (wall-time budget of this invocation), `export_dir` (also write the final checkpoint there),
 * `data.extra_train` (more training splits, e.g. `[perov_5/val]`), `data.limit`.
 */
import { dirname, join } from "node:path";
import { ConfigError } from "../config/errors.ts";
import { composeConfig } from "../config/loader.ts";
import type { ConfigObject } from "../config/tree.ts";
import { vaeConfigFromModuleConfig, type VAEConfig } from "./config.ts";

export interface VAETrainSettings {
  seed: number;
  /** Run folder: config.yaml, metrics file, checkpoints. */
  outputDir: string;
  checkpointDir: string;
  metricsPath: string;
  /** Checkpoint directory to resume from (model, optimizer, RNG and data position). */
  resume: string | null;
  /** Where to also write the final checkpoint (e.g. checkpoints/mp_20/vae). */
  exportDir: string | null;
  data: {
    /** Folder holding `<dataset>/<split>.csv[.gz]`. */
    root: string;
    dataset: string;
    /** Additional training splits as "name/split"; structures above max_atoms are skipped. */
    extraTrain: string[];
    batchSize: number;
    /** Cap on training structures (0 = all); for smoke runs. */
    limit: number;
  };
  augmentTranslate: boolean;
  optimizer: { lr: number; weightDecay: number };
  trainer: {
    maxSteps: number;
    maxTimeMinutes: number;
    gradClip: number;
    valEvery: number;
    logEvery: number;
    /** Stop after this many validations without improvement (0 = never). */
    patience: number;
  };
}

type Obj = Record<string, unknown>;

function section(cfg: Obj, key: string): Obj {
  const v = cfg[key];
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ConfigError("must be a mapping.", key);
  return v as Obj;
}

function num(v: unknown, key: string, fallback?: number): number {
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw new ConfigError("is required.", key);
  }
  if (typeof v !== "number" || !Number.isFinite(v)) throw new ConfigError(`must be a number, got ${JSON.stringify(v)}.`, key);
  return v;
}

function positiveInt(v: unknown, key: string, fallback?: number): number {
  const n = num(v, key, fallback);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`must be a positive integer, got ${n}.`, key);
  return n;
}

function trainerSettings(t: Obj, callbacks: Obj): VAETrainSettings["trainer"] {
  const maxSteps = num(t.max_steps, "trainer.max_steps", -1);
  const clip = t.gradient_clip_val;
  const early = (callbacks.early_stopping ?? {}) as Obj;
  const out = {
    maxSteps: maxSteps < 0 ? Number.POSITIVE_INFINITY : positiveInt(maxSteps, "trainer.max_steps"),
    maxTimeMinutes: num(t.max_time_minutes, "trainer.max_time_minutes", 0),
    gradClip: clip === null || clip === undefined ? Number.POSITIVE_INFINITY : num(clip, "trainer.gradient_clip_val"),
    valEvery: positiveInt(t.val_check_interval, "trainer.val_check_interval", 200),
    logEvery: positiveInt(t.log_every_n_steps, "trainer.log_every_n_steps", 1),
    patience: num(early.patience, "callbacks.early_stopping.patience", 0),
  };
  if (out.maxTimeMinutes < 0) throw new ConfigError("must be ≥ 0 (0 = no limit).", "trainer.max_time_minutes");
  if (!(out.gradClip > 0)) throw new ConfigError("must be > 0, or null for no clipping.", "trainer.gradient_clip_val");
  return out;
}

function dataSettings(d: Obj): VAETrainSettings["data"] {
  const dataDir = String(d.data_dir ?? "");
  const extra = (d.extra_train ?? []) as unknown;
  if (!Array.isArray(extra) || extra.some((e) => typeof e !== "string" || !/^[\w.-]+\/[\w.-]+$/.test(e))) {
    throw new ConfigError('must be a list of "name/split" strings, e.g. [perov_5/val].', "data.extra_train");
  }
  return {
    root: dirname(dataDir),
    dataset: String(d.dataset_type ?? dataDir.split("/").pop()),
    extraTrain: extra as string[],
    batchSize: positiveInt(d.batch_size, "data.batch_size", 32),
    limit: num(d.limit, "data.limit", 0),
  };
}

/** Maps a composed `train_vae` config onto run settings and model hyper-parameters. */
export function settingsFromConfig(cfg: ConfigObject): { settings: VAETrainSettings; model: VAEConfig } {
  const c = cfg as unknown as Obj;
  const vae = section(c, "vae_module");
  const model = vaeConfigFromModuleConfig(vae);
  const opt = (vae.optimizer ?? {}) as Obj;
  const callbacks = (c.callbacks ?? {}) as Obj;
  const paths = section(c, "paths");
  const outputDir = String(paths.output_dir);
  const ckpt = ((callbacks.model_checkpoint ?? {}) as Obj).dirpath;
  const jsonl = (((c.logger ?? {}) as Obj).jsonl ?? {}) as Obj;
  const settings: VAETrainSettings = {
    seed: num(c.seed, "seed", 0),
    outputDir,
    checkpointDir: typeof ckpt === "string" ? ckpt : join(outputDir, "checkpoints"),
    metricsPath: join(String(jsonl.save_dir ?? outputDir), String(jsonl.file_name ?? "metrics.jsonl")),
    resume: typeof c.ckpt_path === "string" ? c.ckpt_path : null,
    exportDir: typeof c.export_dir === "string" ? c.export_dir : null,
    data: dataSettings(section(c, "data")),
    augmentTranslate: ((vae.augmentation ?? {}) as Obj).translate !== false,
    optimizer: { lr: num(opt.lr, "vae_module.optimizer.lr", 1e-4), weightDecay: num(opt.weight_decay, "vae_module.optimizer.weight_decay", 0) },
    trainer: trainerSettings(section(c, "trainer"), callbacks),
  };
  if (!(settings.optimizer.lr > 0)) throw new ConfigError("must be > 0.", "vae_module.optimizer.lr");
  return { settings, model };
}

/** Composes `configs/train_vae.yaml` with `overrides` and maps it (see the module doc). */
export function loadTrainConfig(overrides: readonly string[], configDir?: string): { settings: VAETrainSettings; model: VAEConfig; config: ConfigObject } {
  const config = composeConfig({ configName: "train_vae", overrides, configDir });
  return { ...settingsFromConfig(config), config };
}
