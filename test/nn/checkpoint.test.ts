import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tf } from "../../src/nn/tf.ts";
import { useTestBackend } from "./helpers/backend.ts";
import { loadCheckpoint, readCheckpoint, saveCheckpoint, type SaveStage } from "../../src/nn/checkpoint.ts";
import { CheckpointError } from "../../src/nn/errors.ts";
import { Linear } from "../../src/nn/layers.ts";
import { Rng } from "../../src/nn/rng.ts";
import { disposeRun, makeRun, snapshot, trainStep, type TinyRun } from "./helpers/tiny_run.ts";

await useTestBackend();

const root = mkdtempSync(join(tmpdir(), "crystal-grpo-ckpt-"));
/** uvu has no async `throws`: await `fn` and check the error it rejects with. */
async function rejects(fn: () => Promise<unknown>, check: (e: unknown) => boolean): Promise<void> {
  try {
    await fn();
  } catch (e) {
    assert.ok(check(e), `unexpected error: ${(e as Error).message}`);
    return;
  }
  assert.unreachable("expected a rejection");
}
const isCkptError = (re: RegExp) => (e: unknown) => e instanceof CheckpointError && re.test((e as Error).message);

function saveRun(dir: string, run: TinyRun, step: number) {
  return saveCheckpoint(dir, {
    module: run.model, optimizer: run.optimizer, scheduler: run.scheduler, rng: run.rng, ema: run.ema,
    step, config: { model: { width: 16, heads: 2 }, seed: 7 }, meta: { note: "test" },
  });
}

test("save writes weights.bin, manifest (offsets, sha256), meta.json and config.yaml", async () => {
  const run = makeRun(7);
  const dir = join(root, "layout");
  await saveRun(dir, run, 0);
  assert.equal(readdirSync(dir).sort(), ["config.yaml", "manifest.json", "meta.json", "weights.bin"]);
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
  const names = manifest.tensors.map((t: { name: string }) => t.name);
  assert.ok(names.includes("model.block.attn.qkv.weight"));
  assert.ok(names.includes("optimizer.block.attn.qkv.weight.exp_avg_sq"));
  assert.ok(names.includes("ema.head.bias"));
  assert.equal(manifest.byteLength, readFileSync(join(dir, "weights.bin")).length);
  const first = manifest.tensors[0];
  const w = readFileSync(join(dir, "weights.bin"));
  assert.equal(w.readFloatLE(first.offset + 4), run.model.namedParameters().get(first.name.slice(6))!.dataSync()[1]);
  const ckpt = await readCheckpoint(dir);
  assert.equal(ckpt.config, { model: { width: 16, heads: 2 }, seed: 7 });
  assert.equal(ckpt.meta.meta, { note: "test" });
  assert.equal(ckpt.meta.versions.tfjs, tf.version.tfjs);
  disposeRun(run);
});

test("save → load → continue training is bit-identical to uninterrupted training", async () => {
  const straight = makeRun(7);
  for (let i = 0; i < 6; i++) trainStep(straight);
  const want = snapshot(straight.model);
  const wantEma = [...straight.ema.stateTensors()].map(([k, v]) => [k, Array.from(v.dataSync())]);

  const first = makeRun(7);
  for (let i = 0; i < 3; i++) trainStep(first);
  const dir = join(root, "resume");
  await saveRun(dir, first, 3);
  disposeRun(first);

  const resumed = makeRun(7);
  trainStep(resumed); // move weights, moments and the RNG away from the saved state
  resumed.rng.normalArray(13);
  const ckpt = await loadCheckpoint(dir, {
    module: resumed.model, optimizer: resumed.optimizer, scheduler: resumed.scheduler, rng: resumed.rng, ema: resumed.ema,
  });
  assert.equal(ckpt.meta.step, 3);
  for (let i = 0; i < 3; i++) trainStep(resumed);
  assert.equal(snapshot(resumed.model), want);
  assert.equal([...resumed.ema.stateTensors()].map(([k, v]) => [k, Array.from(v.dataSync())]), wantEma);
  assert.equal(resumed.optimizer.lr, straight.optimizer.lr);
  disposeRun(straight);
  disposeRun(resumed);
});

