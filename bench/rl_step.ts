/**
 * One GRPO training step (RLModule.trainingStep) timed phase by phase: rollout (sampling with
 * trajectory and log-probs), decode (VAE → structures), rewards (the experiment's DNG
 * ReinforceReward), loss (replaying every stochastic step with gradients, clipping, optimizer
 * steps).
 *
 *   node --import tsx bench/rl_step.ts [cpu|seed|both] [key=value ...]
 *
 * Shapes, both from `train_rl experiment=mp_20/rl_dng` (the bundled LDM and reward):
 *   "cpu"  the experiment's CPU default as configured (prompts × group, DDIM steps, chunking);
 *   "seed" the seed's rl_dng shape: 5 prompts × 64 samples = 320, 50 DDIM steps.
 * Extra key=value arguments are config overrides applied to both (e.g.
 * rl_module.rl_configs.loss_chunk_steps=1).
 *
 * References measured in the same run:
 *   - one denoiser forward over the step's batch (one sampling step's model call): ideal
 *     rollout ≈ T·ref, loss ≈ 3·T·ref (forward + backward);
 *   - for "cpu", the loss phase again with loss_chunk_steps = 1 (one forward/backward per
 *     diffusion step, the seed's loop) on the same trajectory: the chunked replay's speed-up.
 * Last line: JSON summary.
 */
import { initBackend } from "../src/nn/backend.ts";
import { tf } from "../src/nn/tf.ts";
import { composeConfig } from "../src/config/loader.ts";
import { instantiate } from "../src/config/instantiate.ts";
import { loadDataset } from "../src/data/datasets.ts";
import { RLModule } from "../src/rl_module/rl_module.ts";
import { disposeTrajectory } from "../src/rl_module/trajectory.ts";
import { disposeGrads } from "../src/nn/optim.ts";

// loss_chunk_steps=4: the CPU experiment replays all steps in one pass (0), which at the seed's
// 160 samples per inner batch × 49 steps would be one 7,840-row forward/backward (GBs of activations).
const SEED_SHAPE = ["data.batch_size=5", "rl_module.rl_configs.num_group_samples=64", "rl_module.sampling_configs.sampling_steps=50", "rl_module.rl_configs.loss_chunk_steps=4"];

async function buildRL(overrides: string[]): Promise<{ rl: RLModule; prompts: number }> {
  const config = composeConfig({ configName: "train_rl", overrides: ["experiment=mp_20/rl_dng", ...overrides] });
  const rl = await instantiate<RLModule>(config.rl_module, { extraKwargs: { seed: 0 }, path: "rl_module" });
  return { rl, prompts: (config.data as { batch_size: number }).batch_size };
}

/** Seconds of one denoiser forward over B samples of N sites (fastest of 3 after a warm-up). */
function referenceForward(rl: RLModule, B: number, N: number): number {
  const ldm = rl.ldm;
  const x = tf.randomNormal([B, N, ldm.latentDim]) as tf.Tensor3D;
  const t = tf.fill([B], 500, "int32") as tf.Tensor1D;
  const mask = tf.ones([B, N]) as tf.Tensor2D;
  const times: number[] = [];
  for (let k = 0; k < 4; k++) {
    const t0 = performance.now();
    tf.tidy(() => ldm.denoiser.forward(x, t, { mask }).dataSync());
    if (k > 0) times.push((performance.now() - t0) / 1000);
  }
  tf.dispose([x, t, mask]);
  // The fastest of three: other processes on a shared machine only ever slow a run down.
  return Math.min(...times);
}

/** Seconds of calculateLoss (gradients only, no update) on one rollout with `chunk` steps per pass. */
function lossSeconds(rl: RLModule, numAtoms: number[], chunks: number[]): number[] {
  const { batchGen, trajectory } = rl.rollout({ numAtoms });
  const B = trajectory.zs.shape[1];
  const adv = Array.from({ length: B }, (_, b) => (b % 3) - 1);
  const out = chunks.map((chunk) => {
    (rl.rlConfigs as { lossChunkSteps: number }).lossChunkSteps = chunk;
    const t0 = performance.now();
    disposeGrads(rl.calculateLoss(trajectory, adv).grads);
    return (performance.now() - t0) / 1000;
  });
  disposeTrajectory(trajectory);
  tf.dispose([batchGen.z, batchGen.mask]);
  return out;
}

async function benchShape(name: "cpu" | "seed", overrides: string[], sizes: number[]): Promise<Record<string, number>> {
  const { rl, prompts } = await buildRL(name === "seed" ? [...SEED_SHAPE, ...overrides] : overrides);
  const group = rl.rlConfigs.numGroupSamples;
  const steps = rl.samplingConfigs.sampling_steps;
  const numAtoms = Array.from({ length: prompts }, (_, i) => sizes[i % sizes.length]);
  const B = prompts * group;
  const ref = referenceForward(rl, B, Math.max(...numAtoms));
  const record = await rl.trainingStep({ numAtoms });
  const phases = ["rollout", "decode", "rewards", "loss", "step"].map((p) => [p, record[`time/${p}`] as number] as const);
  console.log(`\n${name}: ${prompts} prompts × ${group} samples = ${B}, ${steps} DDIM steps, loss_chunk_steps ${rl.rlConfigs.lossChunkSteps}, num_inner_batch ${rl.rlConfigs.numInnerBatch}, sites ${numAtoms.join(",")}`);
  console.log(`  reference: one denoiser forward over the batch ${ref.toFixed(4)} s`);
  for (const [p, s] of phases) console.log(`  ${p.padEnd(8)} ${s.toFixed(2).padStart(8)} s   ${(s / ref).toFixed(1).padStart(8)} × reference`);
  const out: Record<string, number> = { samples: B, sampling_steps: steps, reference_s: ref, ...Object.fromEntries(phases.map(([p, s]) => [`${p}_s`, s])) };
  if (name === "cpu") {
    const configured = rl.rlConfigs.lossChunkSteps;
    const [perStep, chunked] = lossSeconds(rl, numAtoms, [1, configured]);
    console.log(`  loss replay of one rollout (all ${B} rows, gradients only): per step ${perStep.toFixed(2)} s, ${configured || "all"} steps per pass ${chunked.toFixed(2)} s → ${(perStep / chunked).toFixed(2)}× faster`);
    Object.assign(out, { loss_per_step_s: perStep, loss_chunked_s: chunked, loss_speedup: perStep / chunked });
  }
  rl.dispose();
  return out;
}

async function main(): Promise<void> {
  const which = process.argv[2] && !process.argv[2].includes("=") ? process.argv[2] : "both";
  const overrides = process.argv.slice(2).filter((a) => a.includes("="));
  const info = await initBackend();
  console.log(`backend ${info.backend} (${info.threads} threads)`);
  // Prompt sizes: the first MP-20 validation structures, as the trainer draws them.
  const sizes = (await loadDataset("mp_20", "val")).records.slice(0, 8).map((r) => r.structure.length);
  const out: Record<string, unknown> = { backend: info.backend };
  for (const name of (which === "both" ? ["cpu", "seed"] : [which]) as ("cpu" | "seed")[]) out[name] = await benchShape(name, overrides, sizes);
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
