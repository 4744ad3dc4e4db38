/**
 * Config-registry factories of the VAE stage (registered lazily in src/config/targets.ts under
 * the seed's dotted names):
 *
 *     _target_: src.vae_module.vae_module.VAEModule                     → vaeModuleFactory
 *     _target_: src.vae_module.encoders.transformer.TransformerEncoder  → transformerStackFactory
 *     _target_: src.vae_module.decoders.transformer.TransformerDecoder  → transformerStackFactory
 *
 *     const vae = await instantiate<VAEModule>(cfg.vae_module, { extraKwargs: { seed: 1 } });
 *
 * In the seed, Hydra builds the encoder and decoder modules first and hands them to
 * VAEModule. Here the VAEModule owns its weights and initialises them from one seeded
 * generator, so the encoder/decoder targets validate their group (unknown keys, heads not
 * dividing the width) and return its hyper-parameters; VAEModule then builds the network.
 */
import { ConfigError } from "../config/errors.ts";
import type { Kwargs } from "../config/registry.ts";
import { Rng } from "../nn/rng.ts";
import { checkStackConfig, vaeConfigFromModuleConfig } from "./config.ts";
import { VAEModule } from "./vae_module.ts";

/** Encoder or decoder group → its validated hyper-parameter mapping (see the module comment). */
export function transformerStackFactory(path: string): (kw: Kwargs) => Record<string, unknown> {
  return (kw) => checkStackConfig(kw, path);
}

/**
 * A freshly initialised VAEModule from a `vae_module:` config. `seed` (ours, default 0, passed
 * as an extra kwarg) seeds the weights; run keys (optimizer, scheduler, augmentation,
 * structure_matcher) are checked by name but belong to train_vae.
 */
export function vaeModuleFactory(kw: Kwargs): VAEModule {
  const { seed = 0, ...rest } = kw;
  if (!Number.isInteger(seed)) throw new ConfigError(`must be an integer, got ${JSON.stringify(seed)}.`, "vae_module.seed");
  return new VAEModule(vaeConfigFromModuleConfig(rest), new Rng(seed as number));
}
