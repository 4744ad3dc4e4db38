/**
 * Module-loader hook for the notebook kernel (registered by scripts/tslab_kernel.ts).
 *
 * tslab compiles every cell to CommonJS, so `import ... from "crystal-grpo"` in a cell loads
 * the library through `require` (compiled by tsx). A dynamic `import("./x.ts")` inside the
 * library goes through Node's ESM loader instead, which keeps its own module cache: the
 * library would then exist twice, and a class from one copy fails `instanceof` in the other
 * ("RLModule needs { ldm: LDMModule }" although an LDMModule was passed).
 *
 * This hook answers every ESM load of a project `.ts` file (outside node_modules) with
 * `format: "commonjs"` and no source, which makes Node hand the file to the CommonJS loader:
 * it is compiled by tsx's require hook once and shared with the cells' `require`.
 */
const PROJECT = new URL("../", import.meta.url).href;

export async function load(url, context, nextLoad) {
  if (url.startsWith(PROJECT) && /\.(c|m)?tsx?$/.test(url) && !url.includes("/node_modules/")) {
    return { format: "commonjs", shortCircuit: true };
  }
  return nextLoad(url, context);
}
