/**
 * The RL module's settings: the seed's `rl_configs` and `sampling_configs` sections
 * (snake_case YAML keys) mapped onto camelCase options in this one place, with the seed's
 * defaults (configs/rl_module/rl_module.yaml) and a ConfigError naming the key for anything
 * unknown or out of range, before any compute is spent.
 */
import { ConfigError } from "../config/errors.ts";
import { LOSS_TYPES } from "./grpo.ts";

/** `rl_configs` (seed keys in the comments). */
export interface RLConfigs {
  /** clip_ratio: PPO ε (seed 0.001). */
  clipRatio: number;
  /** kl_weight: β of the k3 KL term (seed 1.0). */
  klWeight: number;
  /** entropy_weight: γ of the entropy term (seed 1e-5). */
  entropyWeight: number;
  /** num_group_samples: samples per prompt, the GRPO group (seed 1). */
  numGroupSamples: number;
  /** group_reward_norm: normalise rewards within each group instead of the batch (seed false). */
  groupRewardNorm: boolean;
  /** num_inner_batch: mini-batches (optimizer steps) per rollout (seed 2). */
  numInnerBatch: number;
  /** loss_type (ours): "grpo" (seed), "bnpo", "dr_grpo"; see grpo.ts. */
  lossType: string;
  /** kl_reference (ours): "rollout" (seed: the policy that sampled) or "reference" (the frozen initial LDM). */
  klReference: "rollout" | "reference";
  /** max_grad_norm (ours; the seed hard-codes 1.0). */
  maxGradNorm: number;
  /**
   * loss_chunk_steps (ours): diffusion steps replayed in one stacked forward/backward by
   * `calculateLoss` (steps × inner-batch rows per pass; 0 = all stochastic steps at once).
   * The gradient does not depend on it (Σ_i loss_i/T is linear); only speed and memory do.
   */
  lossChunkSteps: number;
}

export const RL_CONFIG_DEFAULTS: Readonly<RLConfigs> = Object.freeze({
  clipRatio: 0.001,
  klWeight: 1.0,
  entropyWeight: 1e-5,
  numGroupSamples: 1,
  groupRewardNorm: false,
  numInnerBatch: 2,
  lossType: "grpo",
  klReference: "rollout",
  maxGradNorm: 1.0,
  lossChunkSteps: 10,
});

const RL_KEYS: Record<string, keyof RLConfigs> = {
  clip_ratio: "clipRatio",
  kl_weight: "klWeight",
  entropy_weight: "entropyWeight",
  num_group_samples: "numGroupSamples",
  group_reward_norm: "groupRewardNorm",
  num_inner_batch: "numInnerBatch",
  loss_type: "lossType",
  kl_reference: "klReference",
  max_grad_norm: "maxGradNorm",
  loss_chunk_steps: "lossChunkSteps",
};

/** `sampling_configs` (seed keys; passed to LDMModule.sample as they are). */
export interface SamplingConfigs {
  sampler: "ddim" | "ddpm";
  sampling_steps: number;
  eta: number;
  cfg_scale: number;
  collect_trajectory: boolean;
  progress: boolean;
}

export const SAMPLING_DEFAULTS: Readonly<SamplingConfigs> = Object.freeze({
  sampler: "ddim",
  sampling_steps: 50,
  eta: 1.0,
  cfg_scale: 2.0,
  collect_trajectory: true,
  progress: false,
});

/** Accepts snake_case (YAML) or camelCase keys; unknown keys and bad values are ConfigErrors. */
export function resolveRLConfigs(raw: Record<string, unknown> | null | undefined, path = "rl_module.rl_configs"): RLConfigs {
  const out: Record<string, unknown> = { ...RL_CONFIG_DEFAULTS };
  const camel = new Set<string>(Object.values(RL_KEYS));
  for (const [k, v] of Object.entries(raw ?? {})) {
    const field = RL_KEYS[k] ?? (camel.has(k) ? k : undefined);
    if (!field) throw new ConfigError(`unknown key; allowed keys are ${Object.keys(RL_KEYS).join(", ")}.`, `${path}.${k}`);
    out[field] = v;
  }
  return checkRLConfigs(out as unknown as RLConfigs, path);
}

