/**
 * Multi-threaded XNNPACK for `@tensorflow/tfjs-backend-wasm` under Node.js.
 *
 * tfjs ships a threaded+SIMD wasm binary but refuses to use it under Node
 * (`WASM_HAS_MULTITHREAD_SUPPORT` is hard-wired to false, tfjs issue #3830). Two things
 * break there, and this module works around both without forking tfjs:
 *
 * 1. Emscripten starts its pthread pool with `new Worker(blobUrl)`, where the blob holds
 *    the pthread worker script. Node's `worker_threads.Worker` cannot load `blob:` URLs.
 *    We install a `Worker` class on `globalThis` that runs the same worker script with
 *    `eval: true` and, inside the worker, resolves the main-script `Blob` that emscripten
 *    posts with its "load" message (reading a Blob is async, so messages are queued
 *    until it is read).
 * 2. tfjs's C++ side caps the pool at `emscripten_num_logical_cores() / 2` (it assumes
 *    two hyper-threads per core), which is 1 on a 2-vCPU machine. While the backend
 *    initialises we make `os.cpus()` report twice the requested thread count, so the cap
 *    becomes the number of threads the caller asked for.
 *
 * Everything here is Node-only and is only used by `initBackend` in `backend.ts`.
 */
import { Worker as NodeWorker, type WorkerOptions } from "node:worker_threads";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import os from "node:os";

const require = createRequire(import.meta.url);

/** What the worker prelude needs to know about the installed wasm backend bundle. */
interface WasmBundle {
  /** Absolute path of `tf-backend-wasm.node.js`. */
  file: string;
  /** Emscripten's pthread worker script, as tfjs would put it into a Blob. */
  workerScript: string;
}

/**
 * Finds the pthread worker script that tfjs embeds in its Node bundle
 * (`var wasmWorkerContents = "...";`). Returns a reason string when the bundle
 * layout is not the one this module was written against.
 */
function readWasmBundle(): WasmBundle | string {
  let file: string;
  try {
    file = require.resolve("@tensorflow/tfjs-backend-wasm");
  } catch (e) {
    return `@tensorflow/tfjs-backend-wasm is not installed (${(e as Error).message})`;
  }
  const match = /var wasmWorkerContents = ("(?:[^"\\]|\\.)*");/.exec(readFileSync(file, "utf8"));
  if (!match) return `no embedded pthread worker script found in ${file} (unsupported tfjs-backend-wasm version)`;
  // tfjs escapes newlines the same way before wrapping the script into a Blob.
  const workerScript = (JSON.parse(match[1]!) as string).replace(/\n/g, "\\n");
  return { file, workerScript };
}

/**
 * Source of the code each pthread worker runs first. It gives emscripten's worker script a
 * private `parentPort` so that "load" messages can be rewritten (Blob → script text)
 * before the script sees them, and defines the few free variables (`require$$0`, ...)
 * that the bundled module factory refers to once it is re-evaluated inside the worker.
 */
function workerPrelude(bundle: WasmBundle): string {
  return `
const realRequire = require;
const wt = realRequire("worker_threads");
const { EventEmitter } = realRequire("events");
const realPort = wt.parentPort;
const port = new EventEmitter();
port.postMessage = (...args) => realPort.postMessage(...args);
const wtView = Object.assign({}, wt, { parentPort: port });
const scopedRequire = (name) => (name === "worker_threads" ? wtView : realRequire(name));
Object.assign(globalThis, {
  require$$0: realRequire("fs"), require$$1: realRequire("path"),
  require$$3: realRequire("perf_hooks"), require$$4: realRequire("os"),
  commonjsGlobal: globalThis, __dirname: ${JSON.stringify(dirname(bundle.file))},
});
new Function("require", "__filename", wt.workerData.script)(scopedRequire, ${JSON.stringify(bundle.file)});
const inlineScripts = new Map();
const importFile = globalThis.importScripts;
globalThis.importScripts = (f) => (inlineScripts.has(f) ? (0, eval)(inlineScripts.get(f)) : importFile(f));
let queue = Promise.resolve();
realPort.on("message", (data) => {
  queue = queue.then(async () => {
    if (data && data.cmd === "load" && data.urlOrBlob && typeof data.urlOrBlob !== "string") {
      inlineScripts.set("tfjs-wasm-main-script", await data.urlOrBlob.text());
      data.urlOrBlob = "tfjs-wasm-main-script";
    }
    port.emit("message", data);
  });
});
`;
}

/** A `Worker` that also accepts the `blob:` URLs emscripten uses for its pthread pool. */
function blobAwareWorkerClass(bundle: WasmBundle): typeof NodeWorker {
  const prelude = workerPrelude(bundle);
  return class BlobAwareWorker extends NodeWorker {
    constructor(url: string | URL, options?: WorkerOptions) {
      if (typeof url === "string" && url.startsWith("blob:")) {
        super(prelude, { ...options, eval: true, workerData: { script: bundle.workerScript } });
      } else {
        super(url, options);
      }
    }
  };
}

let installed = false;

/**
 * Prepares Node so that the next wasm-backend initialisation uses the threaded binary.
 * Must run before `tf.setBackend("wasm")`. Returns `undefined` on success or the reason
 * why threads cannot be enabled (the caller then runs single-threaded).
 */
export function prepareWasmThreads(setFlag: (name: string, value: boolean) => void): string | undefined {
  if (typeof SharedArrayBuffer === "undefined") return "SharedArrayBuffer is unavailable in this Node.js";
  const bundle = readWasmBundle();
  if (typeof bundle === "string") return bundle;
  if (!installed) {
    const WorkerClass = blobAwareWorkerClass(bundle);
    // Emscripten assigns `global.Worker = worker_threads.Worker` while it starts; the
    // ignoring setter keeps our class in place for the pool it is about to create.
    Object.defineProperty(globalThis, "Worker", { configurable: true, get: () => WorkerClass, set: () => {} });
    installed = true;
  }
  setFlag("WASM_HAS_MULTITHREAD_SUPPORT", true);
  return undefined;
}

/**
 * Runs `init` (the wasm backend start-up) while `os.cpus()` reports `2 * threads` CPUs,
 * so that tfjs's "logical cores / 2" cap equals the requested thread count.
 */
export async function withLogicalCores<T>(threads: number, init: () => Promise<T>): Promise<T> {
  const realCpus = os.cpus;
  const mutableOs = os as { cpus: typeof os.cpus };
  mutableOs.cpus = () => {
    const cpus = realCpus();
    return Array.from({ length: 2 * threads }, (_, i) => cpus[i % cpus.length]!);
  };
  try {
    return await init();
  } finally {
    mutableOs.cpus = realCpus;
  }
}

/** The part of emscripten's pthread bookkeeping that we touch. */
interface PThreadPool {
  runningWorkers: Array<{ unref(): void }>;
}

/**
 * Lets the process exit while XNNPACK's pool threads are parked: emscripten `ref()`s the
 * workers that run pthreads, which would otherwise keep Node alive after the script ends.
 */
export function unrefPoolThreads(wasmModule: unknown): void {
  const pool = (wasmModule as { PThread?: PThreadPool } | undefined)?.PThread;
  for (const worker of pool?.runningWorkers ?? []) worker.unref();
}
