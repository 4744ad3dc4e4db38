/**
 * Tensor back-end selection: native TensorFlow (GPU, then CPU) when its Node bindings
 * load, else tfjs-backend-wasm with XNNPACK threads (one per core), else the pure-JS
 * `cpu` back-end. `initBackend` reports what it chose and why every other candidate
 * was not taken, so a notebook can show it and a benchmark can print it.
 *
 *     const info = await initBackend();            // { backend: "wasm", threads: 2, reasons: [...] }
 *     await initBackend({ backend: "cpu" });       // force the reference back-end
 */
import os from "node:os";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as wasm from "@tensorflow/tfjs-backend-wasm";
import { tf, quietly } from "./tf.ts";
import { BackendError } from "../crystal/errors.ts";
import { prepareWasmThreads, unrefPoolThreads, withLogicalCores } from "./wasm_threads.ts";

const require = createRequire(import.meta.url);

/** A back-end that `initBackend` can be asked for; `auto` picks the fastest that works. */
export type BackendRequest = "auto" | "tensorflow" | "wasm" | "cpu";
/** A back-end that is actually running. */
export type BackendName = "tensorflow" | "wasm" | "cpu";

export interface InitBackendOptions {
  /** Which back-end to use (default `"auto"`). */
  backend?: BackendRequest;
  /** Threads for wasm's XNNPACK pool (default: one per CPU core, at most 8). */
  threads?: number;
}

export interface BackendInfo {
  /** The back-end now active in tfjs. */
  backend: BackendName;
  /** Threads the back-end computes with (wasm: XNNPACK pool size; cpu: 1). */
  threads: number;
  /** One line per candidate: why it was chosen or not taken. */
  reasons: string[];
}

/** tfjs's wasm build pre-creates 8 pthreads; XNNPACK cannot use more. */
const MAX_WASM_THREADS = 8;
/** Start-up of the threaded wasm module should take a second; a hang means broken workers. */
const WASM_INIT_TIMEOUT_MS = 30_000;
const REQUESTS: readonly BackendRequest[] = ["auto", "tensorflow", "wasm", "cpu"];

let current: { key: string; info: Promise<BackendInfo> } | undefined;
let settled: BackendInfo | undefined;
let queue: Promise<unknown> = Promise.resolve();

/**
 * Selects and initialises the tensor back-end. Idempotent: repeated calls with the same
 * options return the same result; a call with other options switches back-end (the wasm
 * thread count is fixed once wasm has started, which the reasons then say).
 */
export function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const request = options.backend ?? "auto";
  if (!REQUESTS.includes(request)) {
    return Promise.reject(new BackendError(`initBackend: unknown backend "${String(request)}"; use one of ${REQUESTS.join(", ")}`));
  }
  const threads = checkThreads(options.threads);
  if (typeof threads === "string") return Promise.reject(new BackendError(threads));
  const key = `${request}/${threads}`;
  if (current?.key === key) return current.info;
  // Selections run one after another: two concurrent tf.setBackend calls would race.
  const info = queue.then(() => select(request, threads)).then((result) => (settled = result));
  queue = info.catch(() => undefined);
  current = { key, info };
  // A failed selection must not be cached: the next call retries.
  info.catch(() => {
    if (current?.info === info) current = undefined;
  });
  return info;
}

/** What `initBackend` chose, or `undefined` before it has finished once. */
export function getBackendInfo(): BackendInfo | undefined {
  return settled && { ...settled, reasons: [...settled.reasons] };
}

/** The thread count to use, or a message saying why the option is invalid. */
function checkThreads(threads: number | undefined): number | string {
  if (threads === undefined) return Math.min(os.cpus().length || 1, MAX_WASM_THREADS);
  if (!Number.isInteger(threads) || threads < 1) {
    return `initBackend: threads must be a positive integer, got ${threads}; omit it to use one per core`;
  }
  return Math.min(threads, MAX_WASM_THREADS);
}

async function select(request: BackendRequest, threads: number): Promise<BackendInfo> {
  const reasons: string[] = [];
  if (request === "auto" || request === "tensorflow") {
    for (const pkg of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
      const why = await tryTensorflow(pkg);
      if (why === undefined) return chosen("tensorflow", os.cpus().length, reasons, `${pkg}: chosen (native TensorFlow)`);
      reasons.push(`${pkg}: not taken, ${why}`);
    }
    if (request === "tensorflow") throw new BackendError(`initBackend: no native TensorFlow back-end: ${reasons.join("; ")}; install @tensorflow/tfjs-node or use backend "wasm"`);
  }
  if (request === "auto" || request === "wasm") {
    const result = await tryWasm(threads, reasons);
    if (typeof result === "number") return chosen("wasm", result, reasons, `wasm: chosen (XNNPACK, ${result} thread${result > 1 ? "s" : ""})`);
    reasons.push(`wasm: not taken, ${result}`);
    if (request === "wasm") throw new BackendError(`initBackend: wasm back-end failed: ${result}; use backend "cpu"`);
  }
  await activate("cpu");
  return chosen("cpu", 1, reasons, request === "cpu" ? "cpu: chosen (requested)" : "cpu: chosen (fallback, slowest)");
}

function chosen(backend: BackendName, threads: number, reasons: string[], why: string): BackendInfo {
  return { backend, threads, reasons: [...reasons, why] };
}

async function activate(name: BackendName): Promise<void> {
  if (!(await quietly(() => tf.setBackend(name)))) throw new BackendError(`initBackend: tfjs could not start the "${name}" back-end`);
  await tf.ready();
}

/**
 * Tries one native TensorFlow binding. Returns `undefined` when it is now active, else
 * why not. An npm alias (this project's lock file maps tfjs-node onto plain tfjs so that
 * installs never download binaries) is detected from its package.json, without loading it.
 */
async function tryTensorflow(pkg: string): Promise<string | undefined> {
  let manifest: { name?: string; version?: string };
  try {
    manifest = JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), "utf8"));
  } catch {
    return "not installed";
  }
  if (manifest.name !== pkg) return `it is an alias of ${manifest.name}@${manifest.version} without native bindings`;
  try {
    await quietly(() => import(pkg));
  } catch (e) {
    return `its native binding did not load (${(e as Error).message.split("\n")[0]})`;
  }
  if (!tf.findBackendFactory("tensorflow")) return "it registered no \"tensorflow\" back-end with this tfjs instance";
  try {
    await activate("tensorflow");
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

/** Starts wasm with `threads` XNNPACK threads; returns the thread count it got, or why it failed. */
async function tryWasm(threads: number, reasons: string[]): Promise<number | string> {
  const running = tf.engine().registry["wasm"];
  if (!running) {
    const why = threads > 1 ? prepareWasmThreads((name, value) => tf.env().set(name, value)) : undefined;
    if (why) reasons.push(`wasm threads: not available, ${why}; running single-threaded`);
    wasm.setThreadsCount(why ? 1 : threads);
    try {
      await withLogicalCores(threads, () => withTimeout(activate("wasm"), WASM_INIT_TIMEOUT_MS));
    } catch (e) {
      return (e as Error).message;
    }
  } else {
    await activate("wasm");
  }
  unrefPoolThreads((tf.backend() as unknown as { wasm?: unknown }).wasm);
  const actual = wasm.getThreadsCount();
  if (running && actual !== threads) {
    reasons.push(`wasm threads: ${threads} requested, but wasm already runs with ${actual} in this process (fixed at first start)`);
  }
  return actual;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`start-up did not finish within ${ms / 1000} s (pthread workers did not load)`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