test("loading names every missing, unexpected and mis-shaped tensor", async () => {
  const dir = join(root, "mismatch");
  const rng = new Rng(0);
  const small = new Linear(3, 4, rng);
  await saveCheckpoint(dir, { module: small });
  const other = new Linear(3, 5, rng, { bias: false });
  await rejects(() => loadCheckpoint(dir, { module: other }), isCkptError(/unexpected keys: bias.*weight: expected \[3,5\], got \[3,4\]/));
  await rejects(() => loadCheckpoint(dir, { module: small, optimizer: undefined, rng }), isCkptError(/no RNG state/));
});

test("truncated, corrupt or missing files give CheckpointError, never weights", async () => {
  const run = makeRun(1);
  const base = join(root, "corrupt");
  const fresh = async (name: string) => {
    const dir = `${base}-${name}`;
    await saveRun(dir, run, 0);
    return dir;
  };
  let dir = await fresh("trunc");
  truncateSync(join(dir, "weights.bin"), 100);
  await rejects(() => loadCheckpoint(dir, { module: run.model }), isCkptError(/weights\.bin has 100 bytes.*truncated/));
  dir = await fresh("flip");
  const buf = readFileSync(join(dir, "weights.bin"));
  buf[buf.length - 3] ^= 0x40;
  writeFileSync(join(dir, "weights.bin"), buf);
  await rejects(() => readCheckpoint(dir), isCkptError(/checksum .* corrupt/));
  dir = await fresh("manifest");
  writeFileSync(join(dir, "manifest.json"), readFileSync(join(dir, "manifest.json"), "utf8").slice(0, 50));
  await rejects(() => readCheckpoint(dir), isCkptError(/manifest\.json is not valid JSON/));
  dir = await fresh("shape");
  const m = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
  m.tensors[1].shape = [999];
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(m));
  await rejects(() => readCheckpoint(dir), isCkptError(/byteLength .* shape \[999\] needs 3996/));
  dir = await fresh("meta");
  rmSync(join(dir, "meta.json"));
  await rejects(() => readCheckpoint(dir), isCkptError(/missing or unreadable meta\.json/));
  await rejects(() => readCheckpoint(join(root, "nowhere")), isCkptError(/no checkpoint here/));
  disposeRun(run);
});

const CHILD = fileURLToPath(new URL("./helpers/checkpoint_child.ts", import.meta.url));

/** Run the child until it reports `stage`, then SIGKILL it. */
function killChildAt(dir: string, stage: SaveStage, seed: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, dir, stage, String(seed)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes(`STAGE ${stage}`)) child.kill("SIGKILL");
    });
    child.stderr.on("data", (d) => (err += d));
    child.on("exit", (code, signal) => {
      if (signal === "SIGKILL") resolve();
      else reject(new Error(`child exited with ${code} before stage ${stage}: ${out} ${err}`));
    });
  });
}

test("SIGKILL during a save leaves the previous checkpoint loadable", async () => {
  const prev = makeRun(3);
  trainStep(prev);
  const want = snapshot(prev.model);
  const stages: SaveStage[] = ["weights-partial", "files-written", "old-moved-to-backup"];
  for (const stage of stages) {
    const dir = join(root, `crash-${stage}`);
    await saveRun(dir, prev, 1);
    await killChildAt(dir, stage, 11);
    if (stage === "old-moved-to-backup") assert.ok(!existsSync(dir) && existsSync(`${dir}.bak`), "only the backup is left");
    const target = makeRun(5);
    const ckpt = await loadCheckpoint(dir, { module: target.model, optimizer: target.optimizer, rng: target.rng });
    assert.equal(snapshot(target.model), want, `after a kill at ${stage}`);
    assert.equal(ckpt.meta.step, 1);
    // the next save completes and cleans up the dead process's temp dir and the backup
    await saveRun(dir, target, 2);
    assert.equal(readdirSync(root).filter((n) => n.startsWith(`crash-${stage}.`)), []);
    assert.equal((await readCheckpoint(dir)).meta.step, 2);
    disposeRun(target);
  }
  // a kill after the new directory is in place leaves the new checkpoint
  const dir = join(root, "crash-late");
  await saveRun(dir, prev, 1);
  await killChildAt(dir, "new-in-place", 11);
  const ckpt = await readCheckpoint(dir);
  assert.equal(ckpt.config, { seed: 11 });
  disposeRun(prev);
});

test.after(() => rmSync(root, { recursive: true, force: true }));
test.run();
