/**
 * DiT denoiser hyper-parameters: the named sizes of the seed (`dit_s`, `dit_b`, `dit_l`, as
 * configs/ldm_module/denoiser/*.yaml) plus `dit_tiny`, which trains on a 2-core CPU, and the
 * one place where the YAML's snake_case keys become `DiTConfig` fields.
 *
 *     const cfg = ditConfigFromYaml({ latent_dim: 8, depth: 4, hidden_size: 128, num_heads: 4 });
 *     const s = resolveDiTConfig("dit_s");      // { depth: 6, hiddenSize: 384, numHeads: 6, ... }
 *
 * Impossible sizes (heads not dividing the width, a non-positive depth) are rejected here,
 * before any weight is allocated, with a `ConfigError` naming the config key.
 */
import { ConfigError } from "../config/errors.ts";

/** What the optional condition embedding reads (see denoiser.ts). */
export type ConditionType = "composition" | "property";

/** A condition embedding: composition (element fractions) or one scalar property per structure. */
export interface ConditionConfig {
  type: ConditionType;
  /** Property name for `property` conditions (e.g. `band_gap`), used to read data set columns. */
  property: string | null;
  /** Probability of replacing the condition by the learned null token in training (for CFG). */
  dropProb: number;
  /** Property standardisation (value − mean) / std, measured on the training data. */
  mean: number;
  std: number;
}

export interface DiTConfig {
  /** Channels of a per-atom latent token; must equal the VAE's `latent_dim`. */
  latentDim: number;
  /** Number of adaLN-Zero DiT blocks. */
  depth: number;
  /** Token width. */
  hiddenSize: number;
  /** Attention heads (must divide `hiddenSize`). */
  numHeads: number;
  /** MLP hidden width = mlpRatio · hiddenSize. */
  mlpRatio: number;
  /** Predict the variance interpolation too: the output has 2·latentDim channels. */
  learnSigma: boolean;
  /** Dropout inside the blocks (the seed uses 0). */
  dropout: number;
  /** Optional condition embedding (null: unconditional, the seed's `ldm_null`). */
  condition: ConditionConfig | null;
}

/** Named sizes. `dit_b` is the seed's default (~130M parameters with its embeddings). */
export const DIT_SIZES = {
  dit_tiny: { depth: 4, hiddenSize: 128, numHeads: 4 },
  dit_s: { depth: 6, hiddenSize: 384, numHeads: 6 },
  dit_b: { depth: 12, hiddenSize: 768, numHeads: 12 },
  dit_l: { depth: 24, hiddenSize: 1024, numHeads: 16 },
} as const satisfies Record<string, Pick<DiTConfig, "depth" | "hiddenSize" | "numHeads">>;

export type DiTSizeName = keyof typeof DIT_SIZES;

const DEFAULTS: Omit<DiTConfig, "depth" | "hiddenSize" | "numHeads"> = {
  latentDim: 8,
  mlpRatio: 4,
  learnSigma: true,
  dropout: 0,
  condition: null,
};

/** A full config from a size name or partial fields (a size name fills depth/width/heads). */
export function resolveDiTConfig(spec: DiTSizeName | (Partial<DiTConfig> & { size?: DiTSizeName }), path = "ldm_module.denoiser"): DiTConfig {
  const partial = typeof spec === "string" ? { size: spec } : spec;
  const sizeName = partial.size ?? "dit_tiny";
  const size = DIT_SIZES[sizeName];
  if (!size) {
    throw new ConfigError(`unknown DiT size "${String(sizeName)}"; use one of ${Object.keys(DIT_SIZES).join(", ")}.`, `${path}.size`);
  }
  const { size: _unused, ...fields } = partial;
  const cfg: DiTConfig = { ...DEFAULTS, ...size, ...stripUndefined(fields) };
  validateDiTConfig(cfg, path);
  return cfg;
}

function stripUndefined<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The largest divisor of `n` not above `k` (a head count to suggest). */
function nearestDivisor(n: number, k: number): number {
  for (let d = Math.min(k, n); d > 1; d--) if (n % d === 0) return d;
  return 1;
}

function positiveInt(value: number, key: string): void {
  if (!Number.isInteger(value) || value <= 0) throw new ConfigError(`must be a positive integer, got ${value}.`, key);
}

