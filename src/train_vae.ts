/**
 * Train the crystal VAE (stage 1).
 *
 *     node --import tsx src/train_vae.ts experiment=mp_20/vae_dng trainer.gradient_clip_val=1.0 \
 *          +trainer.max_time_minutes=40 +export_dir=checkpoints/mp_20/vae
 *     node --import tsx src/train_vae.ts ... ckpt_path=outputs/train_vae/<run>/checkpoints/last
 *
 * Configuration is composed from configs/train_vae.yaml by src/config (Hydra-style overrides;
 * the keys read are listed in src/vae_module/train_config.ts). Writes under the run's
 * `paths.output_dir`: config.yaml (resolved), metrics.jsonl (one JSON object per logged train
 * step and per validation), checkpoints/last and checkpoints/best (lowest validation loss).
 * At the end the latent std is measured on the whole training set (latent_stats.ts) and the
 * final checkpoint is saved (and written to `export_dir` when given).
 */
import { appendFileSync, mkdirSync, writeFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import YAML from "yaml";
import { initBackend } from "./nn/backend.ts";
import { tf } from "./nn/tf.ts";
import { Rng } from "./nn/rng.ts";
import { AdamW } from "./nn/optim.ts";
import { readCheckpoint, restoreCheckpoint } from "./nn/checkpoint.ts";
import { CheckpointMonitor } from "./nn/checkpoint_monitor.ts";
import { loadDataset } from "./data/datasets.ts";
import { CrystalDataLoader, type DataLoaderState } from "./data/loader.ts";
import { toTensors, disposeBatch, type HostBatch } from "./data/batch.ts";
import { randomTranslation } from "./data/augment.ts";
import { ProgressBar } from "./data/progress.ts";
import type { Structure } from "./crystal/structure.ts";
import { VAEModule } from "./vae_module/vae_module.ts";
import { measureLatentStats } from "./vae_module/latent_stats.ts";
import { saveVAE } from "./vae_module/vae_checkpoint.ts";
import { loadTrainConfig, type VAETrainSettings } from "./vae_module/train_config.ts";
import type { VAEConfig } from "./vae_module/config.ts";
import { parseCliArgs } from "./config/overrides.ts";
import type { ConfigObject } from "./config/tree.ts";

interface Run {
  s: VAETrainSettings;
  model: VAEConfig;
  config: ConfigObject;
  dir: string;
  rng: Rng;
  vae: VAEModule;
  optimizer: AdamW;
  train: CrystalDataLoader;
  val: CrystalDataLoader;
  augmentRng: Rng;
  dataRng: Rng;
  step: number;
  /** Best validation loss and early-stopping counter (ModelCheckpoint + EarlyStopping, mode min). */
  monitor: CheckpointMonitor;
}

/** Writes a file via a temporary name + rename (never a half-written file). */
function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

async function loadStructures(s: VAETrainSettings, maxAtoms: number): Promise<{ train: Structure[]; val: Structure[] }> {
  const root = { root: s.data.root };
  const limit = s.data.limit > 0 ? { limit: s.data.limit } : {};
  const train = (await loadDataset(s.data.dataset, "train", { ...root, ...limit })).records.map((r) => r.structure);
  for (const spec of s.data.extraTrain) {
    const [name, split] = spec.split("/");
    const extra = (await loadDataset(name, split, root)).records.map((r) => r.structure).filter((st) => st.length <= maxAtoms);
    console.log(`extra training data ${spec}: ${extra.length} structures with ≤ ${maxAtoms} sites`);
    train.push(...extra);
  }
  const val = (await loadDataset(s.data.dataset, "val", root)).records.map((r) => r.structure);
  return { train: s.data.limit > 0 ? train.slice(0, s.data.limit) : train, val };
}

async function setUp(s: VAETrainSettings, model: VAEConfig, config: ConfigObject): Promise<Run> {
  // First: a bad patience is a ConfigError before any data is read.
  const monitor = new CheckpointMonitor({ monitor: "val/loss", mode: "min", patience: s.trainer.patience });
  const dir = s.outputDir;
  mkdirSync(s.checkpointDir, { recursive: true });
  const rng = new Rng(s.seed);
  const data = await loadStructures(s, model.maxAtoms);
  const common = { batchSize: s.data.batchSize, maxAtoms: model.maxAtoms, bucketBySize: true };
  const dataRng = rng.fork("data");
  const train = new CrystalDataLoader(data.train, { ...common, shuffle: true, rng: dataRng });
  const val = new CrystalDataLoader(data.val, { ...common, shuffle: false });
  const vae = new VAEModule(model, rng.fork("init"));
  const optimizer = new AdamW(vae, { lr: s.optimizer.lr, weightDecay: s.optimizer.weightDecay });
  const run: Run = { s, model, config, dir, rng, vae, optimizer, train, val, augmentRng: rng.fork("augment"), dataRng, step: 0, monitor };
  if (s.resume) await resume(run, s.resume);
  writeAtomic(join(dir, "config.yaml"), YAML.stringify(config));
  console.log(`train ${data.train.length} structures (${train.length} batches/epoch), val ${data.val.length}; ${vae.numParameters()} parameters`);
  return run;
}

async function resume(run: Run, dir: string): Promise<void> {
  const ckpt = await readCheckpoint(dir);
  restoreCheckpoint(ckpt, { module: run.vae, optimizer: run.optimizer, rng: run.rng });
  const m = ckpt.meta.meta as Record<string, unknown>;
  if (m.loader) run.train.setState(m.loader as DataLoaderState);
  if (m.augmentRng) run.augmentRng.setState(m.augmentRng as ReturnType<Rng["getState"]>);
  if (m.dataRng) run.dataRng.setState(m.dataRng as ReturnType<Rng["getState"]>);
  if (m.noiseRng) run.vae.noiseRng.setState(m.noiseRng as ReturnType<Rng["getState"]>);
  run.monitor.restore({ best: m.bestVal, staleValidations: m.staleValidations });
  run.step = ckpt.meta.step;
  console.log(`resumed from ${ckpt.dir} at step ${run.step}`);
}

async function save(run: Run, name: string, extraMeta: Record<string, unknown> = {}): Promise<void> {
  await saveVAE(join(run.s.checkpointDir, name), run.vae, {
    step: run.step,
    optimizer: run.optimizer,
    rng: run.rng,
    config: { ...run.config },
    meta: { loader: run.train.getState(), augmentRng: run.augmentRng.getState(), dataRng: run.dataRng.getState(), bestVal: run.monitor.best, staleValidations: run.monitor.staleValidations, ...extraMeta },
  });
}

function logMetrics(run: Run, record: Record<string, unknown>): void {
  appendFileSync(run.s.metricsPath, JSON.stringify({ step: run.step, epoch: run.train.epochIndex, ...record }) + "\n");
}

/** Mean of every loss term over the validation set (posterior means: deterministic). */
function validate(run: Run): Record<string, number> {
  const sums: Record<string, number> = {};
  let count = 0;
  run.vae.eval();
  for (const host of run.val.epoch()) {
    const batch = toTensors(host);
    const terms = run.vae.evaluateLosses(batch);
    disposeBatch(batch);
    for (const [k, v] of Object.entries(terms)) sums[k] = (sums[k] ?? 0) + v * host.batchSize;
    count += host.batchSize;
  }
  run.vae.train();
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / count]));
}

