/**
 * train_ldm with a property condition: the per-batch `y` lines up with the structures of the
 * batch, and src/train_ldm.ts trains a band-gap-conditioned DiT for a few steps on a handful of
 * MP-20 structures (subprocess), whose checkpoint then samples with classifier-free guidance
 * (in process, and through src/sample.ts with condition_value).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { useTestBackend } from "../nn/helpers/backend.ts";
import { Rng } from "../../src/nn/rng.ts";
import { ConfigError } from "../../src/config/errors.ts";
import { composeConfig } from "../../src/config/loader.ts";
import { getElement } from "../../src/crystal/elements.ts";
import { loadDataset } from "../../src/data/datasets.ts";
import { CrystalDataLoader } from "../../src/data/loader.ts";
import { batchConditionValues, conditionValues } from "../../src/ldm_module/condition_data.ts";
import { ldmTrainSettings } from "../../src/ldm_module/train_config.ts";
import { LDMModule } from "../../src/ldm_module/ldm_module.ts";
import { disposeSampleResult } from "../../src/ldm_module/ldm_sampling.ts";

await useTestBackend();

test("conditionValues keeps rows with a value; batchConditionValues follows the shuffled, bucketed loader order", async () => {
  const { records } = await loadDataset("mp_20", "val", { limit: 24 });
  const withGap = records.map((r, i) => ({ ...r, properties: { ...r.properties, band_gap: i === 3 ? null : i } }));
  const { records: kept, y, skipped } = conditionValues(withGap, "band_gap");
  assert.is(skipped, 1);
  assert.is(kept.length, 23);
  // y = original row index, so each batch's values must name exactly its structures.
  const loader = new CrystalDataLoader(kept.map((r) => r.structure), { batchSize: 5, shuffle: true, rng: new Rng(4), bucketBySize: true });
  let seen = 0;
  for (let epoch = 0; epoch < 2; epoch++) {
    for (const host of loader.epoch()) {
      const values = batchConditionValues(loader, host, y)!;
      assert.is(values.length, host.batchSize);
      values.forEach((v, b) => {
        const s = records[v].structure;
        const zs = Array.from(host.atomTypes.subarray(b * host.maxAtoms, b * host.maxAtoms + host.numAtoms[b]));
        assert.equal(zs.sort(), s.species.map((e) => getElement(e).Z).sort(), `batch row ${b} is row ${v}`);
      });
      seen += host.batchSize;
    }
  }
  assert.is(seen, 46);
  assert.is(batchConditionValues(loader, { batchSize: 5 } as never, null), null);
  assert.throws(() => conditionValues(records, "bandgap"), (e: Error) => e instanceof ConfigError && /data\.target_condition/.test(e.message) && /band_gap/.test(e.message));
});

test("data.target_condition must agree with the denoiser's condition", () => {
  const settings = (...o: string[]) => ldmTrainSettings(composeConfig({ configName: "train_ldm", overrides: o }));
  const s = settings("experiment=mp_20/ldm_bandgap");
  assert.is(s.conditionProperty, "band_gap");
  assert.equal(s.hparams.denoiser.condition, { type: "property", property: "band_gap", dropProb: 0.2, mean: 0.828, std: 1.484 });
  const comp = settings("experiment=mp_20/ldm_null", "data.target_condition=composition");
  assert.is(comp.hparams.denoiser.condition?.type, "composition");
  assert.is(comp.conditionProperty, null);
  assert.throws(() => settings("experiment=mp_20/ldm_null", "data.target_condition=band_gap"), (e: Error) => e instanceof ConfigError && /data\.target_condition.*has no condition.*condition_module/.test(e.message));
  assert.throws(() => settings("experiment=mp_20/ldm_bandgap", "data.target_condition=formation_energy_per_atom"), (e: Error) => e instanceof ConfigError && /conditioned on band_gap/.test(e.message));
});

test("train_ldm trains a band-gap-conditioned DiT (cfg dropout) for a few steps; the checkpoint samples with guidance", async () => {
  const root = mkdtempSync(join(tmpdir(), "train-ldm-"));
  try {
    const args = ["--import", "tsx", "src/train_ldm.ts", "experiment=mp_20/ldm_bandgap", `paths.output_dir=${root}`, "+data.limit=8", "data.batch_size=4",
      "ldm_module.denoiser.depth=1", "ldm_module.denoiser.hidden_size=32", "ldm_module.denoiser.num_heads=4", "trainer.max_steps=3",
      "trainer.val_check_interval=2", "+trainer.val_batches=1", "trainer.log_every_n_steps=1", "callbacks.ema.decay=0.9"];
    const res = spawnSync(process.execPath, args, { encoding: "utf8", env: { ...process.env, CI: "1" } });
    assert.is(res.status, 0, `${res.stdout}${res.stderr}`.slice(-2000));
    const lines = readFileSync(join(root, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const train = lines.filter((l) => l.split === "train");
    assert.equal(train.map((l) => l.step), [1, 2, 3]);
    assert.ok(train.every((l) => Number.isFinite(l.loss) && l.grad_norm > 0));
    assert.ok(lines.some((l) => l.split === "val" && Number.isFinite(l.loss)));
    const ldm = await LDMModule.loadFromCheckpoint(join(root, "checkpoints", "last"));
    assert.equal(ldm.hparams.denoiser.condition?.property, "band_gap");
    const out = ldm.sample({ numAtoms: [3, 5], y: [0, 3] }, { sampling_steps: 4, cfg_scale: 2, rng: new Rng(0), decode: false });
    assert.ok(Array.from(out.batchGen.z.dataSync()).every(Number.isFinite));
    disposeSampleResult(out);
    ldm.dispose({ vae: true });
    // The sample CLI asks the conditional checkpoint for a band gap of 3 eV with guidance.
    const sampleArgs = ["--import", "tsx", "src/sample.ts", `ldm_ckpt_path=${join(root, "checkpoints", "last")}`, "condition_value=3", "cfg_scale=2",
      "num_samples=2", "sampling_steps=3", "evaluate=false", "progress=false", `output_dir=${join(root, "samples")}`];
    const sampled = spawnSync(process.execPath, sampleArgs, { encoding: "utf8", env: { ...process.env, CI: "1" } });
    assert.is(sampled.status, 0, `${sampled.stdout}${sampled.stderr}`.slice(-2000));
    assert.is(JSON.parse(readFileSync(join(root, "samples", "summary.json"), "utf8")).settings.condition_value, 3);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
