/**
 * GRPO fine-tuning of the LDM (stage 3).
 *
 *     npm run train:rl -- experiment=mp_20/rl_dng trainer.max_steps=20
 *     npm run train:rl -- experiment=mp_20/rl_dng ckpt_path=outputs/train_rl/<run>/checkpoints/last
 *
 * Composes configs/train_rl.yaml (Hydra-style overrides), builds the RLModule from
 * `rl_module` (the seed's keys and `_target_` names), and runs `trainingStep` on prompt
 * batches of `data.batch_size` training structures (their sizes; their composition for a
 * composition-conditioned LDM). Writes under `paths.output_dir`:
 *   config.yaml      the resolved config;
 *   metrics.jsonl    one record per training step (reward, `train/reward/<component>`, loss,
 *                    surrogate, kl, entropy, ratio, log_ratio, clip_frac, per-step arrays
 *                    `steps/*`, advantages, grad norm, lr, timings, tensor count) and one per
 *                    validation (`val/reward`, `val/reward/<component>`);
 *   checkpoints/     `last` at every validation, `best` by `val/reward`, `step_<N>` with
 *                    callbacks.model_checkpoint.every_n_train_steps; each loads as an LDM.
 * Early stopping after `callbacks.early_stopping.patience` validations without improvement.
 * Ctrl-C finishes the current step, writes checkpoints/last and exits (resume with ckpt_path=).
 * A resumed run reproduces the uninterrupted one exactly (same backend).
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { initBackend } from "./nn/backend.ts";
import { tf } from "./nn/tf.ts";
import { Rng, type RngState } from "./nn/rng.ts";
import { readCheckpoint } from "./nn/checkpoint.ts";
import { CheckpointMonitor } from "./nn/checkpoint_monitor.ts";
import { loadDataset } from "./data/datasets.ts";
import { CrystalDataLoader, type DataLoaderState } from "./data/loader.ts";
import { toTensors, disposeBatch, type HostBatch } from "./data/batch.ts";
import { formatProgressLine, progressEnabled } from "./data/progress.ts";
import { parseCliArgs } from "./config/overrides.ts";
import { composeConfig, loadCustomModules } from "./config/loader.ts";
import { instantiate } from "./config/instantiate.ts";
import { saveResolvedConfig, configToYaml } from "./config/save.ts";
import { ConfigError } from "./config/errors.ts";
import type { ConfigObject } from "./config/tree.ts";
import { RLModule, type StepRecord } from "./rl_module/rl_module.ts";
import { rlTrainSettings, type RLTrainSettings } from "./rl_module/train_settings.ts";
import { formatRunSummary, summarizeMetricsFile } from "./rl_module/run_summary.ts";

interface Run {
  s: RLTrainSettings;
  config: ConfigObject;
  rl: RLModule;
  train: CrystalDataLoader;
  dataRng: Rng;
  val: HostBatch;
  step: number;
  /** Best `monitor` value and early-stopping counter (stored in checkpoints as `best`, `staleValidations`). */
  monitor: CheckpointMonitor;
  interrupted: boolean;
}

/** Training and validation prompts: structures the LDM can hold (≤ max_atoms sites). */
async function loadPrompts(s: RLTrainSettings, maxAtoms: number, rng: Rng): Promise<{ train: CrystalDataLoader; val: HostBatch }> {
  const read = async (split: string) =>
    (await loadDataset(s.dataset, split, { root: s.dataRoot })).records.map((r) => r.structure).filter((st) => st.length <= maxAtoms);
  const train = new CrystalDataLoader(await read("train"), { batchSize: s.batchSize, shuffle: true, rng, maxAtoms });
  const valLoader = new CrystalDataLoader((await read("val")).slice(0, s.valBatchSize), { batchSize: s.valBatchSize, maxAtoms });
  const val = valLoader.epoch().next().value as HostBatch;
  return { train, val };
}

