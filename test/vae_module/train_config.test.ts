import { test } from "uvu";
import * as assert from "uvu/assert";
import { ConfigError } from "../../src/config/errors.ts";
import { loadTrainConfig } from "../../src/vae_module/train_config.ts";
import { vaeConfigFromModuleConfig } from "../../src/vae_module/config.ts";

test("train_vae config: seed keys map onto settings and model hyper-parameters", () => {
  const { settings, model } = loadTrainConfig([
    "experiment=mp_20/vae_dng",
    "paths.output_dir=/tmp/vae-run",
    "trainer.max_steps=50",
    "trainer.gradient_clip_val=1.0",
    "vae_module.optimizer.lr=3e-4",
    "+trainer.max_time_minutes=5",
    "+export_dir=checkpoints/x",
    "+data.extra_train=[perov_5/val]",
  ]);
  assert.is(model.dModel, 128);
  assert.is(model.numLayers, 3);
  assert.is(model.latentDim, 8);
  assert.equal(model.lossWeights, { atom_types: 1, lengths: 1, angles: 10, frac_coords: 10, kl: 1e-5 });
  assert.is(settings.trainer.maxSteps, 50);
  assert.is(settings.trainer.gradClip, 1);
  assert.is(settings.trainer.maxTimeMinutes, 5);
  assert.is(settings.optimizer.lr, 3e-4);
  assert.is(settings.exportDir, "checkpoints/x");
  assert.equal(settings.data.extraTrain, ["perov_5/val"]);
  assert.is(settings.data.dataset, "mp_20");
  assert.is(settings.metricsPath, "/tmp/vae-run/metrics.jsonl");
  assert.is(settings.checkpointDir, "/tmp/vae-run/checkpoints");
  const seedSize = loadTrainConfig(["vae_module/encoder=transformer", "vae_module/decoder=transformer"]).model;
  assert.equal([seedSize.dModel, seedSize.nhead, seedSize.dimFeedforward, seedSize.numLayers], [512, 8, 2048, 8]);
});

test("train_vae config: impossible or unsupported settings are ConfigErrors naming the key", () => {
  const bad = (overrides: string[], key: RegExp) =>
    assert.throws(() => loadTrainConfig(overrides), (e: Error) => e instanceof ConfigError && key.test(e.message), overrides.join(" "));
  bad(["vae_module.encoder.nhead=5", "vae_module.decoder.nhead=5"], /nhead/);
  bad(["vae_module.decoder.d_model=256"], /vae_module\.decoder/);
  bad(["+vae_module.encoder.d_modle=64"], /vae_module\.encoder\.d_modle/);
  bad(["vae_module.loss_weights.fa=1.0"], /loss_weights\.fa/);
  bad(["vae_module.atom_type_predict=false"], /atom_type_predict/);
  bad(["+data.extra_train=[perov_5]"], /data\.extra_train/);
  bad(["trainer.gradient_clip_val=-1"], /gradient_clip_val/);
  assert.throws(() => vaeConfigFromModuleConfig({ encoder: null, decoder: {} }), (e: Error) => e instanceof ConfigError);
});

test.run();
