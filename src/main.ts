/**
 * `npm start`: the project's main job on bundled defaults. Until the RL stage lands it runs the
 * MP-20 data set report (see dataset_report.ts); it will become `train_rl experiment=mp_20/rl_dng`.
 */
import { join } from "node:path";
import { runDatasetReport } from "./dataset_report.ts";

const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const outputDir = process.argv.find((a) => a.startsWith("paths.output_dir="))?.split("=")[1] ?? join("outputs", `dataset_report_${stamp}`);
await runDatasetReport({ outputDir });
