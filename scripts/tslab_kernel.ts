/**
 * Kernel launcher used by jupyter/kernels/tslab/kernel.json: refreshes the notebook type
 * declarations when the library changed (see notebook_types.ts), then hands over to the
 * project's own tslab (`tslab kernel --config-path <connection file>`). Runs under the tsx
 * hook (NODE_OPTIONS=--import tsx in the kernel spec), which also lets notebooks load the
 * library's TypeScript sources.
 */
import { createRequire, register } from "node:module";
import { ensureNotebookTypes } from "./notebook_types.ts";

try {
  ensureNotebookTypes();
} catch (err) {
  // A stale or missing declaration tree only costs type errors in cells; the kernel still starts.
  console.error(`tslab_kernel: could not refresh notebook types: ${(err as Error).message}`);
}
// One copy of the library for cells (CommonJS) and its dynamic imports (ESM): see the hook file.
register("./kernel_module_bridge.mjs", import.meta.url);
const tslab = createRequire(import.meta.url)("tslab/dist/main.js") as { main(): void };
tslab.main();
