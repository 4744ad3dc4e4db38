/**
 * Train the latent diffusion model (stage 2) on the latents of a trained VAE.
 *
 *     node --import tsx src/train_ldm.ts experiment=mp_20/ldm_null trainer.max_steps=2000
 *     node --import tsx src/train_ldm.ts experiment=mp_20/ldm_null +trainer.max_time_minutes=45 \
 *          +export_dir=checkpoints/mp_20/ldm callbacks.ema.decay=0.999
 *     node --import tsx src/train_ldm.ts experiment=mp_20/ldm_null ckpt_path=outputs/.../checkpoints/last
 *
 * Property-conditioned (classifier-free guidance training: the condition is replaced by the
 * null token with probability drop_prob):
 *
 *     node --import tsx src/train_ldm.ts experiment=mp_20/ldm_bandgap
 *
 * Arguments are Hydra-style overrides of configs/train_ldm.yaml (see
 * src/ldm_module/train_config.ts for the keys read). Writes under `paths.output_dir`:
 * config.yaml (resolved), metrics.jsonl (train records every `log_every_n_steps`, val records
 * every `val_check_interval`), checkpoints/last and checkpoints/best (lowest val loss, EMA
 * weights when EMA is on). The final model (EMA weights) is also written to `export_dir`.
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { initBackend } from "./nn/backend.ts";
import { tf } from "./nn/tf.ts";
import { Rng, type RngState } from "./nn/rng.ts";
import { AdamW } from "./nn/optim.ts";
import { EMA } from "./nn/ema.ts";
import { readCheckpoint, restoreCheckpoint } from "./nn/checkpoint.ts";
import { CheckpointMonitor } from "./nn/checkpoint_monitor.ts";
import { composeConfig } from "./config/loader.ts";
import { saveResolvedConfig } from "./config/save.ts";
import { ConfigError } from "./config/errors.ts";
import { batchConditionValues, conditionValues } from "./ldm_module/condition_data.ts";
import { loadDataset, type DatasetRecord } from "./data/datasets.ts";
import { CrystalDataLoader, type DataLoaderState } from "./data/loader.ts";
import { toTensors, disposeBatch, type HostBatch } from "./data/batch.ts";
import { randomTranslation } from "./data/augment.ts";
import { ProgressBar } from "./data/progress.ts";
import { loadVAE } from "./vae_module/vae_checkpoint.ts";
import { LDMModule } from "./ldm_module/ldm_module.ts";
import { NumAtomsSampler } from "./ldm_module/num_atoms.ts";
import { resolveStoredPath } from "./ldm_module/ldm_checkpoint.ts";
import { ldmTrainSettings, type LDMTrainSettings } from "./ldm_module/train_config.ts";

interface Run {
  s: LDMTrainSettings;
  config: Record<string, unknown>;
  rng: Rng;
  ldm: LDMModule;
  optimizer: AdamW;
  ema: EMA | null;
  train: CrystalDataLoader;
  val: CrystalDataLoader;
  augmentRng: Rng;
  dataRng: Rng;
  /** Property values `y` of the train / val structures, in loader order (property-conditioned runs). */
  yTrain: Float32Array | null;
  yVal: Float32Array | null;
  step: number;
  /** Best validation loss and early-stopping counter (ModelCheckpoint + EarlyStopping, mode min). */
  monitor: CheckpointMonitor;
}

async function buildLdm(s: LDMTrainSettings, rng: Rng, numAtoms: NumAtomsSampler): Promise<LDMModule> {
  const vaePath = resolveStoredPath(s.vaeCkptPath);
  const { vae } = await loadVAE(vaePath);
  if (s.ldmCkptPath) {
    console.log(`initialising from LDM ${s.ldmCkptPath}`);
    const ldm = await LDMModule.loadFromCheckpoint(s.ldmCkptPath, { vae, vaeCkptPath: vaePath });
    ldm.numAtomsSampler = numAtoms;
    checkCondition(ldm, s);
    return ldm.train();
  }
  return new LDMModule({ vae, hparams: s.hparams, rng: rng.fork("init"), numAtoms, vaeCkptPath: vaePath }).train();
}

/** Fine-tuning keeps the checkpoint's model: it must carry the condition the run trains with. */
function checkCondition(ldm: LDMModule, s: LDMTrainSettings): void {
  const want = JSON.stringify(s.hparams.denoiser.condition);
  if (JSON.stringify(ldm.hparams.denoiser.condition) === want) return;
  throw new ConfigError(
    `the LDM checkpoint has condition ${JSON.stringify(ldm.hparams.denoiser.condition)} but the run configures ${want}; ` +
      "fine-tune a checkpoint trained with the same condition, or set ldm_ckpt_path: null to train from scratch.",
    "ldm_module.ldm_ckpt_path",
  );
}

