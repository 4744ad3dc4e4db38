/**
 * GRPO learns: `train_rl experiment=alex_mp_20_bandgap/rl_bandgap` (the seed's PredictorReward
 * towards a 3 eV band gap, scored by the bundled band-gap predictor) at a small size — 4 prompts
 * × 4 samples, 10 DDIM steps, 8 updates at the experiment's lr — must raise the raw reward
 * −(gap − 3)² both on the training batches and on the fixed validation samples (same prompts,
 * same noise before and after, so the change comes from the policy alone).
 *
 * This is the end-to-end check that rollout → rewards → advantages → calculateLoss → AdamW
 * moves the policy the right way: a sign error anywhere (advantages, ratio, surrogate) makes
 * the reward fall instead. The DNG reward is not used here because on this LDM it does not move
 * measurably in a few steps (README "Reading a GRPO run").
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { composeConfig } from "../../src/config/loader.ts";
import { runTrainRL } from "../../src/train_rl.ts";

const TMP = mkdtempSync(join(tmpdir(), "rl-learning-"));
const STEPS = 8;
const SEED = Number(process.env.LEARNING_SEED ?? 0);

type Rec = Record<string, number | string> & { step: number; split: string };
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

test("GRPO on the band-gap reward: the raw reward rises on training batches and on fixed validation samples", async () => {
  const config = composeConfig({
    configName: "train_rl",
    overrides: [
      "experiment=alex_mp_20_bandgap/rl_bandgap", "data.batch_size=4", "+data.val_batch_size=4", "rl_module.rl_configs.num_group_samples=4",
      "rl_module.sampling_configs.sampling_steps=10", `trainer.max_steps=${STEPS}`, `trainer.val_check_interval=${STEPS}`, `seed=${SEED}`,
      `paths.output_dir=${join(TMP, "run")}`,
    ],
  });
  const result = await runTrainRL(config);
  assert.is(result.step, STEPS);
  const records: Rec[] = readFileSync(result.metricsPath, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const train = records.filter((r) => r.split === "train").map((r) => r["train/reward_raw"] as number);
  const val = records.filter((r) => r.split === "val").map((r) => r["val/reward_raw"] as number);
  const [first, last] = [mean(train.slice(0, 3)), mean(train.slice(-3))];
  console.log(`  train/reward_raw steps 1–3 ${first.toFixed(3)} → ${STEPS - 2}–${STEPS} ${last.toFixed(3)}; val/reward_raw ${val.map((v) => v.toFixed(3)).join(" → ")}`);
  assert.is(val.length, 2);
  assert.ok(last > first + 0.5, `train/reward_raw did not rise: ${train.map((v) => v.toFixed(2))}`);
  assert.ok(val[1] > val[0] + 0.5, `val/reward_raw did not rise: ${val}`);
});

test.after(() => { if (!process.env.KEEP) rmSync(TMP, { recursive: true, force: true }); });

test.run();
