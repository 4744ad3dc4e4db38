/**
 * One GRPO training step (RLModule.trainingStep) timed phase by phase: rollout (sampling with
 * trajectory and log-probs), decode (VAE → structures), rewards (the DNG ReinforceReward:
 * creativity, energy, structure and composition diversity), loss (replaying every stochastic
 * step with gradients, clipping, optimizer steps).
 *
 *   node --import tsx bench/rl_step.ts [cpu|seed|both] [--ldm DIR]
 *
 * Shapes: "cpu" = the bundled experiment's CPU default (4 prompts × 8 samples, 50 DDIM
 * steps); "seed" = the seed's rl_dng (5 prompts × 64 samples = 320, 50 DDIM steps).
 * The LDM is the bundled checkpoint (checkpoints/mp_20/ldm) when present, else a randomly
 * initialised LDM of the same sizes (dit_tiny over a transformer_tiny VAE; the decode and
 * reward phases then see mostly invalid structures, so only rollout/loss are meaningful).
 *
 * Reference measured in the same run: one forward pass of the denoiser over the step's
 * batch (one sampling step's model call). Printed: seconds per phase and the phase's ratio to
 * that reference (ideal: rollout ≈ T·ref; loss ≈ 3·T·ref for forward + backward).
 * Last line: JSON summary.
 */
import { existsSync } from "node:fs";
import { initBackend } from "../src/nn/backend.ts";
import { tf } from "../src/nn/tf.ts";
import { Rng } from "../src/nn/rng.ts";
import { AdamW } from "../src/nn/optim.ts";
import { VAEModule } from "../src/vae_module/vae_module.ts";
import { LDMModule } from "../src/ldm_module/ldm_module.ts";
import { resolveDiTConfig } from "../src/ldm_module/sizes.ts";
import { DIFFUSION_DEFAULTS } from "../src/ldm_module/ldm_config.ts";
import { loadDataset } from "../src/data/datasets.ts";
import { ReinforceReward } from "../src/rl_module/reward.ts";
import { CompositionDiversityReward, CreativityReward, EnergyReward, StructureDiversityReward } from "../src/rl_module/components.ts";
import { RLModule } from "../src/rl_module/rl_module.ts";

const SHAPES = { cpu: { prompts: 4, group: 8 }, seed: { prompts: 5, group: 64 } } as const;
const STEPS = 50;

async function loadOrBuildLDM(dir: string): Promise<{ ldm: LDMModule; bundled: boolean }> {
  if (existsSync(dir)) return { ldm: await LDMModule.loadFromCheckpoint(dir), bundled: true };
  const vae = new VAEModule({ dModel: 128, nhead: 4, dimFeedforward: 512, numLayers: 3 }, new Rng(0));
  const hparams = { denoiser: resolveDiTConfig("dit_tiny"), diffusion: { ...DIFFUSION_DEFAULTS }, normalizeLatent: false };
  return { ldm: new LDMModule({ vae, hparams, rng: new Rng(1) }), bundled: false };
}

function dngReward(): ReinforceReward {
  return new ReinforceReward({
    normalizeFn: "std",
    referenceDataset: "mp-20",
    components: [
      new CreativityReward({ weight: 1, normalizeFn: null }),
      new EnergyReward({ weight: 1, normalizeFn: "norm" }),
      new StructureDiversityReward({ weight: 0.1, normalizeFn: "norm" }),
      new CompositionDiversityReward({ weight: 1, normalizeFn: "norm" }),
    ],
  });
}

/** Seconds of one denoiser forward over B samples of N sites (fastest of 3 after a warm-up). */
function referenceForward(ldm: LDMModule, B: number, N: number): number {
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

async function benchShape(name: keyof typeof SHAPES, ldm: LDMModule, sizes: number[]): Promise<Record<string, number>> {
  const { prompts, group } = SHAPES[name];
  const rl = new RLModule({
    ldm, rewardFn: dngReward(), seed: 0,
    rlConfigs: { num_group_samples: group, group_reward_norm: true, num_inner_batch: 2 },
    samplingConfigs: { sampler: "ddim", sampling_steps: STEPS, eta: 1, cfg_scale: 1 },
    optimizer: ({ params }) => new AdamW(params, { lr: 1e-5, weightDecay: 0 }),
  });
  const numAtoms = sizes.slice(0, prompts);
  const B = prompts * group;
  const ref = referenceForward(ldm, B, Math.max(...numAtoms));
  const record = await rl.trainingStep({ numAtoms });
  const phases = ["rollout", "decode", "rewards", "loss", "step"].map((p) => [p, record[`time/${p}`] as number] as const);
  console.log(`\n${name}: ${prompts} prompts × ${group} samples = ${B}, ${STEPS} DDIM steps, sites ${numAtoms.join(",")}`);
  console.log(`  reference: one denoiser forward over the batch ${ref.toFixed(4)} s`);
  for (const [p, s] of phases) console.log(`  ${p.padEnd(8)} ${s.toFixed(2).padStart(8)} s   ${(s / ref).toFixed(1).padStart(8)} × reference`);
  rl.optimizer.dispose();
  return { samples: B, reference_s: ref, ...Object.fromEntries(phases.map(([p, s]) => [`${p}_s`, s])), ...Object.fromEntries(phases.map(([p, s]) => [`${p}_ratio`, s / ref])) };
}

async function main(): Promise<void> {
  const which = process.argv[2] ?? "both";
  const dirArg = process.argv.indexOf("--ldm");
  const dir = dirArg > 0 ? process.argv[dirArg + 1] : "checkpoints/mp_20/ldm";
  const info = await initBackend();
  const { ldm, bundled } = await loadOrBuildLDM(dir);
  console.log(`backend ${info.backend} (${info.threads} threads); LDM ${bundled ? dir : "random dit_tiny (no bundled checkpoint)"}; ${ldm.denoiser.numParameters()} denoiser parameters`);
  // Prompt sizes: the first MP-20 validation structures, as the trainer draws them.
  const sizes = (await loadDataset("mp_20", "val")).records.slice(0, 5).map((r) => r.structure.length);
  const out: Record<string, unknown> = { backend: info.backend, bundled };
  for (const name of (which === "both" ? ["cpu", "seed"] : [which]) as (keyof typeof SHAPES)[]) out[name] = await benchShape(name, ldm, sizes);
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
