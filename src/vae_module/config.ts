/**
 * VAE hyper-parameters. YAML files (configs/vae_module/*.yaml) use the seed's snake_case
 * keys, named after PyTorch's `nn.TransformerEncoderLayer` arguments (`d_model`, `nhead`,
 * `dim_feedforward`, `norm_first`); `vaeConfigFromYaml` maps them onto `VAEConfig` in this one
 * place and rejects unknown keys and impossible sizes with a `ConfigError` naming the key.
 */
import { ConfigError } from "../config/errors.ts";
import { didYouMean } from "../config/suggest.ts";
import type { ActivationName } from "../nn/layers.ts";

/** The five loss terms and their weights (keys as in the seed's config). */
export interface VAELossWeights {
  atom_types: number;
  lengths: number;
  angles: number;
  frac_coords: number;
  kl: number;
}

export interface VAEConfig {
  /** Transformer width. */
  dModel: number;
  /** Attention heads (must divide dModel). */
  nhead: number;
  /** Feed-forward hidden width. */
  dimFeedforward: number;
  /** Layers of the encoder and of the decoder (each). */
  numLayers: number;
  activation: ActivationName;
  dropout: number;
  /** Per-atom latent dimension. */
  latentDim: number;
  /** Atom-type classes: elements Z = 1..maxNumElements. */
  maxNumElements: number;
  /** Largest structure the model accepts (sites). */
  maxAtoms: number;
  /** Fourier frequencies k = 1..K of the fractional-coordinate embedding sin/cos(2πk·x). */
  fourierFrequencies: number;
  lossWeights: VAELossWeights;
}

/** The seed's VAE (Chemeleon2): 8 layers, width 512, 8 heads, FFN 2048, latent 8. */
export const VAE_DEFAULTS: Readonly<VAEConfig> = Object.freeze({
  dModel: 512,
  nhead: 8,
  dimFeedforward: 2048,
  numLayers: 8,
  activation: "gelu",
  dropout: 0,
  latentDim: 8,
  maxNumElements: 100,
  maxAtoms: 20,
  fourierFrequencies: 8,
  lossWeights: Object.freeze({ atom_types: 1, lengths: 1, angles: 10, frac_coords: 10, kl: 1e-5 }),
});

const YAML_KEYS: Record<string, keyof VAEConfig> = {
  d_model: "dModel",
  hidden_dim: "dModel",
  nhead: "nhead",
  num_heads: "nhead",
  dim_feedforward: "dimFeedforward",
  num_layers: "numLayers",
  activation: "activation",
  dropout: "dropout",
  latent_dim: "latentDim",
  max_num_elements: "maxNumElements",
  max_atoms: "maxAtoms",
  fourier_frequencies: "fourierFrequencies",
  loss_weights: "lossWeights",
};
/** Keys the seed's files carry that do not change our model (accepted and ignored). */
const IGNORED_KEYS = new Set(["_target_", "norm_first", "bias", "name"]);

function positiveInt(key: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 1) throw new ConfigError(`vae config: ${key} must be a positive integer, got ${JSON.stringify(v)}.`);
  return v as number;
}

function checkLossWeights(w: unknown): VAELossWeights {
  const names = Object.keys(VAE_DEFAULTS.lossWeights);
  if (typeof w !== "object" || w === null) throw new ConfigError("vae config: loss_weights must be a mapping of " + names.join(", ") + ".");
  for (const k of Object.keys(w)) if (!names.includes(k)) throw new ConfigError(`vae config: unknown loss_weights key "${k}"; use ${names.join(", ")}.`);
  const out = { ...VAE_DEFAULTS.lossWeights, ...(w as Partial<VAELossWeights>) };
  for (const [k, v] of Object.entries(out)) {
    if (typeof v !== "number" || !(v >= 0)) throw new ConfigError(`vae config: loss_weights.${k} must be a number ≥ 0, got ${JSON.stringify(v)}.`);
  }
  return out;
}

