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
import { loadDataset } from "../../src/data/datasets.ts";
import { collate, collateHost, disposeBatch } from "../../src/data/batch.ts";
import { VAEModule, disposeAll } from "../../src/vae_module/vae_module.ts";
import { resolveVAEConfig, vaeConfigFromYaml } from "../../src/vae_module/config.ts";
import { arraysToStructures, decodeArrays } from "../../src/vae_module/decode_structures.ts";
import { measureLatentStats } from "../../src/vae_module/latent_stats.ts";
import { loadVAE, saveVAE } from "../../src/vae_module/vae_checkpoint.ts";
import { evaluateReconstruction, seedMatchers } from "../../src/vae_module/evaluate.ts";

await useTestBackend();
const { records } = await loadDataset("mp_20", "val", { limit: 6 });
const structures = records.map((r) => r.structure);
const TINY = { dModel: 32, nhead: 4, dimFeedforward: 64, numLayers: 1, fourierFrequencies: 4 };

test("encode/decode shapes, masked latents, PyTorch-style parameter names", () => {
  const vae = new VAEModule(TINY, new Rng(0));
  const batch = collate(structures.slice(0, 3));
  const [b, n] = batch.atomTypes.shape;
  const enc = vae.encode(batch);
  for (const t of [enc.mean, enc.logvar, enc.z]) assert.equal(t.shape, [b, n, 8]);
  const mask = batch.mask.dataSync();
  const z = enc.z.dataSync();
  for (let i = 0; i < mask.length; i++) if (mask[i] === 0) for (let k = 0; k < 8; k++) assert.is(z[i * 8 + k], 0);
  const pred = vae.decode(enc.z, batch.mask);
  assert.equal(pred.atomLogits.shape, [b, n, 100]);
  assert.equal(pred.coordVectors.shape, [b, n, 3, 2]);
  assert.equal(pred.scaledLengths.shape, [b, 3]);
  assert.equal(pred.angles.shape, [b, 3]);
  const names = [...vae.namedParameters().keys()];
  for (const want of ["encoder.atom_embedding.weight", "encoder.transformer.layers.0.attn.qkv.weight", "quant_proj.weight", "decoder.lattice_head.fc2.bias"]) {
    assert.ok(names.includes(want), `missing parameter ${want}`);
  }
  disposeAll(enc);
  disposeAll(pred);
  disposeBatch(batch);
  vae.dispose();
});

test("posterior mean is deterministic; logvar is clamped to [-30, 20]", () => {
  const vae = new VAEModule(TINY, new Rng(1));
  const batch = collate(structures.slice(0, 2));
  const a = vae.encode(batch, { sample: false });
  const b = vae.encode(batch, { sample: false });
  assert.equal(Array.from(a.z.dataSync()), Array.from(b.z.dataSync()));
  const lv = a.logvar.dataSync();
  assert.ok(lv.every((x) => x >= -30 && x <= 20));
  [a, b].forEach(disposeAll);
  disposeBatch(batch);
});

test("a tiny VAE learns a handful of structures: loss falls, tensor count stays flat", () => {
  const vae = new VAEModule(TINY, new Rng(2));
  const opt = new AdamW(vae, { lr: 3e-3, weightDecay: 0 });
  const batch = collate(structures.slice(0, 4));
  const losses: number[] = [];
  let count = -1;
  for (let step = 0; step < 40; step++) {
    const r = vae.trainingStep(batch, opt);
    for (const k of ["atom_types", "lengths", "angles", "frac_coords", "kl", "loss", "grad_norm"]) assert.ok(Number.isFinite(r[k as keyof typeof r]), k);
    losses.push(r.loss);
    if (step === 2) count = tf.memory().numTensors;
    if (step > 2) assert.is(tf.memory().numTensors, count, `tensor count grew at step ${step}`);
  }
  const first = losses.slice(0, 3).reduce((a, b) => a + b) / 3;
  const last = losses.slice(-3).reduce((a, b) => a + b) / 3;
  assert.ok(last < 0.5 * first, `loss did not fall enough: ${first.toFixed(3)} → ${last.toFixed(3)}`);
  disposeBatch(batch);
  opt.dispose();
  vae.dispose();
});