/** The split's records (the first `data.limit`), and for a property-conditioned run their `y`. */
async function loadSplit(s: LDMTrainSettings, split: string): Promise<{ records: DatasetRecord[]; y: Float32Array | null }> {
  const all = (await loadDataset(s.dataset, split, s.limit > 0 ? { limit: s.limit } : {})).records;
  if (!s.conditionProperty) return { records: all, y: null };
  const { records, y, skipped } = conditionValues(all, s.conditionProperty);
  if (skipped > 0) console.log(`${split}: ${skipped} of ${all.length} rows have no ${s.conditionProperty} value and are skipped`);
  return { records, y };
}

async function setUp(s: LDMTrainSettings, config: Record<string, unknown>): Promise<Run> {
  // First: a bad patience is a ConfigError before any data or model is loaded.
  const monitor = new CheckpointMonitor({ monitor: "val/loss", mode: "min", patience: s.patience });
  mkdirSync(join(s.outputDir, "checkpoints"), { recursive: true });
  const rng = new Rng(s.seed);
  const trainSplit = await loadSplit(s, "train");
  const valSplit = await loadSplit(s, "val");
  const trainStructures = trainSplit.records.map((r) => r.structure);
  const valStructures = valSplit.records.map((r) => r.structure);
  const ldm = await buildLdm(s, rng, NumAtomsSampler.fromStructures(trainStructures));
  const common = { batchSize: s.batchSize, maxAtoms: ldm.maxAtoms, bucketBySize: true };
  const dataRng = rng.fork("data");
  const train = new CrystalDataLoader(trainStructures, { ...common, shuffle: true, rng: dataRng });
  const val = new CrystalDataLoader(valStructures, { ...common, shuffle: false });
  const optimizer = new AdamW(ldm, { lr: s.lr, weightDecay: s.weightDecay });
  const ema = s.emaDecay !== null ? new EMA(ldm, s.emaDecay) : null;
  const run: Run = { s, config, rng, ldm, optimizer, ema, train, val, augmentRng: rng.fork("augment"), dataRng, yTrain: trainSplit.y, yVal: valSplit.y, step: 0, monitor };
  if (s.ckptPath) await resume(run, s.ckptPath);
  saveResolvedConfig(config as never, s.outputDir);
  console.log(
    `train ${trainStructures.length} structures (${train.length} batches/epoch), val ${valStructures.length}; ` +
      `${ldm.numParameters(true)} trainable parameters; latent std ${ldm.latentStd.toFixed(4)}`,
  );
  return run;
}

async function resume(run: Run, dir: string): Promise<void> {
  const ckpt = await readCheckpoint(dir);
  restoreCheckpoint(ckpt, { module: run.ldm, optimizer: run.optimizer, rng: run.rng, ...(run.ema ? { ema: run.ema } : {}) });
  const m = ckpt.meta.meta as Record<string, unknown>;
  if (m.loader) run.train.setState(m.loader as DataLoaderState);
  for (const [key, rng] of [["augmentRng", run.augmentRng], ["dataRng", run.dataRng], ["noiseRng", run.ldm.noiseRng]] as const) {
    if (m[key]) rng.setState(m[key] as RngState);
  }
  run.monitor.restore({ best: m.bestVal, staleValidations: m.staleValidations });
  run.step = ckpt.meta.step;
  console.log(`resumed from ${ckpt.dir} at step ${run.step}`);
}

async function save(run: Run, name: string): Promise<void> {
  await run.ldm.saveCheckpoint(join(run.s.outputDir, "checkpoints", name), {
    step: run.step,
    optimizer: run.optimizer,
    ema: run.ema ?? undefined,
    rng: run.rng,
    config: { seed: run.s.seed, data: run.config.data, trainer: run.config.trainer },
    meta: { loader: run.train.getState(), augmentRng: run.augmentRng.getState(), dataRng: run.dataRng.getState(), bestVal: run.monitor.best, staleValidations: run.monitor.staleValidations },
  });
}

function logMetrics(run: Run, record: Record<string, unknown>): void {
  appendFileSync(join(run.s.outputDir, "metrics.jsonl"), JSON.stringify({ step: run.step, epoch: run.train.epochIndex, ...record }) + "\n");
}

/**
 * Mean loss terms over (the first `valBatches` of) the validation split, with a fixed noise
 * stream so that successive validations differ only by the weights (EMA weights when on).
 */
