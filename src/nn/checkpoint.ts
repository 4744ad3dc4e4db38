/**
 * Training checkpoints: one directory holding
 *   - `weights.bin`   every tensor as float32 little-endian, concatenated;
 *   - `manifest.json` name, shape, dtype, byte offset and length of each tensor, plus the
 *                     total length and the SHA-256 of weights.bin;
 *   - `meta.json`     step, optimizer hyper-parameters and step counts, scheduler and RNG
 *                     state, user metadata, versions;
 *   - `config.yaml`   the run's config.
 * Tensor names are prefixed by owner: `model.<param>`, `optimizer.<param>.exp_avg(_sq)`,
 * `ema.<param>`.
 *
 * Crash safety: the new checkpoint is written and fsynced under `<dir>.tmp-<pid>`; then the
 * old `<dir>` is renamed to `<dir>.bak`, the new one renamed to `<dir>`, and the backup
 * removed. At every instant either `<dir>` or `<dir>.bak` is a complete checkpoint, and
 * `readCheckpoint` falls back to the backup when `<dir>` is absent. Any inconsistency
 * (missing file, wrong size, checksum, bad manifest) is a `CheckpointError`, never
 * silently wrong weights.
 */
import { createHash } from "node:crypto";
import { promises as fsp, existsSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { endianness } from "node:os";
import YAML from "yaml";
import { tf } from "./tf.ts";
import type { Module } from "./module.ts";
import type { AdamW, AdamWStateMeta } from "./optim.ts";
import type { Rng, RngState } from "./rng.ts";
import type { EMA } from "./ema.ts";
import type { LRScheduler, SchedulerState } from "./schedulers.ts";
import { CheckpointError } from "./errors.ts";
import { CrystalError } from "../crystal/errors.ts";

export const CHECKPOINT_FORMAT = "crystal-grpo-checkpoint";
export const CHECKPOINT_FORMAT_VERSION = 1;

/** One tensor's entry in manifest.json. */
export interface TensorRecord {
  name: string;
  shape: number[];
  dtype: "float32";
  offset: number;
  byteLength: number;
}

export interface CheckpointManifest {
  format: string;
  formatVersion: number;
  byteLength: number;
  sha256: string;
  tensors: TensorRecord[];
}

export interface CheckpointMeta {
  formatVersion: number;
  step: number;
  optimizer: AdamWStateMeta | null;
  scheduler: SchedulerState | null;
  rng: RngState | null;
  hasEma: boolean;
  versions: { crystalGrpo: string; tfjs: string; node: string };
  backend: string;
  savedAt: string;
  meta: Record<string, unknown>;
}

/** What to save. Only `module` is required. */
export interface CheckpointContents {
  module: Module;
  optimizer?: AdamW;
  scheduler?: LRScheduler;
  rng?: Rng;
  ema?: EMA;
  config?: unknown;
  step?: number;
  meta?: Record<string, unknown>;
}

/** Points in a save where `onStage` is called (used by the crash tests to kill the process there). */
export type SaveStage = "weights-partial" | "files-written" | "old-moved-to-backup" | "new-in-place";

export interface SaveOptions {
  onStage?: (stage: SaveStage) => void | Promise<void>;
}

/** A verified checkpoint read into memory (no tf tensors yet). */
export interface Checkpoint {
  /** Directory actually read (`<dir>` or its `.bak` fallback). */
  dir: string;
  manifest: CheckpointManifest;
  meta: CheckpointMeta;
  config: unknown;
  arrays: Map<string, { shape: number[]; data: Float32Array }>;
}

// ---------- saving ----------

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    return String(pkg.version);
  } catch {
    return "unknown";
  }
}

function collectTensors(c: CheckpointContents): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [n, t] of c.module.stateDict()) out.set(`model.${n}`, t);
  if (c.optimizer) for (const [n, t] of c.optimizer.stateTensors()) out.set(`optimizer.${n}`, t);
  if (c.ema) for (const [n, t] of c.ema.stateTensors()) out.set(`ema.${n}`, t);
  return out;
}

/**
 * Each tensor's little-endian bytes (views, not one big concatenation, so a large model is
 * not copied twice), its manifest record, and the SHA-256 over all of them in order.
 */
