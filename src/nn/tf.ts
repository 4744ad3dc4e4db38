/**
 * The project's single TensorFlow.js import point. Every module imports `tf` from here
 * (never from "@tensorflow/tfjs" directly), so that the one-time set-up below runs once
 * and before any tensor exists:
 *
 * - the wasm back-end is registered (it is started by `initBackend` in `backend.ts`);
 * - the wasm fast paths of `fast_kernels.ts` replace tfjs's slow kernels;
 * - tfjs's "install tfjs-node to speed things up" banner is silenced: tfjs prints it on
 *   the `cpu` back-end's first tensor write, so we make that first write here, with the
 *   `PROD` flag (which only gates tfjs's console warnings) raised for its duration.
 *
 * Start a back-end with `await initBackend()` before heavy work; without it tfjs picks one
 * itself on first use.
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { registerFastKernels } from "./fast_kernels.ts";

/**
 * Runs `fn` with tfjs's console warnings off (kernel re-registration notices, the
 * tfjs-node banner), restoring the previous `PROD` flag afterwards, also for async `fn`.
 */
export function quietly<T>(fn: () => T): T {
  const env = tf.env();
  const previous = env.getBool("PROD");
  env.set("PROD", true);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    env.set("PROD", previous);
    throw e;
  }
  if (result instanceof Promise) {
    return result.finally(() => env.set("PROD", previous)) as T;
  }
  env.set("PROD", previous);
  return result;
}

/** Makes the cpu back-end's first write (the one that prints the banner) silently. */
function consumeCpuBanner(): void {
  quietly(() => {
    const cpu = tf.engine().findBackend("cpu");
    if (cpu) cpu.disposeData(cpu.write(new Float32Array(1), [1], "float32"));
  });
}

quietly(registerFastKernels);
consumeCpuBanner();

export { tf };
