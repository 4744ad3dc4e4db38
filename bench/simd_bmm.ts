/**
 * Same-process A/B of the WebAssembly SIMD BatchMatMul (src/nn/kernels/wasm_simd/) against
 * tfjs-backend-wasm's own kernel for batched right operands, which is the reference:
 *
 * 1. the attention products of bench/engine.ts's workload (batch 64 × 8 heads, 20 tokens,
 *    head width 32): the forward Q·Kᵀ and P·V and the transposed products of their
 *    gradients, plus two larger shapes to show where the kernel stands outside attention;
 * 2. the forward pass and the training step (forward + backward + AdamW) of engine.ts's
 *    module workload (4 transformer blocks), kernel on/off.
 *
 *     node --import tsx bench/simd_bmm.ts [--repeats 15]
 *
 * Old and new alternate within each repeat so both see the same machine load; each time
 * is a median (products: of means over 10 calls; forward: of single passes). Prints one line per case and, last, one JSON object with the ratios
 * (old / new: above 1 means the SIMD kernel is faster) and the load average.
 */
import os from "node:os";
import { tf } from "../src/nn/tf.ts";
import { initBackend } from "../src/nn/backend.ts";
import { setSimdBatchMatMulEnabled, simdBatchMatMulInfo } from "../src/nn/kernels/wasm_simd/batch_mat_mul.ts";
import { buildModuleWorkload } from "./transformer_modules.ts";

const CASES: Array<{ name: string; a: number[]; b: number[]; ta: boolean; tb: boolean }> = [
  { name: "Q·Kᵀ (kᵀ stored)", a: [64, 8, 20, 32], b: [64, 8, 32, 20], ta: false, tb: false },
  { name: "P·V", a: [64, 8, 20, 20], b: [64, 8, 20, 32], ta: false, tb: false },
  { name: "dY·Bᵀ (grad)", a: [64, 8, 20, 32], b: [64, 8, 20, 32], ta: false, tb: true },
  { name: "Aᵀ·dY (grad)", a: [64, 8, 20, 20], b: [64, 8, 20, 32], ta: true, tb: false },
  { name: "[8,128,64]·[8,64,128]", a: [8, 128, 64], b: [8, 64, 128], ta: false, tb: false },
  { name: "[4,256,256]·[4,256,256]", a: [4, 256, 256], b: [4, 256, 256], ta: false, tb: false },
];

function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Milliseconds per call of `f`, over `inner` calls; the last result is read back. (wasm
 * kernels run synchronously, so the loop times the work; one read-back keeps the 1 MB
 * copies of dataSync out of per-product times. dataSync stays inside tidy but is not
 * returned: tidy would walk a returned typed array element by element.)
 */
function timeOnce(simd: boolean, f: () => tf.Tensor, inner: number): number {
  setSimdBatchMatMulEnabled(simd);
  const t = performance.now();
  for (let i = 0; i < inner; i++) {
    tf.tidy(() => {
      const y = f();
      if (i === inner - 1) y.dataSync();
    });
  }
  return (performance.now() - t) / inner;
}

/** Median old and new times over `repeats` alternating runs (after one warm-up each). */
function ab(repeats: number, f: () => tf.Tensor, inner = 1): { old: number; simd: number } {
  timeOnce(false, f, inner), timeOnce(true, f, inner);
  const old: number[] = [];
  const simd: number[] = [];
  for (let r = 0; r < repeats; r++) old.push(timeOnce(false, f, inner)), simd.push(timeOnce(true, f, inner));
  return { old: median(old), simd: median(simd) };
}

async function main(): Promise<void> {
  const repeatsArg = process.argv.indexOf("--repeats");
  const repeats = repeatsArg > 0 ? Number(process.argv[repeatsArg + 1]) : 15;
  const info = await initBackend({ backend: "wasm" });
  const load = () => os.loadavg().map((l) => l.toFixed(2)).join(" ");
  console.log(`backend ${info.backend}, ${info.threads} thread(s); load average ${load()}`);
  const results: Record<string, number> = {};
  for (const c of CASES) {
    const a = tf.randomNormal(c.a, 0, 1, "float32", 1);
    const b = tf.randomNormal(c.b, 0, 1, "float32", 2);
    const t = ab(repeats, () => tf.matMul(a, b, c.ta, c.tb), 10);
    const flops = 2 * a.size * (c.tb ? c.b[c.b.length - 2]! : c.b[c.b.length - 1]!);
    console.log(`${c.name.padEnd(26)} tfjs ${t.old.toFixed(3)} ms, SIMD ${t.simd.toFixed(3)} ms (${(flops / t.simd / 1e6).toFixed(1)} GFLOP/s), ${(t.old / t.simd).toFixed(2)}x`);
    results[c.name] = Number((t.old / t.simd).toFixed(2));
    a.dispose(), b.dispose();
  }
  const w = buildModuleWorkload();
  for (let i = 0; i < 2; i++) w.trainStep(); // warm-up
  const fwd = ab(Math.max(5, repeats >> 1), () => w.forwardLoss());
  console.log(`forward, 4 blocks          tfjs ${fwd.old.toFixed(1)} ms, SIMD ${fwd.simd.toFixed(1)} ms, ${(fwd.old / fwd.simd).toFixed(2)}x`);
  const step = ab(5, () => tf.scalar(w.trainStep()));
  console.log(`training step, 4 blocks    tfjs ${step.old.toFixed(1)} ms, SIMD ${step.simd.toFixed(1)} ms, ${(step.old / step.simd).toFixed(2)}x`);
  setSimdBatchMatMulEnabled(true);
  console.log(JSON.stringify({
    speedup_old_over_new: results,
    forward_ms: { tfjs: Number(fwd.old.toFixed(1)), simd: Number(fwd.simd.toFixed(1)) },
    forward_speedup: Number((fwd.old / fwd.simd).toFixed(3)),
    step_ms: { tfjs: Number(step.old.toFixed(1)), simd: Number(step.simd.toFixed(1)) },
    step_speedup: Number((step.old / step.simd).toFixed(3)),
    kernel: simdBatchMatMulInfo().status,
    load_avg: load(),
  }));
}

await main();