function trainStep(run: Run, host: HostBatch): Record<string, number> {
  if (run.s.augmentTranslate) randomTranslation(host, run.augmentRng);
  const batch = toTensors(host);
  try {
    return run.vae.trainingStep(batch, run.optimizer, { gradClip: run.s.trainer.gradClip });
  } finally {
    disposeBatch(batch);
  }
}

/** Validation, best/last checkpoints and early-stopping bookkeeping. Returns true to stop. */
async function validateAndSave(run: Run): Promise<boolean> {
  const val = validate(run);
  logMetrics(run, { split: "val", ...val });
  console.log(`step ${run.step} val loss ${val.loss.toFixed(4)} (best ${run.monitor.best.toFixed(4)})`);
  const { improved, shouldStop } = run.monitor.update(val.loss);
  if (improved) await save(run, "best");
  await save(run, "last");
  return shouldStop;
}

/** Logging and validation after a step; returns a reason to stop, or null. */
async function afterStep(run: Run, terms: Record<string, number>, t0: number): Promise<string | null> {
  const { trainer } = run.s;
  if (run.step % trainer.logEvery === 0) {
    logMetrics(run, { split: "train", ...terms, lr: run.optimizer.lr, time_s: (performance.now() - t0) / 1000, num_tensors: tf.memory().numTensors });
  }
  if (run.step % Math.max(trainer.logEvery, 25) === 0) {
    console.log(`step ${run.step} loss ${terms.loss.toFixed(4)} types ${terms.atom_types.toFixed(3)} coords ${terms.frac_coords.toFixed(3)} lengths ${terms.lengths.toFixed(3)} angles ${terms.angles.toFixed(4)} kl ${terms.kl.toFixed(2)}`);
  }
  if (run.step % trainer.valEvery === 0 && (await validateAndSave(run))) {
    return run.monitor.stopReason();
  }
  return null;
}