/** Fills defaults and validates; every problem is a ConfigError naming its key. */
export function resolveVAEConfig(partial: Partial<VAEConfig> = {}): VAEConfig {
  const c: VAEConfig = { ...VAE_DEFAULTS, ...partial, lossWeights: checkLossWeights(partial.lossWeights ?? {}) };
  positiveInt("d_model", c.dModel);
  positiveInt("nhead", c.nhead);
  positiveInt("dim_feedforward", c.dimFeedforward);
  positiveInt("num_layers", c.numLayers);
  positiveInt("latent_dim", c.latentDim);
  positiveInt("max_num_elements", c.maxNumElements);
  positiveInt("max_atoms", c.maxAtoms);
  positiveInt("fourier_frequencies", c.fourierFrequencies);
  if (c.dModel % c.nhead !== 0) throw new ConfigError(`vae config: nhead = ${c.nhead} does not divide d_model = ${c.dModel}; pick heads that divide the width.`);
  if (c.maxNumElements > 118) throw new ConfigError(`vae config: max_num_elements = ${c.maxNumElements} exceeds the 118 known elements.`);
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new ConfigError(`vae config: dropout must be in [0, 1), got ${c.dropout}.`);
  if (!["gelu", "gelu_tanh", "silu", "relu", "tanh"].includes(c.activation)) {
    throw new ConfigError(`vae config: activation "${c.activation}" is unknown; use gelu, gelu_tanh, silu, relu or tanh.`);
  }
  return c;
}

/** Config from a parsed YAML mapping with snake_case keys (unknown keys are an error). */
export function vaeConfigFromYaml(obj: Record<string, unknown>): VAEConfig {
  const partial: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj ?? {})) {
    if (IGNORED_KEYS.has(key)) continue;
    const name = YAML_KEYS[key];
    if (!name) throw new ConfigError(`vae config: unknown key "${key}"; known keys: ${Object.keys(YAML_KEYS).join(", ")}.`);
    partial[name] = value;
  }
  return resolveVAEConfig(partial as Partial<VAEConfig>);
}

/** Config as snake_case YAML mapping (what checkpoints store in config.yaml). */
export function vaeConfigToYaml(c: VAEConfig): Record<string, unknown> {
  return {
    d_model: c.dModel,
    nhead: c.nhead,
    dim_feedforward: c.dimFeedforward,
    num_layers: c.numLayers,
    activation: c.activation,
    dropout: c.dropout,
    latent_dim: c.latentDim,
    max_num_elements: c.maxNumElements,
    max_atoms: c.maxAtoms,
    fourier_frequencies: c.fourierFrequencies,
    loss_weights: { ...c.lossWeights },
  };
}

/** Encoder/decoder keys of the seed's layout that we read; the rest must be absent or the accepted ones below. */
const STACK_KEYS: Record<string, keyof VAEConfig> = {
  d_model: "dModel",
  nhead: "nhead",
  dim_feedforward: "dimFeedforward",
  num_layers: "numLayers",
  activation: "activation",
  dropout: "dropout",
  max_num_elements: "maxNumElements",
  fourier_frequencies: "fourierFrequencies",
};
/**
 * Seed keys accepted without effect: `norm_first` (our blocks are always pre-norm), `bias`
 * (always on), `index_embedding` (our transformer is permutation-equivariant over atoms: no
 * per-index embedding, which would tie a latent to an arbitrary site order).
 */
const STACK_IGNORED = new Set(["_target_", "norm_first", "bias", "index_embedding"]);

function stackConfig(stack: unknown, path: string): Partial<VAEConfig> {
  if (typeof stack !== "object" || stack === null) throw new ConfigError(`${path} must be a mapping (encoder/decoder hyper-parameters).`, path);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(stack)) {
    if (STACK_IGNORED.has(key)) continue;
    const name = STACK_KEYS[key];
    if (!name) throw new ConfigError(`unknown key; known: ${Object.keys(STACK_KEYS).join(", ")}.`, `${path}.${key}`);
    out[name] = value;
  }
  return out as Partial<VAEConfig>;
}

