/**
 * Back-end for the nn tests: `cpu` by default (deterministic, no threads); set
 * NN_TEST_BACKEND=wasm to run the same tests on the wasm back-end with the fast kernels.
 */
import { initBackend, type BackendRequest } from "../../../src/nn/backend.ts";

export async function useTestBackend(): Promise<void> {
  await initBackend({ backend: (process.env.NN_TEST_BACKEND as BackendRequest | undefined) ?? "cpu" });
}