/** Throws a ConfigError naming the first impossible field. */
export function validateDiTConfig(cfg: DiTConfig, path = "ldm_module.denoiser"): void {
  positiveInt(cfg.latentDim, `${path}.latent_dim`);
  positiveInt(cfg.depth, `${path}.depth`);
  positiveInt(cfg.hiddenSize, `${path}.hidden_size`);
  positiveInt(cfg.numHeads, `${path}.num_heads`);
  if (cfg.hiddenSize % cfg.numHeads !== 0) {
    throw new ConfigError(
      `num_heads = ${cfg.numHeads} does not divide hidden_size = ${cfg.hiddenSize}; pick a head count that divides the width (e.g. ${nearestDivisor(cfg.hiddenSize, cfg.numHeads)}).`,
      `${path}.num_heads`,
    );
  }
  if (!(cfg.mlpRatio > 0)) throw new ConfigError(`must be > 0, got ${cfg.mlpRatio}.`, `${path}.mlp_ratio`);
  if (!(cfg.dropout >= 0 && cfg.dropout < 1)) throw new ConfigError(`must be in [0, 1), got ${cfg.dropout}.`, `${path}.dropout`);
  if (cfg.condition) validateCondition(cfg.condition, `${path}.condition`);
}

function validateCondition(c: ConditionConfig, path: string): void {
  if (c.type !== "composition" && c.type !== "property") {
    throw new ConfigError(`unknown condition type "${String(c.type)}"; use "composition" or "property".`, `${path}.type`);
  }
  if (c.type === "property" && !c.property) throw new ConfigError("a property condition needs the property name (e.g. band_gap).", `${path}.property`);
  if (!(c.dropProb >= 0 && c.dropProb < 1)) throw new ConfigError(`must be in [0, 1), got ${c.dropProb}.`, `${path}.drop_prob`);
  if (!(c.std > 0) || !Number.isFinite(c.mean)) throw new ConfigError(`property standardisation needs a finite mean and std > 0 (got ${c.mean}, ${c.std}).`, path);
}

/** The DiT keys accepted in YAML (the seed's names), with our additions. */
const YAML_KEYS = ["_target_", "size", "latent_dim", "depth", "hidden_size", "num_heads", "mlp_ratio", "learn_sigma", "dropout", "condition"] as const;
const CONDITION_KEYS = ["type", "property", "drop_prob", "mean", "std"] as const;

function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) throw new ConfigError(`unknown key; allowed keys are ${allowed.join(", ")}.`, `${path}.${k}`);
  }
}

function numberAt(obj: Record<string, unknown>, key: string, path: string): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number") throw new ConfigError(`must be a number, got ${JSON.stringify(v)}.`, `${path}.${key}`);
  return v;
}

/** The `condition:` mapping of a denoiser YAML → ConditionConfig (null stays null). */
export function conditionFromYaml(raw: unknown, path: string): ConditionConfig | null {
  if (raw === null || raw === undefined) return null;
  if (typeof raw !== "object") throw new ConfigError("must be a mapping with `type` (composition | property) or null.", path);
  const obj = raw as Record<string, unknown>;
  checkKeys(obj, CONDITION_KEYS, path);
  return {
    type: obj.type as ConditionType,
    property: typeof obj.property === "string" ? obj.property : null,
    dropProb: numberAt(obj, "drop_prob", path) ?? 0.1,
    mean: numberAt(obj, "mean", path) ?? 0,
    std: numberAt(obj, "std", path) ?? 1,
  };
}

/** A denoiser YAML mapping (configs/ldm_module/denoiser/*.yaml) → validated DiTConfig. */
export function ditConfigFromYaml(raw: Record<string, unknown>, path = "ldm_module.denoiser"): DiTConfig {
  checkKeys(raw, YAML_KEYS, path);
  if (raw.learn_sigma !== undefined && typeof raw.learn_sigma !== "boolean") {
    throw new ConfigError(`must be true or false, got ${JSON.stringify(raw.learn_sigma)}.`, `${path}.learn_sigma`);
  }
  return resolveDiTConfig(
    {
      size: raw.size as DiTSizeName | undefined,
      latentDim: numberAt(raw, "latent_dim", path),
      depth: numberAt(raw, "depth", path),
      hiddenSize: numberAt(raw, "hidden_size", path),
      numHeads: numberAt(raw, "num_heads", path),
      mlpRatio: numberAt(raw, "mlp_ratio", path),
      learnSigma: raw.learn_sigma as boolean | undefined,
      dropout: numberAt(raw, "dropout", path),
      condition: conditionFromYaml(raw.condition, `${path}.condition`) ?? undefined,
    },
    path,
  );
}

/** DiTConfig → the YAML mapping stored in checkpoints (round-trips through ditConfigFromYaml). */
export function ditConfigToYaml(cfg: DiTConfig): Record<string, unknown> {
  const c = cfg.condition;
  return {
    latent_dim: cfg.latentDim,
    depth: cfg.depth,
    hidden_size: cfg.hiddenSize,
    num_heads: cfg.numHeads,
    mlp_ratio: cfg.mlpRatio,
    learn_sigma: cfg.learnSigma,
    dropout: cfg.dropout,
    condition: c ? { type: c.type, property: c.property, drop_prob: c.dropProb, mean: c.mean, std: c.std } : null,
  };
}