/**
 * Validates one encoder/decoder group (keys and sizes, e.g. nhead dividing d_model) and
 * returns its hyper-parameters as given: what the `TransformerEncoder` / `TransformerDecoder`
 * `_target_`s build, since the enclosing VAEModule owns and initialises the weights.
 */
export function checkStackConfig(stack: unknown, path: string): Record<string, unknown> {
  resolveVAEConfig(stackConfig(stack, path));
  return { ...(stack as Record<string, unknown>) };
}

/**
 * Every key a `vae_module:` mapping may hold (the seed's configs/vae_module/vae_module.yaml).
 * Run keys (augmentation, optimizer, scheduler, structure_matcher) are read by train_vae, but
 * are listed so that a typo anywhere in the section fails at start.
 */
export const VAE_MODULE_KEYS = [
  "_target_", "encoder", "decoder", "latent_dim", "loss_weights", "augmentation", "noise",
  "atom_type_predict", "structure_matcher", "optimizer", "scheduler", "max_atoms",
] as const;

function checkModuleKeys(cfg: Record<string, unknown>, path: string): void {
  for (const k of Object.keys(cfg)) {
    if (!(VAE_MODULE_KEYS as readonly string[]).includes(k)) {
      throw new ConfigError(`unknown key.${didYouMean(k, VAE_MODULE_KEYS)} Allowed keys: ${VAE_MODULE_KEYS.join(", ")}.`, `${path}.${k}`);
    }
  }
}

/**
 * The model hyper-parameters from a composed `vae_module` config (the seed's layout:
 * `encoder:` / `decoder:` groups, `latent_dim`, `loss_weights`, `max_atoms`). Our encoder and
 * decoder share one size, so the two groups must agree; features we do not implement
 * (`atom_type_predict: false`, coordinate noise, a non-zero `fa` loss) are ConfigErrors rather
 * than silently ignored.
 */
export function vaeConfigFromModuleConfig(cfg: Record<string, unknown>, path = "vae_module"): VAEConfig {
  checkModuleKeys(cfg, path);
  const enc = stackConfig(cfg.encoder, `${path}.encoder`);
  const dec = stackConfig(cfg.decoder, `${path}.decoder`);
  for (const k of Object.keys({ ...enc, ...dec }) as (keyof VAEConfig)[]) {
    if (enc[k] !== dec[k]) {
      throw new ConfigError(`encoder and decoder must have the same ${k} in this implementation (got ${String(enc[k])} and ${String(dec[k])}).`, `${path}.decoder`);
    }
  }
  if (cfg.atom_type_predict === false) throw new ConfigError("atom_type_predict: false (crystal-structure prediction mode) is not implemented; use true.", `${path}.atom_type_predict`);
  const noise = cfg.noise as { ratio?: number } | undefined;
  if (noise && (noise.ratio ?? 0) > 0) throw new ConfigError("coordinate-noise training is not implemented; set noise.ratio: 0.", `${path}.noise.ratio`);
  const weights = { ...((cfg.loss_weights as Record<string, unknown> | undefined) ?? {}) };
  if ("fa" in weights) {
    if (weights.fa !== 0) throw new ConfigError("the fa loss term is not implemented; set it to 0.", `${path}.loss_weights.fa`);
    delete weights.fa;
  }
  const partial: Partial<VAEConfig> = { ...enc, lossWeights: weights as unknown as VAELossWeights };
  if (cfg.latent_dim !== undefined) partial.latentDim = cfg.latent_dim as number;
  if (cfg.max_atoms !== undefined) partial.maxAtoms = cfg.max_atoms as number;
  return resolveVAEConfig(partial);
}
