/**
 * train_rl end to end on the bundled LDM at a toy size (1 prompt × 4 samples in 2 inner
 * batches, 3 DDIM steps, energy and creativity rewards; lr 1e-5, since with 3 coarse DDIM
 * steps the experiment's lr 3e-4 moves the per-step log-probs so far in one update that the
 * second inner batch's ratio overflows): the metrics file holds the step-0 baseline validation, every train
 * record carries the seed's and the raw reward, the tensor count stays flat, and a run
 * resumed from the step-1 checkpoint reproduces steps 2–3 (train and validation) exactly.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { composeConfig } from "../../src/config/loader.ts";
import type { ConfigObject } from "../../src/config/tree.ts";
import { runTrainRL } from "../../src/train_rl.ts";

const TMP = mkdtempSync(join(tmpdir(), "train-rl-"));

function toyConfig(outputDir: string, extra: string[] = []): ConfigObject {
  const config = composeConfig({
    configName: "train_rl",
    overrides: [
      "experiment=mp_20/rl_dng", "data.batch_size=1", "rl_module.rl_configs.num_group_samples=4", "rl_module.rl_configs.num_inner_batch=2",
      "rl_module.sampling_configs.sampling_steps=3", "rl_module.optimizer.lr=1e-5", "trainer.max_steps=3", "trainer.val_check_interval=2",
      "+callbacks.model_checkpoint.every_n_train_steps=1", `paths.output_dir=${outputDir}`, ...extra,
    ],
  });
  // The two cheapest real components (the diversity MMDs need the reference set's features).
  const reward = (config.rl_module as ConfigObject).reward_fn as ConfigObject;
  reward.components = (reward.components as ConfigObject[]).filter((c) => /(Energy|Creativity)Reward$/.test(String(c._target_)));
  return config;
}

type Rec = Record<string, unknown> & { step: number; split: string };
const records = (path: string): Rec[] => readFileSync(path, "utf8").trim().split("\n").map((l) => JSON.parse(l));
const withoutTimes = (r: Rec) => Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith("time/")));

test("train_rl: baseline validation, raw reward, flat tensor count, exact resume from a step-1 checkpoint", async () => {
  const first = await runTrainRL(toyConfig(join(TMP, "a")));
  assert.is(first.step, 3);
  const a = records(first.metricsPath);
  assert.equal(a.map((r) => `${r.split}${r.step}`), ["val0", "train1", "train2", "val2", "train3"]);
  const train = a.filter((r) => r.split === "train");
  for (const r of train) {
    for (const key of ["train/reward", "train/reward_raw", "train/reward/energy", "loss", "kl", "num_tensors"]) assert.ok(Number.isFinite(r[key] as number), `step ${r.step} ${key} = ${r[key]}`);
    // Both weights are 1: the raw total is the sum of the raw means.
    const raw = (r["train/reward/energy"] as number) + (r["train/reward/creativity"] as number);
    assert.ok(Math.abs((r["train/reward_raw"] as number) - raw) < 1e-12, `raw ${r["train/reward_raw"]} vs ${raw}`);
  }
  assert.ok(train.every((r) => r.num_tensors === train[0].num_tensors), `tensor counts ${train.map((r) => r.num_tensors)}`);
  // The second inner batch replays after an update: off-policy, so a resume must restore the optimizer too.
  assert.ok(train.every((r) => (r.kl as number) > 0), `kl ${train.map((r) => r.kl)}`);
  const resumed = await runTrainRL(toyConfig(join(TMP, "b"), [`ckpt_path=${join(first.checkpointDir, "step_1")}`]));
  const b = records(resumed.metricsPath);
  assert.equal(b.map((r) => `${r.split}${r.step}`), ["train2", "val2", "train3"]);
  assert.equal(b.map(withoutTimes), a.slice(2).map(withoutTimes));
});

test.after(() => { if (!process.env.KEEP) rmSync(TMP, { recursive: true, force: true }); });
test.run();
