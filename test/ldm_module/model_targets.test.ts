/**
 * The VAE and LDM stages as config targets (the seed's dotted `_target_` names), and the
 * "bad config fails at start" rules of issue 6: unknown keys in vae_module / ldm_module /
 * denoiser / condition configs, heads not dividing the width, a VAE whose latent_dim differs
 * from the LDM checkpoint's, batches with more sites than the model supports.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { useTestBackend } from "../nn/helpers/backend.ts";
import { Rng } from "../../src/nn/rng.ts";
import { AdamW } from "../../src/nn/optim.ts";
import { BatchError } from "../../src/crystal/errors.ts";
import { ConfigError } from "../../src/config/errors.ts";
import { composeConfig } from "../../src/config/loader.ts";
import { instantiate } from "../../src/config/instantiate.ts";
import { resolveHub } from "../../src/config/hub.ts";
import { loadDataset } from "../../src/data/datasets.ts";
import { collate, disposeBatch } from "../../src/data/batch.ts";
import { VAEModule } from "../../src/vae_module/vae_module.ts";
import { saveVAE } from "../../src/vae_module/vae_checkpoint.ts";
import { LDMModule } from "../../src/ldm_module/ldm_module.ts";
import { ldmHparamsFromYaml } from "../../src/ldm_module/ldm_config.ts";
import { ldmTrainSettings } from "../../src/ldm_module/train_config.ts";
import { loadTrainConfig } from "../../src/vae_module/train_config.ts";
import { StructureMatcher } from "../../src/crystal/structure_matcher.ts";

await useTestBackend();
const { records } = await loadDataset("mp_20", "val", { limit: 6 });
const structures = records.map((r) => r.structure);
const TINY_VAE = { dModel: 32, nhead: 4, dimFeedforward: 64, numLayers: 1, fourierFrequencies: 4 };
const TINY_DENOISER = { latent_dim: 8, depth: 1, hidden_size: 32, num_heads: 4, mlp_ratio: 2, learn_sigma: true };

type Cfg = Record<string, any>;

async function rejects(fn: () => Promise<unknown>, check: (e: Error) => boolean, label: string): Promise<void> {
  let err: unknown = null;
  await fn().catch((e) => (err = e));
  assert.ok(err instanceof Error && check(err), `${label}: got ${String(err)}`);
}

const isConfigError = (key: RegExp) => (e: Error) => e instanceof ConfigError && key.test(e.message);

test("the seed's VAEModule _target_ builds a VAE from the composed train_vae config; the structure matcher target too", async () => {
  const cfg = loadTrainConfig([]).config;
  const vaeCfg = cfg.vae_module as Cfg;
  assert.is(vaeCfg._target_, "src.vae_module.vae_module.VAEModule");
  const vae = await instantiate<VAEModule>(vaeCfg, { extraKwargs: { seed: 3 } });
  assert.ok(vae instanceof VAEModule);
  assert.equal([vae.config.dModel, vae.config.nhead, vae.config.numLayers, vae.config.latentDim, vae.config.maxAtoms], [128, 4, 3, 8, 100]);
  vae.dispose();
  const sm = await instantiate<StructureMatcher>(vaeCfg.structure_matcher);
  assert.equal([sm.options.ltol, sm.options.stol, sm.options.angleTol], [0.3, 0.5, 10]);
});

test("bad vae_module configs fail at start with a ConfigError naming the key", async () => {
  const vaeCfg = loadTrainConfig([]).config.vae_module as Cfg;
  await rejects(() => instantiate({ ...vaeCfg, latent_dimm: 8 }), isConfigError(/vae_module\.latent_dimm.*Did you mean "latent_dim"/), "unknown module key");
  await rejects(() => instantiate({ ...vaeCfg, encoder: { ...vaeCfg.encoder, d_modle: 64 } }), isConfigError(/vae_module\.encoder\.d_modle/), "unknown encoder key");
  await rejects(() => instantiate({ ...vaeCfg, decoder: { ...vaeCfg.decoder, nhead: 5 } }), isConfigError(/nhead = 5 does not divide d_model = 128/), "heads");
  assert.throws(() => loadTrainConfig(["+vae_module.max_atom=20"]), isConfigError(/vae_module\.max_atom\b/));
});

test("the seed's LDMModule _target_: a fresh dit_tiny on the bundled VAE, or the bundled LDM via ldm_ckpt_path", async () => {
  const cfg = composeConfig({ configName: "train_ldm", overrides: ["experiment=mp_20/ldm_null"] });
  const ldmCfg = cfg.ldm_module as Cfg;
  assert.is(ldmCfg._target_, "src.ldm_module.ldm_module.LDMModule");
  assert.is(ldmCfg.denoiser._target_, "src.ldm_module.denoisers.dit.DiT");
  const fresh = await instantiate<LDMModule>(ldmCfg, { extraKwargs: { seed: 1 } });
  assert.ok(fresh instanceof LDMModule);
  assert.equal([fresh.hparams.denoiser.depth, fresh.hparams.denoiser.hiddenSize, fresh.latentDim], [4, 128, 8]);
  assert.is(fresh.latentStd, fresh.vae.latentStd);
  fresh.dispose({ vae: true });
  const bundled = await instantiate<LDMModule>({ ...ldmCfg, vae_ckpt_path: resolveHub("mp_20_ldm_vae"), ldm_ckpt_path: resolveHub("mp_20_ldm_base") });
  assert.ok(bundled.numAtomsSampler !== null, "the bundled LDM brings its site-count histogram");
  bundled.dispose({ vae: true });
  // A checkpoint of another size than the configured denoiser is refused, naming the key.
  const dits = { ...ldmCfg, denoiser: { ...ldmCfg.denoiser, depth: 2 }, vae_ckpt_path: resolveHub("mp_20_ldm_vae"), ldm_ckpt_path: resolveHub("mp_20_ldm_base") };
  await rejects(() => instantiate(dits), isConfigError(/ldm_module\.ldm_ckpt_path.*different model/), "checkpoint of another size");
  await rejects(() => instantiate({ ...ldmCfg, vae_ckpt_path: "/nonexistent/vae" }), isConfigError(/ldm_module\.vae_ckpt_path.*does not exist/), "missing VAE");
});

test("bad ldm_module / denoiser / condition configs fail at start with a ConfigError naming the key", async () => {
  const compose = (...o: string[]) => composeConfig({ configName: "train_ldm", overrides: ["experiment=mp_20/ldm_null", ...o] });
  assert.throws(() => ldmTrainSettings(compose("+ldm_module.normalise_latent=true")), isConfigError(/ldm_module\.normalise_latent.*Did you mean "normalize_latent"/));
  assert.throws(() => ldmTrainSettings(compose("+ldm_module.denoiser.hiden_size=64")), isConfigError(/ldm_module\.denoiser\.hiden_size/));
  assert.throws(() => ldmTrainSettings(compose("ldm_module.denoiser.hidden_size=100", "ldm_module.denoiser.num_heads=8")), isConfigError(/ldm_module\.denoiser\.num_heads.*does not divide hidden_size = 100/));
  assert.throws(() => ldmTrainSettings(compose("+ldm_module.lora_configs.r=16")), isConfigError(/ldm_module\.lora_configs.*not implemented/));
  const ldmCfg = compose().ldm_module as Cfg;
  await rejects(() => instantiate({ ...ldmCfg, denoiser: { ...ldmCfg.denoiser, depht: 2 } }), isConfigError(/ldm_module\.denoiser\.depht/), "unknown denoiser key via the DiT target");
  const seedCondition = (extra: Cfg) => ({ denoiser: TINY_DENOISER, condition_module: { condition_type: { band_gap: "float" }, stats: { band_gap: { mean: 0.75, std: 1.4 } }, hidden_dim: 32, drop_prob: 0.2, ...extra } });
  const h = ldmHparamsFromYaml(seedCondition({}));
  assert.equal(h.denoiser.condition, { type: "property", property: "band_gap", dropProb: 0.2, mean: 0.75, std: 1.4 });
  assert.throws(() => ldmHparamsFromYaml(seedCondition({ hidden_dim: 64 })), isConfigError(/condition_module\.hidden_dim.*hidden_size is 32/));
  assert.throws(() => ldmHparamsFromYaml(seedCondition({ condition_type: { band_gap: "float", composition: "composition" } })), isConfigError(/condition_module\.condition_type.*exactly one/));
  assert.throws(() => ldmHparamsFromYaml(seedCondition({ hiden_dim: 32 })), isConfigError(/condition_module\.hiden_dim/));
});

test("a VAE whose latent_dim differs from the LDM checkpoint's is a ConfigError at load; oversized batches are BatchErrors", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ldm-targets-"));
  try {
    const vae8 = new VAEModule({ ...TINY_VAE, maxAtoms: 4 }, new Rng(0));
    await saveVAE(join(dir, "vae8"), vae8);
    const ldm = new LDMModule({ vae: vae8, hparams: ldmHparamsFromYaml({ denoiser: TINY_DENOISER, diffusion_configs: { diffusion_steps: 20 } }), rng: new Rng(0), vaeCkptPath: join(dir, "vae8") });
    await ldm.saveCheckpoint(join(dir, "ldm"));
    const vae4 = new VAEModule({ ...TINY_VAE, latentDim: 4 }, new Rng(1));
    await saveVAE(join(dir, "vae4"), vae4);
    const latentKey = (e: Error) => e instanceof ConfigError && /ldm_module\.vae_ckpt_path/.test(e.message) && /latent_dim 4/.test(e.message) && /latent_dim 8/.test(e.message);
    await rejects(() => LDMModule.loadFromCheckpoint(join(dir, "ldm"), { vaeCkptPath: join(dir, "vae4") }), latentKey, "vaeCkptPath");
    await rejects(() => LDMModule.loadFromCheckpoint(join(dir, "ldm"), { vae: vae4 }), latentKey, "vae");
    // max_atoms = 4: a batch padded to more sites is refused before any compute, naming the limit.
    const big = collate(structures.filter((s) => s.length > 4).slice(0, 2));
    const opt = new AdamW(ldm, { lr: 1e-3, weightDecay: 0 });
    assert.throws(() => ldm.trainingStep(big, opt), (e: Error) => e instanceof BatchError && /at most max_atoms = 4/.test(e.message));
    assert.throws(() => ldm.sample({ numAtoms: [3, 5] }, { sampling_steps: 5 }), (e: Error) => e instanceof BatchError && /max_atoms = 4/.test(e.message));
    disposeBatch(big);
    opt.dispose();
    ldm.dispose({ vae: true });
    vae4.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