async function setUp(config: ConfigObject): Promise<Run> {
  const s = rlTrainSettings(config);
  await loadCustomModules(config);
  const rl = await instantiate<RLModule>(config.rl_module, { extraKwargs: { seed: s.seed }, path: "rl_module" });
  if (!(rl instanceof RLModule)) throw new ConfigError("must instantiate to an RLModule (_target_: src.rl_module.rl_module.RLModule).", "rl_module._target_");
  const samples = rl.rolloutSize(s.batchSize);
  if (rl.rlConfigs.numInnerBatch > samples) {
    throw new ConfigError(`${rl.rlConfigs.numInnerBatch} inner batches for ${samples} samples per step (data.batch_size × num_group_samples); lower it or raise the batch.`, "rl_module.rl_configs.num_inner_batch");
  }
  const monitor = new CheckpointMonitor({ monitor: s.monitor, mode: s.mode, patience: s.patience });
  const dataRng = new Rng(s.seed).fork("data");
  const { train, val } = await loadPrompts(s, rl.ldm.maxAtoms, dataRng);
  mkdirSync(s.checkpointDir, { recursive: true });
  const run: Run = { s, config, rl, train, dataRng, val, step: 0, monitor, interrupted: false };
  if (s.ckptPath) await resume(run, s.ckptPath);
  saveResolvedConfig(config, s.outputDir, { header: [`node --import tsx src/train_rl.ts ${process.argv.slice(2).join(" ")}`] });
  console.log(`${train.structures.length} prompt structures, ${s.batchSize} prompts × ${rl.rlConfigs.numGroupSamples} samples per step; ${rl.ldm.denoiser.numParameters()} trainable parameters`);
  return run;
}

async function resume(run: Run, dir: string): Promise<void> {
  const ckpt = await readCheckpoint(dir);
  const meta = run.rl.restoreTrainingState(ckpt);
  if (meta.loader) run.train.setState(meta.loader as DataLoaderState);
  if (meta.dataRng) run.dataRng.setState(meta.dataRng as RngState);
  run.monitor.restore({ best: meta.best, staleValidations: meta.staleValidations });
  run.step = ckpt.meta.step;
  console.log(`resumed from ${ckpt.dir} at step ${run.step}`);
}

async function save(run: Run, name: string): Promise<void> {
  const rlSection = run.config.rl_module as ConfigObject;
  await run.rl.saveCheckpoint(join(run.s.checkpointDir, name), {
    step: run.step,
    config: run.config as Record<string, unknown>,
    rewardConfig: rlSection.reward_fn,
    meta: { loader: run.train.getState(), dataRng: run.dataRng.getState(), ...run.monitor.state() },
  });
}

function logRecord(run: Run, split: "train" | "val", record: StepRecord | Record<string, number>): void {
  appendFileSync(run.s.metricsPath, JSON.stringify({ step: run.step, split, ...record }) + "\n");
}

/** Validation, checkpoints, early stopping; returns a reason to stop, or null. */
async function validateAndSave(run: Run): Promise<string | null> {
  const batch = toTensors(run.val);
  const val = await run.rl.validationStep(batch, { seed: run.s.seed }).finally(() => disposeBatch(batch));
  logRecord(run, "val", val);
  const value = val[run.s.monitor];
  if (value === undefined) throw new ConfigError(`validation reports no "${run.s.monitor}"; monitor one of ${Object.keys(val).join(", ")}.`, "callbacks.early_stopping.monitor");
  console.log(`\nstep ${run.step}: ${run.s.monitor} ${value.toFixed(4)} (${run.monitor.describeBest()})`);
  const { improved, shouldStop } = run.monitor.update(value);
  if (improved) await save(run, "best");
  await save(run, "last");
  return shouldStop ? run.monitor.stopReason() : null;
}

/** One progress line: bar, step count, reward and KL (redrawn on a TTY, one line per step otherwise). */
function progress(run: Run, t0: number, startStep: number, record: StepRecord): void {
  const elapsed = (performance.now() - t0) / 1000;
  const done = run.step;
  const fraction = Number.isFinite(run.s.maxSteps) ? done / run.s.maxSteps : undefined;
  const rate = (done - startStep) / Math.max(elapsed, 1e-9);
  const line = formatProgressLine({ done, fraction, rate, elapsedSeconds: elapsed }, { label: "train_rl", unit: "steps" });
  const text = `${line}  reward ${(record.reward as number).toFixed(4)}  kl ${(record.kl as number).toExponential(2)}  loss ${(record.loss as number).toExponential(2)}`;
  if (progressEnabled()) process.stderr.write(`\r${text}`);
  else console.log(text);
}