async function trainLoop(run: Run): Promise<string> {
  const { trainer } = run.s;
  const t0 = performance.now();
  const budgetMs = trainer.maxTimeMinutes > 0 ? trainer.maxTimeMinutes * 60_000 : Infinity;
  const bar = new ProgressBar({ label: "train_vae", unit: "steps" });
  run.vae.train();
  const batches = run.train.forever();
  for (;;) {
    // Check before drawing the next batch, so a saved loader position is never one batch ahead.
    if (run.step >= trainer.maxSteps) return "max_steps reached";
    if (performance.now() - t0 > budgetMs) return `time budget of ${trainer.maxTimeMinutes} min spent`;
    const terms = trainStep(run, batches.next().value as HostBatch);
    run.step += 1;
    if (!Number.isFinite(terms.loss)) throw new Error(`train_vae: loss became ${terms.loss} at step ${run.step}; lower vae_module.optimizer.lr or check the data.`);
    bar.update(run.step, Number.isFinite(trainer.maxSteps) ? run.step / trainer.maxSteps : undefined);
    const stop = await afterStep(run, terms, t0);
    if (stop) return stop;
  }
}

async function finish(run: Run, why: string): Promise<void> {
  console.log(`stopping: ${why} (step ${run.step})`);
  const final = validate(run);
  logMetrics(run, { split: "val", ...final });
  const ordered = new CrystalDataLoader(run.train.structures, { batchSize: run.s.data.batchSize, niggli: false, bucketBySize: true });
  const stats = measureLatentStats(run.vae, ordered.epoch());
  run.vae.latentStd = stats.std;
  logMetrics(run, { split: "latent_stats", ...stats });
  console.log(`latent std ${stats.std.toFixed(4)} (mean ${stats.mean.toFixed(4)}, ${stats.count} entries); final val loss ${final.loss.toFixed(4)}`);
  await save(run, "last", { finalVal: final, latentStats: stats });
  if (run.s.exportDir) {
    // The bundled copy: weights + config + latent stats, no optimizer state (a third the size).
    await saveVAE(run.s.exportDir, run.vae, { step: run.step, config: { ...run.config }, meta: { finalVal: final, latentStats: stats, trainedSteps: run.step } });
    console.log(`exported to ${run.s.exportDir}`);
  }
}

async function main(): Promise<void> {
  const cli = parseCliArgs(process.argv.slice(2));
  const { settings, model, config } = loadTrainConfig(cli.overrides, cli.configDir);
  if (cli.printConfig) {
    console.log(YAML.stringify(config));
    return;
  }
  const info = await initBackend();
  console.log(`backend ${info.backend} (${info.threads} threads)`);
  const run = await setUp(settings, model, config);
  const why = await trainLoop(run);
  await finish(run, why);
}

main().catch((e) => {
  console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
  process.exit(1);
});
