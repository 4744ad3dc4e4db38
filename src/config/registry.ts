/**
 * The explicit `_target_` registry: config names → factories. Nothing is ever imported from a
 * `_target_` string; a name works only if some module registered it:
 *
 *   registerTarget(["CreativityReward"], (kw) => new CreativityReward(camelizeKeys(kw)));
 *
 * Chemeleon2's dotted names are built-in aliases (`src.rl_module.components.CreativityReward`
 * → `CreativityReward`, `torch.optim.AdamW` → `AdamW`), so seed configs load unchanged.
 * Lookup happens only when `instantiate` meets the name, so a config may mention targets
 * whose module is not loaded yet; an unknown name is a ConfigError naming the `_target_`,
 * the config key and the registered names. Built-in targets of this library are registered
 * lazily (targets.ts): their module is imported on first use.
 *
 * A user's own reward is registered by listing its file under `custom_modules:` in the
 * config (see loader.ts `loadCustomModules`); that file calls `registerTarget` itself.
 */
import { ConfigError } from "./errors.ts";
import { didYouMean } from "./suggest.ts";
import { registerBuiltinTargets } from "./targets.ts";

/** Keyword arguments as written in YAML (snake_case keys), children already instantiated. */
export type Kwargs = Record<string, unknown>;

/**
 * Builds the object for a `_target_`. Receives snake_case kwargs (map them with
 * `camelizeKeys`) and the `_args_` list, if the config has one. May return a Promise.
 */
export type TargetFactory = (kwargs: Kwargs, args: unknown[]) => unknown;

/** Chemeleon2's dotted `_target_` names and the names they stand for here. */
export const SEED_ALIASES: Readonly<Record<string, string>> = {
  "src.rl_module.rl_module.RLModule": "RLModule",
  "src.rl_module.reward.ReinforceReward": "ReinforceReward",
  "src.rl_module.components.CustomReward": "CustomReward",
  "src.rl_module.components.PredictorReward": "PredictorReward",
  "src.rl_module.components.CreativityReward": "CreativityReward",
  "src.rl_module.components.EnergyReward": "EnergyReward",
  "src.rl_module.components.StructureDiversityReward": "StructureDiversityReward",
  "src.rl_module.components.CompositionDiversityReward": "CompositionDiversityReward",
  "src.vae_module.predictor_module.PredictorModule.load_from_checkpoint": "PredictorModule.loadFromCheckpoint",
  "src.vae_module.predictor_module.PredictorModule": "PredictorModule",
  "src.vae_module.vae_module.VAEModule": "VAEModule",
  "src.vae_module.encoders.transformer.TransformerEncoder": "TransformerEncoder",
  "src.vae_module.decoders.transformer.TransformerDecoder": "TransformerDecoder",
  "src.ldm_module.ldm_module.LDMModule": "LDMModule",
  "src.ldm_module.denoisers.dit.DiT": "DiT",
  "pymatgen.analysis.structure_matcher.StructureMatcher": "StructureMatcher",
  "src.data.datamodule.DataModule": "DataModule",
  "torch.optim.AdamW": "AdamW",
};

/** A set of named factories plus aliases. Most code uses the shared `defaultRegistry`. */
export class TargetRegistry {
  private readonly factories = new Map<string, TargetFactory>();
  private readonly loaders = new Map<string, () => Promise<TargetFactory>>();
  private readonly aliases = new Map<string, string>();

  /** @param options.seedAliases install SEED_ALIASES (default true). */
  constructor(options: { seedAliases?: boolean } = {}) {
    if (options.seedAliases ?? true) for (const [from, to] of Object.entries(SEED_ALIASES)) this.aliases.set(from, to);
  }

  /** Register `factory` under one or more names; re-registering a name needs `replace: true`. */
  register(names: string | readonly string[], factory: TargetFactory, options: { replace?: boolean } = {}): void {
    for (const name of this.checkNames(names, options.replace)) {
      this.loaders.delete(name);
      this.factories.set(name, factory);
    }
  }

  /** Register a factory that is built on first use (`loader` typically does a dynamic import). */
  registerLazy(names: string | readonly string[], loader: () => Promise<TargetFactory>, options: { replace?: boolean } = {}): void {
    for (const name of this.checkNames(names, options.replace)) {
      this.factories.delete(name);
      this.loaders.set(name, loader);
    }
  }

  /** Make `from` (e.g. a seed dotted name) mean the registered name `to`. */
  alias(from: string, to: string): void {
    if (from === to) throw new ConfigError(`alias "${from}" would point at itself.`);
    this.aliases.set(from, to);
  }

  /**
   * The name `target` stands for: itself when registered under that exact name (a direct
   * registration beats an alias), else what its alias points at.
   */
  canonicalName(target: string): string {
    if (this.factories.has(target) || this.loaders.has(target)) return target;
    return this.aliases.get(target) ?? target;
  }

  /** True when `target` (or what it aliases) has a factory, loaded or lazy. */
  has(target: string): boolean {
    const name = this.canonicalName(target);
    return this.factories.has(name) || this.loaders.has(name);
  }

  /** Registered names (not aliases), sorted. */
  names(): string[] {
    return [...new Set([...this.factories.keys(), ...this.loaders.keys()])].sort();
  }

  /** The factory of `target`; `key` (the config path) is only for the error message. */
  async resolve(target: string, key?: string): Promise<TargetFactory> {
    const name = this.canonicalName(target);
    const ready = this.factories.get(name);
    if (ready) return ready;
    const loader = this.loaders.get(name);
    if (loader) {
      const factory = await loader();
      this.factories.set(name, factory);
      this.loaders.delete(name);
      return factory;
    }
    throw this.unknownTarget(target, name, key);
  }

  private unknownTarget(target: string, name: string, key?: string): ConfigError {
    const names = this.names();
    const via = name !== target ? ` (the seed's name for "${name}")` : "";
    const hint = didYouMean(name, [...names, ...this.aliases.keys()]);
    return new ConfigError(
      `no factory is registered for _target_ "${target}"${via}.${hint} Registered: ${names.join(", ") || "(none)"}. ` +
        `Register it with registerTarget("${name}", factory), or list the file that does under custom_modules: in the config.`,
      key,
    );
  }

  private checkNames(names: string | readonly string[], replace = false): string[] {
    const list = typeof names === "string" ? [names] : [...names];
    if (list.length === 0) throw new ConfigError(`registerTarget needs at least one name.`);
    for (const n of list) {
      if (typeof n !== "string" || n.trim() === "") throw new ConfigError(`target names must be non-empty strings, got ${JSON.stringify(n)}.`);
      if (!replace && (this.factories.has(n) || this.loaders.has(n))) {
        throw new ConfigError(`_target_ "${n}" is already registered; pass { replace: true } to replace it.`);
      }
    }
    return list;
  }
}

/** The shared registry that `registerTarget` fills and `instantiate` uses by default. */
export const defaultRegistry = new TargetRegistry();
registerBuiltinTargets(defaultRegistry);

/** Register `factory` in the default registry under `names` (see TargetRegistry.register). */
export function registerTarget(names: string | readonly string[], factory: TargetFactory, options: { replace?: boolean } = {}): void {
  defaultRegistry.register(names, factory, options);
}