function checkRLConfigs(c: RLConfigs, path: string): RLConfigs {
  const nonNegative: (keyof RLConfigs)[] = ["clipRatio", "klWeight", "entropyWeight"];
  for (const f of nonNegative) {
    const v = c[f];
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw new ConfigError(`must be a finite number ≥ 0, got ${JSON.stringify(v)}.`, `${path}.${snake(f)}`);
  }
  for (const f of ["numGroupSamples", "numInnerBatch"] as const) {
    if (!Number.isInteger(c[f]) || c[f] < 1) throw new ConfigError(`must be a positive integer, got ${JSON.stringify(c[f])}.`, `${path}.${snake(f)}`);
  }
  if (!Number.isInteger(c.lossChunkSteps) || c.lossChunkSteps < 0) {
    throw new ConfigError(`must be an integer ≥ 0 (diffusion steps per loss pass; 0 = all at once), got ${JSON.stringify(c.lossChunkSteps)}.`, `${path}.loss_chunk_steps`);
  }
  if (typeof c.groupRewardNorm !== "boolean") throw new ConfigError(`must be true or false.`, `${path}.group_reward_norm`);
  if (!LOSS_TYPES.has(c.lossType)) throw new ConfigError(`unknown loss type "${c.lossType}"; use one of ${[...LOSS_TYPES.keys()].join(", ")}.`, `${path}.loss_type`);
  if (c.klReference !== "rollout" && c.klReference !== "reference") {
    throw new ConfigError(`must be "rollout" (the seed) or "reference" (frozen initial LDM), got ${JSON.stringify(c.klReference)}.`, `${path}.kl_reference`);
  }
  if (!(typeof c.maxGradNorm === "number" && c.maxGradNorm > 0)) throw new ConfigError(`must be a number > 0, got ${JSON.stringify(c.maxGradNorm)}.`, `${path}.max_grad_norm`);
  return c;
}

/** `sampling_configs` with defaults; the sampler must be stochastic for GRPO (log-probs need std > 0). */
export function resolveSamplingConfigs(raw: Record<string, unknown> | null | undefined, path = "rl_module.sampling_configs"): SamplingConfigs {
  const out: Record<string, unknown> = { ...SAMPLING_DEFAULTS };
  for (const [k, v] of Object.entries(raw ?? {})) {
    if (!(k in SAMPLING_DEFAULTS)) throw new ConfigError(`unknown key; allowed keys are ${Object.keys(SAMPLING_DEFAULTS).join(", ")}.`, `${path}.${k}`);
    out[k] = v;
  }
  const s = out as unknown as SamplingConfigs;
  if (s.sampler !== "ddim" && s.sampler !== "ddpm") throw new ConfigError(`unknown sampler ${JSON.stringify(s.sampler)}; use ddim or ddpm.`, `${path}.sampler`);
  if (!Number.isInteger(s.sampling_steps) || s.sampling_steps < 2) {
    throw new ConfigError(`must be an integer ≥ 2 (the last step is deterministic, GRPO needs at least one stochastic step), got ${JSON.stringify(s.sampling_steps)}.`, `${path}.sampling_steps`);
  }
  if (s.sampler === "ddim" && !(typeof s.eta === "number" && s.eta > 0 && s.eta <= 1)) {
    throw new ConfigError(`must be in (0, 1] for GRPO: with eta = 0 DDIM is deterministic and has no log-probabilities; the seed uses 1.0.`, `${path}.eta`);
  }
  if (typeof s.cfg_scale !== "number" || !Number.isFinite(s.cfg_scale)) throw new ConfigError(`must be a finite number.`, `${path}.cfg_scale`);
  if (s.collect_trajectory !== true) throw new ConfigError(`must be true: GRPO scores the sampled trajectory.`, `${path}.collect_trajectory`);
  return s;
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Back to the YAML spelling (stored in RL checkpoints). */
export function rlConfigsToYaml(c: RLConfigs): Record<string, unknown> {
  return Object.fromEntries(Object.entries(RL_KEYS).map(([k, f]) => [k, c[f]]));
}