/** The untrained policy's validation (step 0 of a fresh run): the baseline every later `val/*` is compared with. */
async function baselineValidation(run: Run): Promise<void> {
  const batch = toTensors(run.val);
  const val = await run.rl.validationStep(batch, { seed: run.s.seed }).finally(() => disposeBatch(batch));
  logRecord(run, "val", val);
  console.log(`step 0: ${run.s.monitor} ${val[run.s.monitor]?.toFixed(4)} (baseline, before any update)`);
}

async function trainLoop(run: Run): Promise<string> {
  const t0 = performance.now();
  const start = run.step;
  // Validation draws from its own fixed-seed generator, so this changes no training number.
  if (start === 0) await baselineValidation(run);
  for (const host of run.train.forever()) {
    if (run.step >= run.s.maxSteps) return "max_steps reached";
    const batch = toTensors(host);
    const record = await run.rl.trainingStep(batch).finally(() => disposeBatch(batch));
    run.step += 1;
    logRecord(run, "train", { ...record, num_tensors: tf.memory().numTensors });
    progress(run, t0, start, record);
    const stop = run.step % run.s.valEvery === 0 ? await validateAndSave(run) : null;
    // After validation, so the kept checkpoint carries the best value seen so far.
    if (run.s.keepEvery > 0 && run.step % run.s.keepEvery === 0) await save(run, `step_${run.step}`);
    if (stop) return stop;
    if (run.interrupted) {
      await save(run, "last");
      return `interrupted: resumable checkpoint written to ${join(run.s.checkpointDir, "last")}`;
    }
  }
  return "data exhausted";
}

/** Ctrl-C: finish the step in flight, write checkpoints/last, stop; a second Ctrl-C exits at once. */
function handleInterrupts(run: Run): void {
  process.on("SIGINT", () => {
    if (run.interrupted) process.exit(130);
    run.interrupted = true;
    console.error("\ninterrupt: finishing the current step, then writing a resumable checkpoint (Ctrl-C again to abort)");
  });
}

/** What a finished train_rl run reports. */
export interface TrainRLResult {
  /** Why it stopped (max_steps, early stopping, interrupt, data exhausted). */
  reason: string;
  step: number;
  outputDir: string;
  metricsPath: string;
  checkpointDir: string;
}

/**
 * Runs train_rl on a composed config (the CLI's work without the argument parsing and the
 * process exit): backend, set-up (or resume), training loop, final checkpoint.
 */
export async function runTrainRL(config: ConfigObject): Promise<TrainRLResult> {
  const info = await initBackend();
  console.log(`backend ${info.backend} (${info.threads} threads)`);
  const run = await setUp(config);
  handleInterrupts(run);
  try {
    const reason = await trainLoop(run);
    if (!run.interrupted && run.step % run.s.valEvery !== 0) await save(run, "last");
    return { reason, step: run.step, outputDir: run.s.outputDir, metricsPath: run.s.metricsPath, checkpointDir: run.s.checkpointDir };
  } finally {
    run.rl.dispose();
  }
}

/** The command line: `train_rl [experiment=...] [key=value ...] [ckpt_path=DIR] [--cfg job]`. */
export async function trainRLCli(argv: string[]): Promise<TrainRLResult | null> {
  const cli = parseCliArgs(argv);
  if (cli.help) {
    console.log("usage: npm run train:rl -- [experiment=mp_20/rl_dng] [key.sub=value ...] [ckpt_path=DIR] [--cfg job]");
    return null;
  }
  const config = composeConfig({ configName: cli.configName ?? "train_rl", configDir: cli.configDir, overrides: cli.overrides });
  if (cli.printConfig) {
    console.log(configToYaml(config));
    return null;
  }
  const result = await runTrainRL(config);
  console.log(`\nstopping: ${result.reason} (step ${result.step}); outputs in ${result.outputDir}`);
  for (const line of formatRunSummary(summarizeMetricsFile(result.metricsPath))) console.log(`  ${line}`);
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  trainRLCli(process.argv.slice(2)).then(
    () => process.exit(0),
    (e) => {
      console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
      process.exit(1);
    },
  );
}
