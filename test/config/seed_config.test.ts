/**
 * Acceptance (issue 7): a config written with exactly the seed's keys and dotted `_target_`
 * names (test/fixtures/config/seed/, Chemeleon2's layout) composes and instantiates unchanged,
 * except for checkpoint paths (hub names registered here).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join, resolve } from "node:path";
import { ConfigError } from "../../src/config/errors.ts";
import { registerHub } from "../../src/config/hub.ts";
import { instantiate, type PartialTarget } from "../../src/config/instantiate.ts";
import { composeConfigDetailed } from "../../src/config/loader.ts";
import { TargetRegistry, type Kwargs } from "../../src/config/registry.ts";
import { camelizeKeys } from "../../src/config/schema.ts";

const SEED = "test/fixtures/config/seed";
process.env.PROJECT_ROOT = "/project";

/** Stand-ins for the real classes: they keep their camelCased options. */
class Built {
  constructor(
    readonly target: string,
    readonly options: Record<string, any>,
  ) {}
}

function dummyRegistry(): TargetRegistry {
  const registry = new TargetRegistry();
  const names = ["RLModule", "ReinforceReward", "CreativityReward", "EnergyReward", "StructureDiversityReward", "CompositionDiversityReward", "PredictorReward", "PredictorModule.loadFromCheckpoint", "AdamW"];
  for (const name of names) registry.register(name, (kw: Kwargs) => new Built(name, camelizeKeys(kw)));
  registry.register("torch.optim.lr_scheduler.ConstantLR", (kw: Kwargs) => new Built("ConstantLR", camelizeKeys(kw)));
  return registry;
}

test("the seed's rl_dng experiment composes with the seed's defaults list and overrides", () => {
  const { config, choices } = composeConfigDetailed({ configDir: SEED, configName: "train_rl", overrides: ["experiment=mp_20/rl_dng"], now: new Date(2025, 4, 6, 7, 8, 9) });
  assert.is(choices.experiment, "mp_20/rl_dng");
  assert.is(choices.hydra, "default");
  const rl = config.rl_module as Record<string, any>;
  assert.equal(rl.rl_configs, { clip_ratio: 0.001, kl_weight: 1, entropy_weight: 1e-5, num_group_samples: 64, group_reward_norm: true, num_inner_batch: 2 });
  assert.equal(rl.sampling_configs, { sampler: "ddim", sampling_steps: 50, eta: 1, cfg_scale: 2, collect_trajectory: true, progress: false });
  assert.equal(rl.scheduler, { _target_: "torch.optim.lr_scheduler.ConstantLR", _partial_: true, factor: 1 });
  assert.is((config.data as any).batch_size, 5);
  assert.is((config.logger as any).wandb.name, "rl_dng_grpo");
  // paths.output_dir: ${hydra:runtime.output_dir} → hydra.run.dir with ${now:...}.
  assert.is((config.paths as any).output_dir, "/project/logs//train_rl/runs/2025-05-06_07-08-09");
  assert.is((config.callbacks as any).model_checkpoint.dirpath, "/project/logs//train_rl/runs/2025-05-06_07-08-09/checkpoints");
  assert.match(rl.ldm_ckpt_path, /checkpoints[\\/]mp_20[\\/]ldm$/);
});

test("the seed's rl_module instantiates with a dummy registry: nested rewards, _partial_ optimizer and scheduler", async () => {
  const { config } = composeConfigDetailed({ configDir: SEED, configName: "train_rl", overrides: ["experiment=mp_20/rl_dng", "trainer.max_steps=20"] });
  const module = await instantiate<Built>(config.rl_module, { registry: dummyRegistry() });
  assert.is(module.target, "RLModule");
  const o = module.options;
  assert.equal(Object.keys(o).sort(), ["ldmCkptPath", "optimizer", "rewardFn", "rlConfigs", "samplingConfigs", "scheduler", "vaeCkptPath"]);
  assert.equal(o.rlConfigs, { clipRatio: 0.001, klWeight: 1, entropyWeight: 1e-5, numGroupSamples: 64, groupRewardNorm: true, numInnerBatch: 2 });
  assert.is(o.rewardFn.target, "ReinforceReward");
  assert.equal(o.rewardFn.options.normalizeFn, "std");
  assert.equal(o.rewardFn.options.referenceDataset, "mp-20");
  const comps = o.rewardFn.options.components as Built[];
  assert.equal(comps.map((c) => [c.target, c.options.weight, c.options.normalizeFn]), [
    ["CreativityReward", 1, null],
    ["EnergyReward", 1, "norm"],
    ["StructureDiversityReward", 0.1, "norm"],
    ["CompositionDiversityReward", 1, "norm"],
  ]);
  const optimizer = (o.optimizer as PartialTarget<Built>)({ params: "PARAMS" });
  assert.equal([optimizer.target, optimizer.options], ["AdamW", { lr: 1e-5, weightDecay: 0, params: "PARAMS" }]);
  const scheduler = (o.scheduler as PartialTarget<Built>)({ optimizer });
  assert.equal(scheduler.options, { factor: 1, optimizer });
});

test("the seed's band-gap experiment loads once its checkpoint hub names are registered", async () => {
  assert.throws(
    () => composeConfigDetailed({ configDir: SEED, configName: "train_rl", overrides: ["experiment=alex_mp_20_bandgap/rl_bandgap"] }),
    (e: unknown) => e instanceof ConfigError && /alex_mp_20_ldm_rl/.test(e.message) && e.key === "rl_module.ldm_ckpt_path",
  );
  registerHub("alex_mp_20_ldm_rl", "/ckpt/alex/ldm_rl");
  registerHub("alex_mp_20_vae", "/ckpt/alex/vae");
  const { config } = composeConfigDetailed({ configDir: SEED, configName: "train_rl", overrides: ["experiment=alex_mp_20_bandgap/rl_bandgap", `rl_module.reward_fn.components[0].predictor.checkpoint_path=${resolve("ckpts/predictor")}`] });
  assert.is((config.data as any).data_dir, "/project/data//alex_mp_20_bandgap");
  const module = await instantiate<Built>(config.rl_module, { registry: dummyRegistry() });
  const [pred, comp] = module.options.rewardFn.options.components as Built[];
  assert.is(pred.target, "PredictorReward");
  assert.equal([pred.options.targetName, pred.options.targetValue, pred.options.clipMin, pred.options.weight], ["dft_band_gap", 3, 0, 1]);
  assert.is(pred.options.predictor.target, "PredictorModule.loadFromCheckpoint");
  assert.equal(pred.options.predictor.options, { checkpointPath: join(process.cwd(), "ckpts/predictor"), mapLocation: "cpu" });
  assert.equal([comp.target, comp.options.weight], ["CompositionDiversityReward", 0.5]);
  assert.is(module.options.ldmCkptPath, "/ckpt/alex/ldm_rl");
  assert.is((config.callbacks as any).early_stopping.patience, 10);
});

test.run();