async function packWeights(tensors: Map<string, tf.Tensor>): Promise<{ parts: Buffer[]; records: TensorRecord[]; sha256: string }> {
  const records: TensorRecord[] = [];
  const parts: Buffer[] = [];
  const hash = createHash("sha256");
  let offset = 0;
  for (const [name, t] of tensors) {
    const data = t.dtype === "float32" ? ((await t.data()) as Float32Array) : Float32Array.from(await t.data());
    const bytes = float32ToLE(data);
    records.push({ name, shape: [...t.shape], dtype: "float32", offset, byteLength: bytes.length });
    parts.push(bytes);
    hash.update(bytes);
    offset += bytes.length;
  }
  return { parts, records, sha256: hash.digest("hex") };
}

const LITTLE_ENDIAN = endianness() === "LE";

/** float32 values as little-endian bytes (a straight copy on little-endian hosts). */
function float32ToLE(data: Float32Array): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  const bytes = Buffer.alloc(data.length * 4);
  for (let i = 0; i < data.length; i++) bytes.writeFloatLE(data[i], i * 4);
  return bytes;
}

/** `count` little-endian float32 values starting at `offset` (copied, so alignment does not matter). */
function float32FromLE(buf: Buffer, offset: number, count: number): Float32Array {
  const data = new Float32Array(count);
  if (LITTLE_ENDIAN) {
    new Uint8Array(data.buffer).set(buf.subarray(offset, offset + count * 4));
    return data;
  }
  for (let i = 0; i < count; i++) data[i] = buf.readFloatLE(offset + i * 4);
  return data;
}

function buildMeta(c: CheckpointContents): CheckpointMeta {
  return {
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    step: c.step ?? 0,
    optimizer: c.optimizer ? c.optimizer.stateMeta() : null,
    scheduler: c.scheduler ? c.scheduler.stateDict() : null,
    rng: c.rng ? c.rng.getState() : null,
    hasEma: Boolean(c.ema),
    versions: { crystalGrpo: packageVersion(), tfjs: tf.version.tfjs, node: process.version },
    backend: tf.getBackend(),
    savedAt: new Date().toISOString(),
    meta: c.meta ?? {},
  };
}

/**
 * Write `chunks` to a new file and fsync it before closing; `afterChunk(i)` runs after
 * chunk i (the crash tests stop the save half-way through weights.bin this way).
 */
