import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tf } from "../../src/nn/tf.ts";
import { useTestBackend } from "../nn/helpers/backend.ts";
import { Rng } from "../../src/nn/rng.ts";
import { AdamW } from "../../src/nn/optim.ts";
import { BatchError } from "../../src/crystal/errors.ts";
import { ConfigError } from "../../src/config/errors.ts";
import { CheckpointError } from "../../src/nn/errors.ts";
import { loadDataset } from "../../src/data/datasets.ts";
import { collate, disposeBatch } from "../../src/data/batch.ts";
import { VAEModule } from "../../src/vae_module/vae_module.ts";
import { saveVAE } from "../../src/vae_module/vae_checkpoint.ts";
import { LDMModule } from "../../src/ldm_module/ldm_module.ts";
import { disposeSampleResult } from "../../src/ldm_module/ldm_sampling.ts";
import { NumAtomsSampler } from "../../src/ldm_module/num_atoms.ts";
import { ldmHparamsFromYaml, type LDMHparams } from "../../src/ldm_module/ldm_config.ts";
import { ldmTrainSettings } from "../../src/ldm_module/train_config.ts";
import { composeConfig } from "../../src/config/loader.ts";

await useTestBackend();
const { records } = await loadDataset("mp_20", "val", { limit: 6 });
const structures = records.map((r) => r.structure);
const TINY_VAE = { dModel: 32, nhead: 4, dimFeedforward: 64, numLayers: 1, fourierFrequencies: 4 };

function hparams(extra: Record<string, unknown> = {}): LDMHparams {
  return ldmHparamsFromYaml({
    denoiser: { latent_dim: 8, depth: 2, hidden_size: 32, num_heads: 4, mlp_ratio: 2, learn_sigma: true, ...extra },
    diffusion_configs: { diffusion_steps: 100 },
  });
}

function tinyLdm(seed = 0, extra: Record<string, unknown> = {}): LDMModule {
  const vae = new VAEModule(TINY_VAE, new Rng(seed));
  vae.latentStd = 0.5;
  return new LDMModule({ vae, hparams: hparams(extra), rng: new Rng(seed), numAtoms: NumAtomsSampler.fromStructures(structures) });
}

test("a tiny LDM's training loss falls on a handful of structures; tensor count is stable", () => {
  const ldm = tinyLdm(0);
  const batch = collate(structures);
  const optimizer = new AdamW(ldm, { lr: 3e-3, weightDecay: 0 });
  const losses: number[] = [];
  let tensorsAfterFirst = -1;
  for (let step = 0; step < 60; step++) {
    const r = ldm.trainingStep(batch, optimizer);
    assert.ok(Number.isFinite(r.loss) && Number.isFinite(r.grad_norm));
    losses.push(r.loss);
    if (step === 0) tensorsAfterFirst = tf.memory().numTensors;
  }
  assert.is(tf.memory().numTensors, tensorsAfterFirst, "tensor count grew across training steps");
  const first = losses.slice(0, 10).reduce((a, b) => a + b) / 10;
  const last = losses.slice(-10).reduce((a, b) => a + b) / 10;
  assert.ok(last < 0.8 * first, `loss did not fall: first-10 mean ${first}, last-10 mean ${last}`);
  disposeBatch(batch);
  ldm.dispose({ vae: true });
});

test("only the denoiser is trainable; the VAE is frozen and not a child", () => {
  const ldm = tinyLdm(1);
  const names = [...ldm.trainableParameters().keys()];
  assert.ok(names.length > 0 && names.every((n) => n.startsWith("denoiser.")));
  assert.ok(names.includes("denoiser.blocks.0.adaLN_modulation.1.weight"));
  assert.ok(ldm.vae.parameters().every((v) => !v.trainable));
  ldm.dispose({ vae: true });
});

