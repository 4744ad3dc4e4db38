/**
 * The run settings train_rl reads from a composed `train_rl` config (everything except the
 * `rl_module` section, which the RLModule factory reads): trainer limits, validation and
 * checkpoint cadence, early stopping, data, paths, seed, resume. One place, with a
 * ConfigError naming the key for anything missing or impossible, before any compute.
 */
import { join, dirname, basename } from "node:path";
import { ConfigError } from "../config/errors.ts";
import type { ConfigObject } from "../config/tree.ts";

export interface RLTrainSettings {
  /** trainer.max_steps (−1 → unlimited). */
  maxSteps: number;
  /** trainer.val_check_interval: validate, checkpoint and check early stopping every N steps. */
  valEvery: number;
  /** callbacks.early_stopping: patience in validations (0 = off), monitor and mode. */
  patience: number;
  monitor: string;
  mode: "max" | "min";
  /** callbacks.model_checkpoint.every_n_train_steps: also keep checkpoints/step_<N> (0 = off). */
  keepEvery: number;
  outputDir: string;
  checkpointDir: string;
  metricsPath: string;
  /** data.batch_size prompts per step; data set name and root folder. */
  batchSize: number;
  dataset: string;
  dataRoot: string;
  /** Prompts of the fixed validation batch (default: batch_size). */
  valBatchSize: number;
  seed: number;
  ckptPath: string | null;
}

function section(cfg: ConfigObject, key: string): ConfigObject {
  const v = cfg[key];
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new ConfigError("missing mapping; compose from configs/train_rl.yaml.", key);
  return v as ConfigObject;
}

function int(v: unknown, key: string, min: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) throw new ConfigError(`must be an integer ≥ ${min}, got ${JSON.stringify(v)}.`, key);
  return v;
}

function str(v: unknown, key: string): string {
  if (typeof v !== "string" || v === "") throw new ConfigError(`must be a non-empty string, got ${JSON.stringify(v)}.`, key);
  return v;
}

/** Reads and checks every run setting of a composed train_rl config. */
export function rlTrainSettings(cfg: ConfigObject): RLTrainSettings {
  const trainer = section(cfg, "trainer");
  const callbacks = section(cfg, "callbacks");
  const early = (callbacks.early_stopping ?? {}) as ConfigObject;
  const ckpt = (callbacks.model_checkpoint ?? {}) as ConfigObject;
  const data = section(cfg, "data");
  const paths = section(cfg, "paths");
  const logger = ((cfg.logger as ConfigObject | undefined)?.jsonl ?? {}) as ConfigObject;
  const maxSteps = trainer.max_steps === -1 ? Infinity : int(trainer.max_steps, "trainer.max_steps", 1);
  const mode = early.mode ?? "max";
  if (mode !== "max" && mode !== "min") throw new ConfigError(`must be max or min, got ${JSON.stringify(mode)}.`, "callbacks.early_stopping.mode");
  const outputDir = str(paths.output_dir, "paths.output_dir");
  const dataDir = str(data.data_dir, "data.data_dir");
  const batchSize = int(data.batch_size, "data.batch_size", 1);
  return {
    maxSteps,
    valEvery: int(trainer.val_check_interval ?? 5, "trainer.val_check_interval", 1),
    patience: int(early.patience ?? 0, "callbacks.early_stopping.patience", 0),
    monitor: str(early.monitor ?? "val/reward", "callbacks.early_stopping.monitor"),
    mode,
    keepEvery: int(ckpt.every_n_train_steps ?? 0, "callbacks.model_checkpoint.every_n_train_steps", 0),
    outputDir,
    checkpointDir: typeof ckpt.dirpath === "string" ? ckpt.dirpath : join(outputDir, "checkpoints"),
    metricsPath: join(typeof logger.save_dir === "string" ? logger.save_dir : outputDir, typeof logger.file_name === "string" ? logger.file_name : "metrics.jsonl"),
    batchSize,
    dataset: typeof data.dataset_type === "string" ? data.dataset_type : basename(dataDir),
    dataRoot: dirname(dataDir),
    valBatchSize: int(data.val_batch_size ?? batchSize, "data.val_batch_size", 1),
    seed: int(cfg.seed ?? 0, "seed", 0),
    ckptPath: cfg.ckpt_path === null || cfg.ckpt_path === undefined ? null : str(cfg.ckpt_path, "ckpt_path"),
  };
}