async function writeSynced(path: string, chunks: Buffer[], afterChunk?: (i: number) => Promise<void>): Promise<void> {
  const fh = await fsp.open(path, "wx");
  try {
    for (let i = 0; i < chunks.length; i++) {
      // write() may write fewer bytes than asked; loop until the chunk is out.
      for (let done = 0; done < chunks[i].length; ) {
        done += (await fh.write(chunks[i], done)).bytesWritten;
      }
      if (afterChunk) await afterChunk(i);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function syncDir(path: string): Promise<void> {
  const fh = await fsp.open(path, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Remove `<dir>.tmp-<pid>` leftovers of processes that no longer run (crashed saves). */
async function removeStaleTemps(dir: string): Promise<void> {
  const prefix = `${basename(dir)}.tmp-`;
  for (const name of await fsp.readdir(dirname(dir))) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (Number.isInteger(pid) && pid !== process.pid && isRunning(pid)) continue;
    await fsp.rm(join(dirname(dir), name), { recursive: true, force: true });
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function writeTempDir(tmp: string, c: CheckpointContents, stage: (s: SaveStage) => Promise<void>): Promise<void> {
  const { parts, records, sha256 } = await packWeights(collectTensors(c));
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT,
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    byteLength: records.reduce((n, r) => n + r.byteLength, 0),
    sha256,
    tensors: records,
  };
  await fsp.mkdir(tmp);
  const middle = Math.floor(parts.length / 2);
  await writeSynced(join(tmp, "weights.bin"), parts, (i) => (i === middle ? stage("weights-partial") : Promise.resolve()));
  await writeSynced(join(tmp, "manifest.json"), [Buffer.from(JSON.stringify(manifest, null, 1))]);
  await writeSynced(join(tmp, "meta.json"), [Buffer.from(JSON.stringify(buildMeta(c), null, 2))]);
  await writeSynced(join(tmp, "config.yaml"), [Buffer.from(YAML.stringify(c.config ?? null))]);
  await syncDir(tmp);
}

/**
 * Save a checkpoint directory atomically (see the module comment). Replaces an existing
 * checkpoint at `dir` only once the new one is complete on disk.
 */
export async function saveCheckpoint(dir: string, contents: CheckpointContents, opts: SaveOptions = {}): Promise<void> {
  const target = resolve(dir);
  const parent = dirname(target);
  const tmp = `${target}.tmp-${process.pid}`;
  const backup = `${target}.bak`;
  const stage = async (s: SaveStage) => {
    if (opts.onStage) await opts.onStage(s);
  };
  await fsp.mkdir(parent, { recursive: true });
  await removeStaleTemps(target);
  await writeTempDir(tmp, contents, stage);
  await stage("files-written");
  if (existsSync(target)) {
    // A backup next to a complete <dir> is stale (crash after the last rename): drop it.
    await fsp.rm(backup, { recursive: true, force: true });
    await fsp.rename(target, backup);
    await stage("old-moved-to-backup");
  }
  await fsp.rename(tmp, target);
  await syncDir(parent);
  await stage("new-in-place");
  await fsp.rm(backup, { recursive: true, force: true });
  await syncDir(parent);
}

// ---------- reading and verifying ----------

async function readOrFail(dir: string, file: string): Promise<Buffer> {
  try {
    return await fsp.readFile(join(dir, file));
  } catch {
    throw new CheckpointError(`missing or unreadable ${file}; the checkpoint is incomplete, save it again.`, dir);
  }
}

function parseJson(dir: string, file: string, buf: Buffer): unknown {
  try {
    return JSON.parse(buf.toString("utf8"));
  } catch (e) {
    throw new CheckpointError(`${file} is not valid JSON (${(e as Error).message}); the file is corrupt.`, dir);
  }
}

/** Structural checks of the manifest; returns every problem found. */
function manifestProblems(m: CheckpointManifest): string[] {
  const problems: string[] = [];
  if (m.format !== CHECKPOINT_FORMAT) problems.push(`format is "${m.format}", expected "${CHECKPOINT_FORMAT}"`);
  if (m.formatVersion !== CHECKPOINT_FORMAT_VERSION) problems.push(`formatVersion ${m.formatVersion} is not supported (expected ${CHECKPOINT_FORMAT_VERSION})`);
  if (!Array.isArray(m.tensors)) return [...problems, "tensors is not a list"];
  const seen = new Set<string>();
  let expectedOffset = 0;
  for (const r of m.tensors) {
    const label = `tensor "${r?.name}"`;
    if (seen.has(r.name)) problems.push(`${label} is listed twice`);
    seen.add(r.name);
    const shapeOk = Array.isArray(r.shape) && r.shape.every((d) => Number.isInteger(d) && d >= 0);
    if (!shapeOk) problems.push(`${label} has a bad shape ${JSON.stringify(r.shape)}`);
    if (r.dtype !== "float32") problems.push(`${label} has dtype ${r.dtype}, only float32 is stored`);
    const size = shapeOk ? r.shape.reduce((a, b) => a * b, 1) : -1;
    if (r.byteLength !== size * 4) problems.push(`${label} has byteLength ${r.byteLength}, shape [${r.shape}] needs ${size * 4}`);
    if (r.offset !== expectedOffset) problems.push(`${label} starts at byte ${r.offset}, expected ${expectedOffset}`);
    expectedOffset = r.offset + r.byteLength;
  }
  if (m.byteLength !== expectedOffset) problems.push(`byteLength ${m.byteLength} does not equal the tensors' total ${expectedOffset}`);
  return problems;
}

function resolveDir(dir: string): string {
  const target = resolve(dir);
  if (existsSync(target)) return target;
  if (existsSync(`${target}.bak`)) return `${target}.bak`; // crash between the two renames
  throw new CheckpointError("no checkpoint here (no directory and no .bak backup); check the path.", target);
}

function unpackArrays(buf: Buffer, m: CheckpointManifest): Checkpoint["arrays"] {
  const arrays: Checkpoint["arrays"] = new Map();
  for (const r of m.tensors) {
    arrays.set(r.name, { shape: r.shape, data: float32FromLE(buf, r.offset, r.byteLength / 4) });
  }
  return arrays;
}

/** Read and verify a checkpoint (sizes, checksum, manifest, meta, config). */
export async function readCheckpoint(dir: string): Promise<Checkpoint> {
  const used = resolveDir(dir);
  const manifest = parseJson(used, "manifest.json", await readOrFail(used, "manifest.json")) as CheckpointManifest;
  const problems = manifestProblems(manifest);
  if (problems.length) throw new CheckpointError(`manifest.json is inconsistent: ${problems.join("; ")}.`, used);
  const weights = await readOrFail(used, "weights.bin");
  if (weights.length !== manifest.byteLength) {
    throw new CheckpointError(
      `weights.bin has ${weights.length} bytes but the manifest lists ${manifest.byteLength}; the file is truncated or from another save.`,
      used,
    );
  }
  const digest = createHash("sha256").update(weights).digest("hex");
  if (digest !== manifest.sha256) {
    throw new CheckpointError(`weights.bin checksum ${digest} does not match the manifest's ${manifest.sha256}; the file is corrupt.`, used);
  }
  const meta = parseJson(used, "meta.json", await readOrFail(used, "meta.json")) as CheckpointMeta;
  if (!meta || typeof meta !== "object" || meta.formatVersion !== CHECKPOINT_FORMAT_VERSION) {
    throw new CheckpointError(`meta.json is not a format-${CHECKPOINT_FORMAT_VERSION} checkpoint meta file.`, used);
  }
  let config: unknown;
  try {
    config = YAML.parse((await readOrFail(used, "config.yaml")).toString("utf8"));
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(`config.yaml does not parse (${(e as Error).message}).`, used);
  }
  return { dir: used, manifest, meta, config, arrays: unpackArrays(weights, manifest) };
}

// ---------- restoring ----------

/** Objects to restore into; each one present must have its part in the checkpoint. */
export interface RestoreTargets {
  module?: Module;
  optimizer?: AdamW;
  scheduler?: LRScheduler;
  rng?: Rng;
  ema?: EMA;
  /** Passed to `Module.loadStateDict` (default true). */
  strict?: boolean;
}

/** tf tensors for every array under `prefix`, keyed without the prefix (caller disposes). */
function tensorsWithPrefix(ckpt: Checkpoint, prefix: string): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [name, a] of ckpt.arrays) {
    if (name.startsWith(prefix)) out.set(name.slice(prefix.length), tf.tensor(a.data, a.shape, "float32"));
  }
  return out;
}

/** Run `fn`, turning a library error (bad shape, unknown name, wrong seed) into a CheckpointError. */
function fitting<T>(ckpt: Checkpoint, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof CrystalError) throw new CheckpointError(`${what} does not fit this checkpoint: ${e.message}`, ckpt.dir);
    throw e;
  }
}

function withTensors<T>(ckpt: Checkpoint, prefix: string, what: string, fn: (m: Map<string, tf.Tensor>) => T): T {
  const tensors = tensorsWithPrefix(ckpt, prefix);
  try {
    return fitting(ckpt, what, () => fn(tensors));
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

function requirePart(ckpt: Checkpoint, present: boolean, what: string): void {
  if (!present) throw new CheckpointError(`has no ${what} state; it was saved without one (do not pass ${what} to restore).`, ckpt.dir);
}

/**
 * Copy a verified checkpoint into the given objects, in the order module, optimizer, EMA,
 * scheduler, RNG. The module is checked completely before any weight is assigned; if a
 * later part does not fit, the error says which, and earlier parts are already restored.
 */
export function restoreCheckpoint(ckpt: Checkpoint, targets: RestoreTargets): void {
  const { module, optimizer, scheduler, rng, ema } = targets;
  if (module) withTensors(ckpt, "model.", "the module", (m) => module.loadStateDict(m, targets.strict ?? true));
  if (optimizer) {
    requirePart(ckpt, ckpt.meta.optimizer !== null, "optimizer");
    withTensors(ckpt, "optimizer.", "the optimizer", (m) => optimizer.loadState(ckpt.meta.optimizer!, m));
  }
  if (ema) {
    requirePart(ckpt, ckpt.meta.hasEma, "EMA");
    withTensors(ckpt, "ema.", "the EMA", (m) => ema.loadState(m));
  }
  if (scheduler) {
    requirePart(ckpt, ckpt.meta.scheduler !== null, "scheduler");
    fitting(ckpt, "the scheduler", () => scheduler.loadStateDict(ckpt.meta.scheduler!));
  }
  if (rng) {
    requirePart(ckpt, ckpt.meta.rng !== null, "RNG");
    fitting(ckpt, "the RNG", () => rng.setState(ckpt.meta.rng!));
  }
}

/** `readCheckpoint` + `restoreCheckpoint`; returns the checkpoint (meta, config, step). */
export async function loadCheckpoint(dir: string, targets: RestoreTargets = {}): Promise<Checkpoint> {
  const ckpt = await readCheckpoint(dir);
  restoreCheckpoint(ckpt, targets);
  return ckpt;
}
