/**
 * LDM benchmark: DiT training-step time and DDIM-50 sampling speed of our engine, next to
 * the same DiT in PyTorch (bench/torch_dit.py, Debian's /usr/bin/python3) measured in the
 * same run with the same thread count.
 *
 *     npm run bench ldm                         # dit_tiny, batch 64 × 12 tokens, sampling 100 × 50 steps
 *     node --import tsx bench/ldm.ts --size dit_s --repeats 5
 *
 * Ours: one step = q-sample + DiT forward + improved-DDPM loss (MSE + vb) + backward + AdamW
 * (GaussianDiffusion.trainingLosses); sampling = ddimSampleLoop over a respaced "ddim50"
 * diffusion (model calls plus the step maths). Torch: the step with the MSE term only, and
 * sampling as 50 bare model calls, so the torch side does slightly less work. Tokens: 12 per
 * structure with the last quarter masked (MP-20 has ~10 sites on average).
 * Prints a table and, last, one JSON line.
 */
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { initBackend } from "../src/nn/backend.ts";
import { tf } from "../src/nn/tf.ts";
import { Rng } from "../src/nn/rng.ts";
import { AdamW, clipGradNorm, disposeGrads, valueAndGrads } from "../src/nn/optim.ts";
import { DiT } from "../src/ldm_module/denoiser.ts";
import { DIT_SIZES, resolveDiTConfig, type DiTSizeName } from "../src/ldm_module/sizes.ts";
import { createDiffusion, spacedDiffusion } from "../src/ldm_module/diffusion/index.ts";
import { maskFromNumAtoms } from "../src/ldm_module/ldm_sampling.ts";

const PYTHON = "/usr/bin/python3";
const TORCH_SCRIPT = fileURLToPath(new URL("./torch_dit.py", import.meta.url));
const BATCH = 64;
const TOKENS = 12;
const SAMPLE_BATCH = 100;
const STEPS = 50;

function parseArgs(argv: string[]): { size: DiTSizeName; repeats: number } {
  let size: DiTSizeName = "dit_tiny";
  let repeats = 10;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--size") size = argv[++i] as DiTSizeName;
    else if (argv[i] === "--repeats") repeats = Number(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]}; use --size ${Object.keys(DIT_SIZES).join("|")} --repeats N`);
  }
  if (!(size in DIT_SIZES)) throw new Error(`unknown size ${size}`);
  return { size, repeats };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

function numAtoms(batch: number): number[] {
  return Array.from({ length: batch }, () => TOKENS - Math.floor(TOKENS / 4));
}

/** Median seconds per training step of our DiT over `repeats` steps (after 3 warm-up steps). */
function oursStep(dit: DiT, repeats: number): number {
  const rng = new Rng(1);
  const diffusion = createDiffusion({ decoderNll: "gaussian" });
  const opt = new AdamW(dit, { lr: 1e-4, weightDecay: 0 });
  const mask = tf.concat([maskFromNumAtoms(numAtoms(BATCH)), tf.zeros([BATCH, TOKENS / 4])], 1) as tf.Tensor2D;
  const x0 = rng.tensorNormal([BATCH, TOKENS, 8]) as tf.Tensor3D;
  const times: number[] = [];
  for (let i = 0; i < repeats + 3; i++) {
    const t0 = performance.now();
    const t = diffusion.sampleTimesteps(BATCH, () => rng.uniform());
    const { loss, grads } = valueAndGrads(dit, () => tf.mean(diffusion.trainingLosses(dit.asDenoiser(), x0, t, { mask, noise: (s) => rng.tensorNormal(s) }).loss));
    clipGradNorm(grads, 1);
    opt.step(grads);
    loss.dataSync();
    disposeGrads(grads);
    loss.dispose();
    if (i >= 3) times.push((performance.now() - t0) / 1000);
  }
  tf.dispose([mask, x0]);
  return median(times);
}

/** Seconds for one DDIM-50 sampling run of SAMPLE_BATCH structures (eta 1). */
function oursSampling(dit: DiT): number {
  const diffusion = spacedDiffusion(createDiffusion({ decoderNll: "gaussian" }), `ddim${STEPS}`);
  const rng = new Rng(2);
  const mask = tf.concat([maskFromNumAtoms(numAtoms(SAMPLE_BATCH)), tf.zeros([SAMPLE_BATCH, TOKENS / 4])], 1) as tf.Tensor2D;
  const run = () => diffusion.ddimSampleLoop(dit.asDenoiser(), [SAMPLE_BATCH, TOKENS, 8], { eta: 1, mask, noise: (s) => rng.tensorNormal(s) });
  run().sample.dispose(); // warm-up
  const t0 = performance.now();
  const out = run();
  out.sample.dataSync();
  const seconds = (performance.now() - t0) / 1000;
  tf.dispose([out.sample, mask]);
  return seconds;
}

function runTorch(size: DiTSizeName, threads: number, repeats: number): { ms_step: number; s_sampling_batch: number; torch: string } | string {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const s = DIT_SIZES[size];
  const args = [TORCH_SCRIPT, "--batch", String(BATCH), "--tokens", String(TOKENS), "--dim", String(s.hiddenSize), "--heads", String(s.numHeads),
    "--depth", String(s.depth), "--sample-batch", String(SAMPLE_BATCH), "--steps", String(STEPS), "--threads", String(threads), "--repeats", String(repeats)];
  const res = spawnSync(PYTHON, args, { encoding: "utf8" });
  const line = res.stdout.trim().split("\n").pop() ?? "";
  if (res.status !== 0 || !line.startsWith("{")) return `torch reference failed (exit ${res.status}): ${res.stderr.slice(-300)}`;
  return JSON.parse(line);
}

async function main(): Promise<void> {
  const { size, repeats } = parseArgs(process.argv.slice(2));
  const info = await initBackend();
  const dit = new DiT(resolveDiTConfig(size), new Rng(0));
  const step = oursStep(dit, repeats);
  const sampling = oursSampling(dit);
  dit.dispose();
  const torch = runTorch(size, info.threads, repeats);
  const ref = typeof torch === "string" ? null : torch;
  console.log(`${size}: training step batch ${BATCH}×${TOKENS} tokens; DDIM-${STEPS} sampling of ${SAMPLE_BATCH} structures; ${info.backend}, ${info.threads} threads`);
  console.log(`  ours   step ${(step * 1e3).toFixed(1)} ms   sampling ${(SAMPLE_BATCH / sampling).toFixed(2)} structures/s`);
  if (ref) {
    console.log(`  torch  step ${ref.ms_step.toFixed(1)} ms   sampling ${(SAMPLE_BATCH / ref.s_sampling_batch).toFixed(2)} structures/s  (torch ${ref.torch})`);
    console.log(`  ratio ours/torch: step time ${(step * 1e3 / ref.ms_step).toFixed(2)}×, sampling time ${(sampling / ref.s_sampling_batch).toFixed(2)}×`);
  } else {
    console.log(`  torch reference skipped: ${torch}`);
  }
  console.log(JSON.stringify({
    size, backend: info.backend, threads: info.threads,
    ours_ms_step: +(step * 1e3).toFixed(2), ours_structures_per_s: +(SAMPLE_BATCH / sampling).toFixed(2),
    torch_ms_step: ref?.ms_step ?? null, torch_structures_per_s: ref ? +(SAMPLE_BATCH / ref.s_sampling_batch).toFixed(2) : null,
    step_ratio: ref ? +(step * 1e3 / ref.ms_step).toFixed(3) : null, sampling_ratio: ref ? +(sampling / ref.s_sampling_batch).toFixed(3) : null,
  }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