test("sample returns the documented shapes and a finite trajectory", () => {
  const ldm = tinyLdm(2);
  const before = tf.memory().numTensors;
  const out = ldm.sample({ numAtoms: [3, 5, 2] }, { sampler: "ddim", sampling_steps: 7, eta: 1, collect_trajectory: true, rng: new Rng(5) });
  assert.equal(out.zs!.shape, [8, 3, 5, 8]);
  assert.equal(out.means!.shape, [7, 3, 5, 8]);
  assert.equal(out.stds!.shape, [7, 3, 5, 8]);
  assert.equal(out.batchGen.z.shape, [3, 5, 8]);
  assert.equal(out.mask.shape, [3, 5]);
  assert.equal(Array.from(out.mask.dataSync()), [1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
  assert.equal(out.batchGen.numAtoms, [3, 5, 2]);
  assert.is(out.batchGen.structures.length, 3);
  for (const t of [out.zs!, out.means!, out.stds!]) assert.ok(t.dataSync().every(Number.isFinite));
  // eta = 1: every step but the last is stochastic (std > 0); the last returns its mean.
  const stds = out.stds!.arraySync() as number[][][][];
  assert.ok(stds[0][0][0][0] > 0);
  assert.ok(stds[6].flat(2).every((s) => s === 0));
  // The last z of the trajectory is the returned sample.
  const lastZ = tf.tidy(() => tf.squeeze(tf.slice(out.zs!, [7, 0, 0, 0], [1, -1, -1, -1]), [0]));
  assert.equal(Array.from(lastZ.dataSync()), Array.from(out.batchGen.z.dataSync()));
  lastZ.dispose();
  disposeSampleResult(out);
  assert.is(tf.memory().numTensors, before, "sampling leaked tensors");
  ldm.dispose({ vae: true });
});

test("sampling is reproducible with a seeded rng; DDPM works; sizes come from the histogram", () => {
  const ldm = tinyLdm(3);
  const a = ldm.sample({ numAtoms: [4, 2] }, { sampling_steps: 5, rng: new Rng(9), decode: false });
  const b = ldm.sample({ numAtoms: [4, 2] }, { sampling_steps: 5, rng: new Rng(9), decode: false });
  assert.equal(Array.from(a.batchGen.z.dataSync()), Array.from(b.batchGen.z.dataSync()));
  const c = ldm.sample({ numAtoms: [4, 2] }, { sampler: "ddpm", sampling_steps: 5, rng: new Rng(9), collect_trajectory: true, decode: false });
  assert.equal(c.means!.shape, [5, 2, 4, 8]);
  [a, b, c].forEach(disposeSampleResult);
  const sizes = ldm.sampleNumAtoms(50, new Rng(1));
  const allowed = new Set(structures.map((s) => s.length));
  assert.ok(sizes.every((n) => allowed.has(n)));
  ldm.dispose({ vae: true });
});

test("composition-conditioned LDM: cfg_scale 1 equals the conditional model, other scales differ", () => {
  const ldm = tinyLdm(4, { condition: { type: "composition", drop_prob: 0.1 } });
  // Zero-initialised adaLN makes the untrained model ignore its conditioning; perturb the weights.
  for (const v of ldm.parameters()) tf.tidy(() => v.assign(tf.add(v, tf.mul(ldm.noiseRng.tensorNormal([...v.shape]), 0.05))));
  const batch = collate(structures.slice(0, 2));
  const opts = { sampling_steps: 4, eta: 0, decode: false } as const;
  const cond = ldm.sample(batch, { ...opts, rng: new Rng(1) });
  const one = ldm.sample(batch, { ...opts, rng: new Rng(1), cfg_scale: 1 });
  const two = ldm.sample(batch, { ...opts, rng: new Rng(1), cfg_scale: 2 });
  const z1 = Array.from(one.batchGen.z.dataSync());
  assert.equal(Array.from(cond.batchGen.z.dataSync()), z1);
  const diff = Array.from(two.batchGen.z.dataSync()).reduce((m, v, i) => Math.max(m, Math.abs(v - z1[i])), 0);
  assert.ok(diff > 1e-4, "cfg_scale 2 gave the same latents as the conditional model");
  [cond, one, two].forEach(disposeSampleResult);
  disposeBatch(batch);
  ldm.dispose({ vae: true });
});

test("bad input: latent dim mismatch, too many atoms, heads not dividing width", () => {
  const vae = new VAEModule({ ...TINY_VAE, latentDim: 4 }, new Rng(0));
  assert.throws(() => new LDMModule({ vae, hparams: hparams(), rng: new Rng(0) }), (e: Error) => e instanceof ConfigError && /latent_dim/.test(e.message));
  vae.dispose();
  const ldm = tinyLdm(5);
  assert.throws(() => ldm.sample({ numAtoms: [25] }), (e: Error) => e instanceof BatchError && /max_atoms = 20/.test(e.message));
  assert.throws(() => hparams({ num_heads: 5 }), (e: Error) => e instanceof ConfigError && /num_heads/.test(e.message));
  assert.throws(() => ldm.sample({ numAtoms: [2] }, { eta: 2 }), (e: Error) => e instanceof ConfigError && /eta/.test(e.message));
  ldm.dispose({ vae: true });
});

test("save / load round trip restores weights, latent std, histogram and reloads the VAE", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ldm-ckpt-"));
  try {
    const ldm = tinyLdm(6);
    await saveVAE(join(dir, "vae"), ldm.vae);
    ldm.vaeCkptPath = join(dir, "vae");
    await ldm.saveCheckpoint(join(dir, "ldm"), { step: 3 });
    const back = await LDMModule.loadFromCheckpoint(join(dir, "ldm"));
    assert.is(back.latentStd, 0.5);
    assert.equal(back.numAtomsSampler!.toJSON(), ldm.numAtomsSampler!.toJSON());
    const a = ldm.sample({ numAtoms: [3] }, { sampling_steps: 3, eta: 0, rng: new Rng(2), decode: false });
    const b = back.sample({ numAtoms: [3] }, { sampling_steps: 3, eta: 0, rng: new Rng(2), decode: false });
    assert.equal(Array.from(a.batchGen.z.dataSync()), Array.from(b.batchGen.z.dataSync()));
    [a, b].forEach(disposeSampleResult);
    let err: unknown = null;
    await LDMModule.loadFromCheckpoint(join(dir, "vae")).catch((e) => (err = e));
    assert.ok(err instanceof CheckpointError && /ldm_module/.test((err as Error).message));
    // A different VAE at the stored path is refused (its latents mean something else).
    const other = new VAEModule(TINY_VAE, new Rng(99));
    await saveVAE(join(dir, "vae"), other);
    let mismatch: unknown = null;
    await LDMModule.loadFromCheckpoint(join(dir, "ldm")).catch((e) => (mismatch = e));
    assert.ok(mismatch instanceof CheckpointError && /not the one this LDM was trained with/.test((mismatch as Error).message));
    other.dispose();
    ldm.dispose({ vae: true });
    back.dispose({ vae: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("train_ldm settings come from the composed config; bad values name the key", () => {
  const s = ldmTrainSettings(composeConfig({ configName: "train_ldm", overrides: ["experiment=mp_20/ldm_null", "data.batch_size=16"] }));
  assert.is(s.hparams.denoiser.hiddenSize, 128);
  assert.is(s.hparams.denoiser.depth, 4);
  assert.is(s.hparams.diffusion.diffusionSteps, 1000);
  assert.is(s.batchSize, 16);
  assert.is(s.dataset, "mp_20");
  const bad = composeConfig({ configName: "train_ldm", overrides: ["experiment=mp_20/ldm_null", "ldm_module.denoiser.num_heads=3"] });
  assert.throws(() => ldmTrainSettings(bad), (e: Error) => e instanceof ConfigError && /ldm_module\.denoiser\.num_heads/.test(e.message));
  const badDiff = composeConfig({ configName: "train_ldm", overrides: ["experiment=mp_20/ldm_null", "+ldm_module.diffusion_configs.steps=5"] });
  assert.throws(() => ldmTrainSettings(badDiff), (e: Error) => e instanceof ConfigError && /diffusion_configs\.steps/.test(e.message));
});

test.run();
