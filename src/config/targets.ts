/**
 * Built-in `_target_` names of this library, registered lazily so that composing or
 * validating a config never loads tfjs: a module is imported the first time a config
 * instantiates one of its targets.
 *
 *   AdamW              (alias torch.optim.AdamW)  kwargs: params, lr, weight_decay, betas, eps
 *   ConstantLR         kwargs: optimizer          (the seed's "constant" scheduler)
 *   CosineAnnealingLR  kwargs: optimizer, T_max, eta_min
 *   VAEModule, LDMModule (+ TransformerEncoder/Decoder, DiT groups): see vae_targets.ts, ldm_targets.ts
 *   StructureMatcher   kwargs: ltol, stol, angle_tol, primitive_cell, scale, attempt_supercell, allow_subset
 *
 * Optimizers and schedulers are `_partial_: true` in configs: the module that owns the
 * parameters calls `optimizer({ params: module })`, then `scheduler({ optimizer })`.
 * Other stages add their classes here with one `registry.registerLazy(...)` line each.
 */
import { ConfigError } from "./errors.ts";
import type { Kwargs, TargetFactory, TargetRegistry } from "./registry.ts";
import { camelizeKeys, checkNumber, checkPositiveInt, checkUnknownKeys } from "./schema.ts";

/** Install the library's own targets into `registry`. */
export function registerBuiltinTargets(registry: TargetRegistry): void {
  // Reward components and ReinforceReward (kwargs checked in rl_module/custom_rewards.ts).
  for (const name of REWARD_TARGETS) {
    registry.registerLazy(name, async () => (await import("../rl_module/custom_rewards.ts")).rewardFactory(name));
  }
  registry.registerLazy("RLModule", async () => (await import("../rl_module/rl_module.ts")).rlModuleFactory);
  // Model stages: the module builds its own network, so sub-model targets return validated hyper-parameters.
  registry.registerLazy("VAEModule", async () => (await import("../vae_module/vae_targets.ts")).vaeModuleFactory);
  registry.registerLazy("TransformerEncoder", async () => (await import("../vae_module/vae_targets.ts")).transformerStackFactory("vae_module.encoder"));
  registry.registerLazy("TransformerDecoder", async () => (await import("../vae_module/vae_targets.ts")).transformerStackFactory("vae_module.decoder"));
  registry.registerLazy("LDMModule", async () => (await import("../ldm_module/ldm_targets.ts")).ldmModuleFactory);
  registry.registerLazy("DiT", async () => (await import("../ldm_module/ldm_targets.ts")).ditFactory);
  registry.registerLazy("StructureMatcher", async () => structureMatcherFactory((await import("../crystal/structure_matcher.ts")).StructureMatcher));
  registry.registerLazy("PredictorModule.loadFromCheckpoint", async () => (await import("../vae_module/predictor_module.ts")).loadPredictorFromKwargs);
  registry.registerLazy("AdamW", async () => adamWFactory((await import("../nn/optim.ts")).AdamW));
  registry.registerLazy("ConstantLR", async () => {
    const { ConstantLR } = await import("../nn/schedulers.ts");
    return (kw: Kwargs) => {
      checkUnknownKeys(kw, ["optimizer"], "ConstantLR");
      return new ConstantLR(requireArg(kw, "optimizer", "ConstantLR", "scheduler({ optimizer })") as { lr: number });
    };
  });
  registry.registerLazy("CosineAnnealingLR", async () => {
    const { CosineAnnealingLR } = await import("../nn/schedulers.ts");
    return (kw: Kwargs) => {
      checkUnknownKeys(kw, ["optimizer", "T_max", "eta_min"], "CosineAnnealingLR");
      const optimizer = requireArg(kw, "optimizer", "CosineAnnealingLR", "scheduler({ optimizer })") as { lr: number };
      const etaMin = kw.eta_min === undefined ? 0 : checkNumber(kw.eta_min, "CosineAnnealingLR.eta_min", { min: 0 });
      return new CosineAnnealingLR(optimizer, checkPositiveInt(kw.T_max, "CosineAnnealingLR.T_max"), etaMin);
    };
  });
}

/** Seed reward class names (their `src.rl_module.*` dotted names are aliases in registry.ts). */
const REWARD_TARGETS = [
  "CustomReward", "PredictorReward", "CreativityReward", "EnergyReward",
  "StructureDiversityReward", "CompositionDiversityReward", "ReinforceReward",
];

/** A runtime argument that a `_partial_` target must receive when it is called. */
function requireArg(kw: Kwargs, name: string, target: string, call: string): unknown {
  if (kw[name] === undefined || kw[name] === null) {
    throw new ConfigError(`${target} needs "${name}"; it is meant to be _partial_: true in the config and called as ${call}.`, target);
  }
  return kw[name];
}

type AdamWClass = typeof import("../nn/optim.ts").AdamW;

/** torch.optim.AdamW's keyword names → our AdamW (amsgrad, foreach, ... are not supported). */
function adamWFactory(AdamW: AdamWClass): TargetFactory {
  return (kw: Kwargs) => {
    checkUnknownKeys(kw, ["params", "lr", "weight_decay", "betas", "eps"], "AdamW");
    const params = requireArg(kw, "params", "AdamW", "optimizer({ params: module })") as ConstructorParameters<AdamWClass>[0];
    const opts = camelizeKeys<{ lr?: number; weightDecay?: number; betas?: [number, number]; eps?: number }>(kw, { deep: false });
    if (opts.lr !== undefined) checkNumber(opts.lr, "AdamW.lr", { min: 0 });
    if (opts.weightDecay !== undefined) checkNumber(opts.weightDecay, "AdamW.weight_decay", { min: 0 });
    if (opts.eps !== undefined) checkNumber(opts.eps, "AdamW.eps", { min: 0 });
    if (opts.betas !== undefined && !(Array.isArray(opts.betas) && opts.betas.length === 2 && opts.betas.every((b) => typeof b === "number"))) {
      throw new ConfigError(`betas must be a list of two numbers like [0.9, 0.999].`, "AdamW.betas");
    }
    return new AdamW(params, { lr: opts.lr, weightDecay: opts.weightDecay, betas: opts.betas, eps: opts.eps });
  };
}

type StructureMatcherClass = typeof import("../crystal/structure_matcher.ts").StructureMatcher;

/** pymatgen's StructureMatcher keyword names → ours (comparator objects and ignored_species are not supported). */
function structureMatcherFactory(StructureMatcher: StructureMatcherClass): TargetFactory {
  return (kw: Kwargs) => {
    checkUnknownKeys(kw, ["ltol", "stol", "angle_tol", "primitive_cell", "scale", "attempt_supercell", "allow_subset"], "StructureMatcher");
    return new StructureMatcher(camelizeKeys(kw, { deep: false }));
  };
}
