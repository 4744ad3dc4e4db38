/**
 * `npm start`: the project's main job on bundled defaults — GRPO fine-tuning of the bundled
 * MP-20 LDM with the seed's DNG reward, `train_rl experiment=mp_20/rl_dng`, bounded to a few
 * steps so it finishes in a few minutes on a laptop CPU:
 *
 *     npm start                                   # 3 steps, outputs/main_rl_<time>/
 *     npm start -- trainer.max_steps=20           # the experiment's full CPU run (≈ 10 min)
 *     npm start -- paths.output_dir=outputs/mine  # any train_rl override works
 *
 * It prints where the metrics (metrics.jsonl), the resolved config and the checkpoints are;
 * see the experiment file's header for which logged reward shows learning.
 */
import { join } from "node:path";
import { composeConfig } from "./config/loader.ts";
import { parseCliArgs } from "./config/overrides.ts";
import { runTrainRL } from "./train_rl.ts";
import { formatRunSummary, summarizeMetricsFile } from "./rl_module/run_summary.ts";

/** Steps of the default bounded run (validation every 5 steps would not fire; see VAL_EVERY). */
const DEFAULT_STEPS = 3;
const VAL_EVERY = 3;

const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const cli = parseCliArgs(process.argv.slice(2));
const defaults = [
  "experiment=mp_20/rl_dng",
  `trainer.max_steps=${DEFAULT_STEPS}`,
  `trainer.val_check_interval=${VAL_EVERY}`,
  `paths.output_dir=${join("outputs", `main_rl_${stamp}`)}`,
];
// The user's overrides come last, so they win over these defaults.
const config = composeConfig({ configName: "train_rl", overrides: [...defaults, ...cli.overrides] });
const result = await runTrainRL(config);
console.log(`\nnpm start: ${result.reason} after ${result.step} GRPO steps.`);
for (const line of formatRunSummary(summarizeMetricsFile(result.metricsPath))) console.log(`  ${line}`);
console.log(`  metrics:     ${result.metricsPath}  (one JSON line per step; val/reward_raw at step 0 and every ${VAL_EVERY} steps)`);
console.log(`  config:      ${join(result.outputDir, "config.yaml")}`);
console.log(`  checkpoints: ${result.checkpointDir}  (each loads as an LDM; resume with npm run train:rl -- ckpt_path=<dir>)`);
process.exit(0);