test("bad input: more sites than max_atoms, impossible sizes, unknown keys", () => {
  const vae = new VAEModule({ ...TINY, maxAtoms: 2 }, new Rng(3));
  const batch = collate(structures.slice(0, 2));
  assert.throws(() => vae.encode(batch), (e: Error) => e instanceof BatchError && /max_atoms = 2/.test(e.message));
  disposeBatch(batch);
  assert.throws(() => resolveVAEConfig({ dModel: 30, nhead: 4 }), (e: Error) => e instanceof ConfigError && /nhead/.test(e.message));
  assert.throws(() => vaeConfigFromYaml({ d_modle: 64 }), (e: Error) => e instanceof ConfigError && /d_modle/.test(e.message));
  assert.throws(() => vaeConfigFromYaml({ loss_weights: { klx: 1 } }), (e: Error) => e instanceof ConfigError && /klx/.test(e.message));
  assert.is(vaeConfigFromYaml({ d_model: 64, nhead: 8, norm_first: true }).dModel, 64);
  vae.dispose();
});

test("decoding: wrapped coordinates, lattice back in Å/degrees, invalid cells reported with a reason", () => {
  const mask = tf.tensor2d([[1, 1], [1, 0]]);
  const logits = tf.oneHot(tf.tensor2d([[25, 6], [10, 0]], [2, 2], "int32"), 100);
  const turn = (x: number) => [Math.cos(2 * Math.PI * x), Math.sin(2 * Math.PI * x)];
  const coordVectors = tf.tensor4d([[[turn(0.25), turn(0.5), turn(0.75)], [turn(0), turn(0.1), turn(0.9)]], [[turn(0.5), turn(0.5), turn(0.5)], [turn(0), turn(0), turn(0)]]].flat(3), [2, 2, 3, 2]);
  const scaledLengths = tf.tensor2d([[2, 2, 2], [-1, 3, 3]]);
  const angles = tf.tensor2d([[90, 90, 90], [90, 90, 90]].map((r) => r.map((a) => (a * Math.PI) / 180)));
  const decoded = arraysToStructures(decodeArrays({ atomLogits: logits, coordVectors, scaledLengths, angles }, mask));
  const s = decoded[0].structure!;
  assert.equal(s.species, ["Fe", "N"]);
  assert.ok(Math.abs(s.lattice.a - 2 * Math.cbrt(2)) < 1e-5);
  [0.25, 0.5, 0.75].forEach((x, k) => assert.ok(Math.abs(s.fracCoords[0][k] - x) < 1e-5));
  assert.ok(s.fracCoords[1].every((x) => x >= 0 && x < 1));
  assert.is(decoded[1].structure, null);
  assert.match(decoded[1].reason!, /invalid lattice/);
});

test("latent stats: unbiased std over real-atom entries; checkpoint round trip keeps weights and latentStd", async () => {
  const vae = new VAEModule(TINY, new Rng(4));
  const host = collateHost(structures);
  const stats = measureLatentStats(vae, [host]);
  const batch = collate(structures);
  const enc = vae.encode(batch, { sample: false });
  const mean = enc.mean.dataSync();
  const mask = host.mask;
  const vals: number[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i]) for (let k = 0; k < 8; k++) vals.push(mean[i * 8 + k]);
  const mu = vals.reduce((a, b) => a + b) / vals.length;
  const std = Math.sqrt(vals.reduce((a, b) => a + (b - mu) ** 2, 0) / (vals.length - 1));
  assert.ok(Math.abs(stats.std - std) < 1e-5, `${stats.std} vs ${std}`);
  assert.is(stats.count, vals.length);
  vae.latentStd = stats.std;
  const dir = mkdtempSync(join(tmpdir(), "vae-ckpt-"));
  try {
    await saveVAE(join(dir, "vae"), vae, { step: 3 });
    const { vae: back, checkpoint } = await loadVAE(join(dir, "vae"));
    assert.is(checkpoint.meta.step, 3);
    assert.is(back.latentStd, stats.std);
    assert.equal(back.config, vae.config);
    const again = back.encode(batch, { sample: false });
    assert.equal(Array.from(again.mean.dataSync()), Array.from(mean));
    disposeAll(again);
    back.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  disposeAll(enc);
  disposeBatch(batch);
  vae.dispose();
});

test("evaluateReconstruction: one item per structure, rates in [0, 1], untrained model reported not hidden", () => {
  const vae = new VAEModule(TINY, new Rng(5));
  const report = evaluateReconstruction(vae, structures, { batchSize: 4, matchers: seedMatchers() });
  assert.equal(Object.keys(report.matchRates), ["default", "seed_vae"]);
  assert.is(report.count, structures.length);
  assert.is(report.items.length, structures.length);
  for (const k of ["matchRate", "atomTypeAccuracy", "compositionAccuracy", "geometryMatchRate"] as const) assert.ok(report[k] >= 0 && report[k] <= 1);
  for (const it of report.items) assert.ok(it.matched || it.invalid !== undefined || it.rms === null);
  // An untrained model matches nothing; its failures are counted.
  assert.is(report.matchRate, 0);
  vae.dispose();
});

test.run();