function validate(run: Run): Record<string, number> {
  const { ldm } = run;
  const saved = ldm.noiseRng.getState();
  ldm.noiseRng.setState(new Rng(run.s.seed, "validation").getState());
  run.ema?.swapIn();
  ldm.eval();
  const sums: Record<string, number> = {};
  let count = 0;
  let batches = 0;
  try {
    for (const host of run.val.epoch()) {
      if (run.s.valBatches > 0 && batches++ >= run.s.valBatches) continue; // finish the epoch, so the next starts fresh
      const batch = toTensors(host);
      const terms = ldm.evaluateLosses(batch, batchConditionValues(run.val, host, run.yVal));
      disposeBatch(batch);
      for (const [k, v] of Object.entries(terms)) sums[k] = (sums[k] ?? 0) + v * host.batchSize;
      count += host.batchSize;
    }
  } finally {
    run.ema?.swapOut();
    ldm.train();
    ldm.noiseRng.setState(saved);
  }
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / count]));
}

function trainStep(run: Run, host: HostBatch): Record<string, number> {
  if (run.s.translate) randomTranslation(host, run.augmentRng);
  const batch = toTensors(host);
  try {
    const terms = run.ldm.trainingStep(batch, run.optimizer, { gradClip: run.s.gradClip, y: batchConditionValues(run.train, host, run.yTrain) });
    run.ema?.update();
    return terms;
  } finally {
    disposeBatch(batch);
  }
}

async function afterStep(run: Run, terms: Record<string, number>, t0: number): Promise<boolean> {
  const { s } = run;
  if (run.step % s.logEvery === 0) {
    logMetrics(run, { split: "train", ...terms, lr: run.optimizer.lr, time_s: (performance.now() - t0) / 1000, num_tensors: tf.memory().numTensors });
  }
  if (run.step % s.valCheckInterval !== 0) return false;
  const val = validate(run);
  logMetrics(run, { split: "val", ...val });
  console.log(`step ${run.step} train loss ${terms.loss.toFixed(4)} | val loss ${val.loss.toFixed(4)} mse ${val.mse.toFixed(4)} vb ${val.vb.toFixed(4)} (best ${run.monitor.best.toFixed(4)})`);
  const { improved, shouldStop } = run.monitor.update(val.loss);
  if (improved) await save(run, "best");
  await save(run, "last");
  return shouldStop;
}

async function trainLoop(run: Run): Promise<string> {
  const { s } = run;
  const t0 = performance.now();
  const budgetMs = s.maxTimeMinutes > 0 ? s.maxTimeMinutes * 60_000 : Infinity;
  const bar = new ProgressBar({ label: "train_ldm", unit: "steps" });
  for (const host of run.train.forever()) {
    if (run.step >= s.maxSteps) return "max_steps reached";
    if (performance.now() - t0 > budgetMs) return `time budget of ${s.maxTimeMinutes} min spent`;
    const terms = trainStep(run, host);
    run.step += 1;
    if (!Number.isFinite(terms.loss)) throw new Error(`train_ldm: loss became ${terms.loss} at step ${run.step}; lower ldm_module.optimizer.lr.`);
    bar.update(run.step, run.step / s.maxSteps);
    if (await afterStep(run, terms, t0)) return run.monitor.stopReason();
  }
  return "data exhausted";
}

async function finish(run: Run, why: string, seconds: number): Promise<void> {
  console.log(`stopping: ${why} (step ${run.step}, ${(seconds / 60).toFixed(1)} min)`);
  const final = validate(run);
  logMetrics(run, { split: "val", final: true, ...final });
  await save(run, "last");
  if (!run.s.exportDir) return;
  run.ema?.swapIn();
  try {
    await run.ldm.saveCheckpoint(run.s.exportDir, {
      step: run.step,
      config: { seed: run.s.seed, data: run.config.data, trainer: run.config.trainer, ema_decay: run.s.emaDecay },
      meta: { finalVal: final, trainedSteps: run.step, trainingMinutes: seconds / 60, weights: run.ema ? "ema" : "raw" },
    });
  } finally {
    run.ema?.swapOut();
  }
  console.log(`exported ${run.ema ? "EMA " : ""}weights to ${run.s.exportDir}; final val loss ${final.loss.toFixed(4)}`);
}

async function main(): Promise<void> {
  const config = composeConfig({ configName: "train_ldm", overrides: process.argv.slice(2) });
  const s = ldmTrainSettings(config);
  const info = await initBackend();
  console.log(`backend ${info.backend} (${info.threads} threads)`);
  const run = await setUp(s, config);
  const t0 = performance.now();
  const why = await trainLoop(run);
  await finish(run, why, (performance.now() - t0) / 1000);
}

main().catch((e) => {
  console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
  process.exit(1);
});
