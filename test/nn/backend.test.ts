/**
 * Back-end selection: what `auto` picks on this machine and why, explicit choices,
 * idempotence, typed errors for bad options, the silenced tfjs-node banner and wasm
 * threads (checked in child processes, since the wasm thread count is fixed per process).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import os from "node:os";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { tf } from "../../src/nn/tf.ts";
import { initBackend, getBackendInfo, type BackendRequest } from "../../src/nn/backend.ts";
import { BackendError } from "../../src/crystal/errors.ts";

const CHILD = fileURLToPath(new URL("../fixtures/nn/backend_child.ts", import.meta.url));
const CORES = Math.min(os.cpus().length, 8);

function child(...args: string[]): { info: { backend: string; threads: number; reasons: string[] }; active: string; product: number[]; output: string } {
  const res = spawnSync(process.execPath, ["--import", "tsx", CHILD, ...args], { encoding: "utf8", timeout: 60_000 });
  assert.is(res.status, 0, `child ${args} exited with ${res.status} (signal ${res.signal}): ${res.stderr}`);
  const lines = res.stdout.trim().split("\n");
  return { ...JSON.parse(lines[lines.length - 1]!), output: res.stdout + res.stderr };
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}

test("auto picks wasm with one thread per core and says why native TensorFlow was not taken", async () => {
  const info = await initBackend();
  assert.is(info.backend, "wasm");
  assert.is(tf.getBackend(), "wasm");
  assert.is(info.threads, CORES);
  assert.ok(info.reasons.some((r) => r.startsWith("@tensorflow/tfjs-node-gpu: not taken")), info.reasons.join("\n"));
  assert.ok(info.reasons.some((r) => r.startsWith("@tensorflow/tfjs-node: not taken")), info.reasons.join("\n"));
  assert.match(info.reasons[info.reasons.length - 1]!, /^wasm: chosen/);
  assert.equal(getBackendInfo(), info);
});

test("initBackend is idempotent", async () => {
  const a = initBackend();
  const b = initBackend();
  assert.is(a, b);
  assert.equal(await a, await b);
});

test("explicit cpu and back to wasm", async () => {
  const cpu = await initBackend({ backend: "cpu" });
  assert.equal([cpu.backend, cpu.threads, tf.getBackend()], ["cpu", 1, "cpu"]);
  assert.is(getBackendInfo()!.backend, "cpu");
  const wasm = await initBackend({ backend: "wasm" });
  assert.equal([wasm.backend, wasm.threads, tf.getBackend()], ["wasm", CORES, "wasm"]);
});

test("concurrent requests run in order; the last one wins", async () => {
  const [cpu, wasm] = await Promise.all([initBackend({ backend: "cpu" }), initBackend({ backend: "wasm" })]);
  assert.equal([cpu.backend, wasm.backend, tf.getBackend(), getBackendInfo()!.backend], ["cpu", "wasm", "wasm", "wasm"]);
});

test("a different thread count after wasm started is reported, not silently ignored", async () => {
  const info = await initBackend({ backend: "wasm", threads: CORES === 1 ? 2 : 1 });
  assert.is(info.threads, CORES);
  assert.ok(info.reasons.some((r) => r.includes("fixed at first start")), info.reasons.join("\n"));
});

test("explicit tensorflow fails with a typed error naming the fix", async () => {
  const err = await rejection(initBackend({ backend: "tensorflow" }));
  assert.instance(err, BackendError);
  assert.match(err.message, /tfjs-node/);
  assert.match(err.message, /backend "wasm"/);
});

test("bad options give typed errors", async () => {
  for (const threads of [0, -1, 1.5, Number.NaN]) {
    const err = await rejection(initBackend({ threads }));
    assert.instance(err, BackendError);
    assert.match(err.message, /threads must be a positive integer/);
  }
  const err = await rejection(initBackend({ backend: "gpu" as BackendRequest }));
  assert.instance(err, BackendError);
  assert.match(err.message, /unknown backend "gpu"/);
});

test("child: wasm threads work, the result is right, the process exits by itself", () => {
  const r = child("wasm");
  assert.equal([r.info.backend, r.info.threads, r.active], ["wasm", CORES, "wasm"]);
  assert.equal(r.product, [17, 23, 39, 53]);
});

test("child: single-threaded wasm on request", () => {
  const r = child("wasm", "1");
  assert.equal([r.info.backend, r.info.threads], ["wasm", 1]);
  assert.equal(r.product, [17, 23, 39, 53]);
});

test("child: the cpu back-end prints no 'install tfjs-node' banner", () => {
  const r = child("cpu");
  assert.is(r.info.backend, "cpu");
  assert.equal(r.product, [17, 23, 39, 53]);
  assert.not.match(r.output, /tfjs-node|speed things up/);
  assert.is(r.output.trim().split("\n").length, 1, `unexpected output:\n${r.output}`);
});

test.run();
