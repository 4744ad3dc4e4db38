/**
 * RLModule on a tiny randomly initialised LDM (tiny VAE + tiny DiT, 20 diffusion steps,
 * 5 DDIM sampling steps) with a cheap custom reward: rollout shapes and log-probs, on-policy
 * ratio/KL, the gradient check through calculateLoss, group-wise advantages, a training step's
 * record and a flat tensor count, checkpoints that load as an LDM, exact resume, options
 * beyond the seed, and bad input.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tf } from "../../src/nn/tf.ts";
import { Rng } from "../../src/nn/rng.ts";
import { VAEModule } from "../../src/vae_module/vae_module.ts";
import { saveVAE } from "../../src/vae_module/vae_checkpoint.ts";
import { LDMModule } from "../../src/ldm_module/ldm_module.ts";
import { resolveDiTConfig } from "../../src/ldm_module/sizes.ts";
import { DIFFUSION_DEFAULTS } from "../../src/ldm_module/ldm_config.ts";
import { ReinforceReward } from "../../src/rl_module/reward.ts";
import { CompositionDiversityReward, RewardComponent, type RewardContext } from "../../src/rl_module/components.ts";
import type { GeneratedBatch } from "../../src/ldm_module/ldm_sampling.ts";
import { RLModule, rawWeightedTotals, type Trajectory } from "../../src/rl_module/rl_module.ts";
import { calculateLogProb } from "../../src/rl_module/grpo.ts";
import { stepOf, trajectoryLogProbs } from "../../src/rl_module/trajectory.ts";
import { rlTrainSettings } from "../../src/rl_module/train_settings.ts";
import { AdamW } from "../../src/nn/optim.ts";
import { ConfigError } from "../../src/config/errors.ts";
import { instantiate } from "../../src/config/instantiate.ts";
import { readCheckpoint } from "../../src/nn/checkpoint.ts";
import { CheckpointError } from "../../src/nn/errors.ts";
import { RLError } from "../../src/crystal/errors.ts";
import { directionalDifference } from "../helpers/finite_difference.ts";

await tf.setBackend("cpu");

const TMP = mkdtempSync(join(tmpdir(), "rl-module-"));
const VAE_DIR = join(TMP, "vae");
const vaeForSave = new VAEModule({ dModel: 32, nhead: 4, dimFeedforward: 64, numLayers: 1, fourierFrequencies: 4, maxAtoms: 6 }, new Rng(3));
await saveVAE(VAE_DIR, vaeForSave);
const SAMPLING = { sampler: "ddim", sampling_steps: 5, eta: 1.0, cfg_scale: 1.0 };

function tinyLDM(seed = 1): LDMModule {
  const vae = new VAEModule(vaeForSave.config, new Rng(3));
  vae.loadStateDict(vaeForSave.stateDict());
  const denoiser = { ...resolveDiTConfig({ size: "dit_tiny", depth: 1, hiddenSize: 32, numHeads: 2 }), latentDim: vae.config.latentDim };
  const hparams = { denoiser, diffusion: { ...DIFFUSION_DEFAULTS, diffusionSteps: 20 }, normalizeLatent: false };
  return new LDMModule({ vae, hparams, rng: new Rng(seed), vaeCkptPath: VAE_DIR });
}

/**
 * A random tiny VAE decodes almost no valid crystal, so the test reward reads the generated
 * latents instead (a real, non-constant signal the policy can learn): minus the mean square
 * of each sample's masked latent entries.
 */
class LatentNormReward extends RewardComponent {
  constructor() {
    super({ name: "latent_norm" });
  }
  compute(ctx: RewardContext): number[] {
    const { z, mask } = ctx.batchGen as GeneratedBatch;
    const values = tf.tidy(() => {
      const sq = tf.sum(tf.mul(tf.square(z), tf.expandDims(mask, -1)), [1, 2]);
      return tf.neg(tf.div(sq, tf.mul(tf.sum(mask, 1), z.shape[2] as number)));
    });
    const out = values.arraySync() as number[];
    values.dispose();
    return out;
  }
}

function tinyReward(): ReinforceReward {
  return new ReinforceReward({ components: [new LatentNormReward()], normalizeFn: "std", referenceDataset: "mp-20" });
}

function makeRL(rlConfigs: Record<string, unknown> = {}, lr = 1e-3, rewardFn = tinyReward()): RLModule {
  return new RLModule({
    ldm: tinyLDM(),
    rewardFn,
    rlConfigs: { num_group_samples: 3, group_reward_norm: true, num_inner_batch: 2, ...rlConfigs },
    samplingConfigs: SAMPLING,
    optimizer: ({ params }) => new AdamW(params, { lr, weightDecay: 0 }),
    seed: 0,
  });
}

const PROMPTS = { numAtoms: [2, 4] };

test("rollout: trajectory shapes, group repetition, last step deterministic, log-probs reproduce on-policy", () => {
  const rl = makeRL();
  const { batchGen, trajectory } = rl.rollout(PROMPTS);
  assert.equal(trajectory.zs.shape, [6, 6, 4, 8]);
  assert.equal(trajectory.means.shape, [5, 6, 4, 8]);
  assert.equal(trajectory.logProbs.shape, [5, 6]);
  assert.equal(trajectory.active, [true, true, true, true, false]);
  assert.equal(batchGen.numAtoms, [2, 2, 2, 4, 4, 4]);
  assert.is(batchGen.structures.length, 6);
  for (const i of [0, 2, 3]) {
    const again = rl.stepLogProb(rl.ldm.denoiser, trajectory, i).arraySync();
    const stored = (tf.gather(trajectory.logProbs, i) as unknown as tf.Tensor1D).arraySync();
    again.forEach((v, b) => assert.ok(Math.abs(v - stored[b]) <= 1e-5 * Math.abs(stored[b]) + 1e-6, `step ${i} sample ${b}: ${v} vs ${stored[b]}`));
  }
  rl.dispose();
});

test("calculateLoss on-policy: ratio 1, KL 0, one entry per stochastic step, gradients for the denoiser only", () => {
  const rl = makeRL();
  const { trajectory } = rl.rollout(PROMPTS);
  const res = rl.calculateLoss(trajectory, [1, -1, 0, 0.5, -0.5, 0]);
  assert.is(res.steps.length, 4);
  for (const s of res.steps) {
    assert.ok(Math.abs(s.ratio - 1) < 1e-5, `ratio ${s.ratio}`);
    assert.ok(Math.abs(s.kl) < 1e-9, `kl ${s.kl}`);
    assert.is(s.clipFrac, 0);
  }
  assert.ok([...res.grads.keys()].every((k) => k.startsWith("denoiser.")));
  assert.is(res.grads.size, rl.ldm.trainableParameters().size);
  tf.dispose([...res.grads.values()]);
  rl.dispose();
});

test("gradient check through calculateLoss: wide clip, β = γ = 0 → advantage-weighted ∇log p (finite differences)", () => {
  const rl = makeRL({ clip_ratio: 1e6, kl_weight: 0, entropy_weight: 0 });
  const { trajectory } = rl.rollout(PROMPTS);
  const adv = [1.1, -0.7, 0.2, -1.3, 0.5, 0.2];
  const res = rl.calculateLoss(trajectory, adv);
  const active = trajectory.active.flatMap((a, i) => (a ? [i] : []));
  const F = () => -active.reduce((s, i) => s + tf.tidy(() => tf.mean(tf.mul(rl.stepLogProb(rl.ldm.denoiser, trajectory, i), adv)).dataSync()[0]), 0) / active.length;
  const params = rl.ldm.trainableParameters();
  const rng = new Rng(11);
  for (let trial = 0; trial < 2; trial++) {
    const dirs = new Map([...params].map(([k, v]) => [k, rng.tensorNormal(v.shape, 0, 1)]));
    const analytic = [...params.keys()].reduce((s, k) => s + tf.tidy(() => tf.sum(tf.mul(res.grads.get(k)!, dirs.get(k)!)).dataSync()[0]), 0);
    const keys = [...params.keys()];
    const numeric = directionalDifference(keys.map((k) => params.get(k)!), keys.map((k) => dirs.get(k)!), F, 1e-3);
    assert.ok(Math.abs(analytic - numeric) <= 2e-2 * Math.abs(numeric) + 1e-3, `trial ${trial}: analytic ${analytic} vs finite differences ${numeric}`);
    tf.dispose([...dirs.values()]);
  }
  tf.dispose([...res.grads.values()]);
  rl.dispose();
});

test("loss_chunk_steps: stacked replay gives the per-step gradients and terms (1, 3, all steps; off-policy, reference KL)", () => {
  // Off-policy on purpose (the weights move after the rollout), so ratio, clip and KL are all live.
  const results = [1, 3, 0].map((chunk) => {
    const rl = makeRL({ loss_chunk_steps: chunk, clip_ratio: 0.05, kl_weight: 0.5, entropy_weight: 1e-2, kl_reference: "reference" });
    const { trajectory } = rl.rollout(PROMPTS);
    const w = rl.ldm.denoiser.trainableParameters();
    w.forEach((v, k) => v.assign(tf.tidy(() => tf.add(v, tf.mul(0.003, new Rng(k.length).tensorNormal(v.shape, 0, 1))))));
    const res = rl.calculateLoss(trajectory, [1.1, -0.7, 0.2, -1.3, 0.5, 0.2]);
    const flat = tf.tidy(() => tf.concat([...res.grads.values()].map((g) => tf.reshape(g, [-1]))).dataSync().slice());
    tf.dispose([...res.grads.values()]);
    rl.dispose();
    return { flat, steps: res.steps };
  });
  const [perStep, ...chunked] = results;
  const scale = Array.from(perStep.flat).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  assert.ok(scale > 1e-4, `gradients vanish (${scale}): the comparison would be empty`);
  for (const other of chunked) {
    assert.is(other.flat.length, perStep.flat.length);
    const worst = Array.from(other.flat).reduce((m, v, j) => Math.max(m, Math.abs(v - perStep.flat[j])), 0);
    assert.ok(worst <= 1e-5 * scale + 1e-7, `max |Δgrad| ${worst} (largest gradient ${scale})`);
    other.steps.forEach((st, k) => {
      assert.is(st.step, perStep.steps[k].step);
      for (const key of ["loss", "ratio", "kl", "entropy", "clipFrac"] as const) assert.ok(Math.abs(st[key] - perStep.steps[k][key]) <= 1e-5 * Math.abs(perStep.steps[k][key]) + 1e-7, `step ${k} ${key}: ${st[key]} vs ${perStep.steps[k][key]}`);
    });
  }
  assert.ok(perStep.steps.some((s) => Math.abs(s.ratio - 1) > 1e-3), "the replay stayed on-policy; the test would not exercise the ratio");
});

test("rawWeightedTotals: Σ weight × raw per structure, ignoring normalised values", () => {
  const row = (a: number, b: number) => ({ a: { raw: a, normalized: 99, weighted: 99 }, b: { raw: b, normalized: -99, weighted: -99 } });
  const d = {
    rows: [row(1, 2), row(-0.5, 4)].map((components, index) => ({ index, formula: null, components, total: 0 })),
    components: [{ name: "a", weight: 1 }, { name: "b", weight: 0.1 }].map((c) => ({ ...c, normalizeFn: "norm", logOnly: false, seconds: 0, zeroVarianceFraction: NaN })),
    total: [0, 0], zeroVarianceFraction: NaN, metricSeconds: {},
  };
  const got = rawWeightedTotals(d);
  assert.ok(Math.abs(got[0] - 1.2) < 1e-12 && Math.abs(got[1] - -0.1) < 1e-12, `${got}`);
});

test("computeRewards and validationStep log the batch MMD² of each diversity component", async () => {
  const components = [new LatentNormReward(), new CompositionDiversityReward({ weight: 0.5, normalizeFn: "norm" })];
  const rl = makeRL({}, 1e-3, new ReinforceReward({ components, normalizeFn: "std", referenceDataset: "mp-20" }));
  const { batchGen } = rl.rollout(PROMPTS);
  const { mmd2, decomposition } = await rl.computeRewards(batchGen);
  assert.equal(Object.keys(mmd2), ["composition"]);
  const valid = batchGen.structures.filter((s) => s !== null).length;
  if (valid >= 3) {
    assert.ok(Number.isFinite(mmd2.composition), `MMD² ${mmd2.composition}`);
    // Leave-one-out contributions: their batch mean is not the batch MMD² (which is what RL lowers).
    assert.ok(decomposition.components.some((c) => c.name === "composition_diversity"));
  }
  const val = await rl.validationStep(PROMPTS, { seed: 3 });
  assert.ok("val/mmd2/composition" in val, Object.keys(val).join(", "));
  tf.dispose([batchGen.z, batchGen.mask]);
});

test("computeRewards: group-wise std normalisation gives zero-mean groups; bad sizes are RLErrors", async () => {
  const rl = makeRL();
  const { batchGen, trajectory } = rl.rollout(PROMPTS);
  const { rewards, advantages, decomposition, mmd2 } = await rl.computeRewards(batchGen);
  assert.is(rewards.length, 6);
  for (const g of [0, 1]) {
    const a = advantages.slice(3 * g, 3 * g + 3);
    assert.ok(Math.abs(a.reduce((s, v) => s + v, 0)) < 1e-9, `group ${g} advantages ${a}`);
  }
  assert.is(decomposition.components[0].name, "latent_norm");
  assert.equal(mmd2, {}, "no MMD diversity component, no batch MMD²");
  let caught: unknown = null;
  await rl.computeRewards({ ...batchGen, structures: batchGen.structures.slice(0, 5) }).catch((e) => (caught = e));
  assert.ok(caught instanceof RLError && /5 samples do not split into groups of num_group_samples = 3/.test((caught as Error).message), String(caught));
  assert.throws(() => rl.calculateLoss(trajectory, [1, 2]), /2 advantages for 6 samples/);
  rl.dispose();
});

test("trainingStep: record names every term and component, weights move, tensor count flat", async () => {
  const rl = makeRL();
  const before = rl.ldm.denoiser.stateDict().get("final_layer.linear.weight")!.clone();
  const counts: number[] = [];
  let record: Record<string, unknown> = {};
  for (let k = 0; k < 3; k++) {
    record = await rl.trainingStep(PROMPTS);
    counts.push(tf.memory().numTensors);
  }
  for (const key of ["reward", "train/reward", "train/reward_raw", "train/reward/latent_norm", "loss", "surrogate", "kl", "entropy", "ratio", "log_ratio", "clip_frac", "grad_norm", "advantage_mean", "lr", "time/rollout", "time/decode", "time/rewards", "time/loss"]) {
    assert.ok(key in record, `missing ${key}`);
  }
  // One component of weight 1: the raw total is its raw mean (the seed's total is normalised, so differs).
  assert.ok(Math.abs((record["train/reward_raw"] as number) - (record["train/reward/latent_norm"] as number)) < 1e-12, `raw ${record["train/reward_raw"]}`);
  assert.is((record["steps/ratio"] as number[]).length, 4);
  assert.ok((record.advantage_abs_mean as number) > 0.1, `advantages ${record.advantage_abs_mean}`);
  assert.is((record["steps/kl"] as number[]).length, 4);
  assert.equal(counts[1], counts[0], `tensor counts ${counts}`);
  assert.equal(counts[2], counts[0], `tensor counts ${counts}`);
  const after = rl.ldm.denoiser.stateDict().get("final_layer.linear.weight")!;
  assert.ok(tf.tidy(() => tf.max(tf.abs(tf.sub(after, before))).dataSync()[0]) > 0, "weights did not change");
  before.dispose();
  rl.dispose();
});

test("checkpoint: loads as an LDM, and resuming reproduces the next step exactly", async () => {
  const dir = join(TMP, "rl_ckpt");
  const a = makeRL();
  await a.trainingStep(PROMPTS);
  await a.saveCheckpoint(dir, { step: 1, rewardConfig: null });
  const next = await a.trainingStep(PROMPTS);
  const asLdm = await LDMModule.loadFromCheckpoint(dir);
  assert.is(asLdm.denoiser.numParameters(), a.ldm.denoiser.numParameters());
  asLdm.dispose({ vae: true });
  const b = await RLModule.loadFromCheckpoint(dir, {
    rewardFn: tinyReward(),
    optimizer: ({ params }) => new AdamW(params, { lr: 1e-3, weightDecay: 0 }),
    resume: true,
  });
  assert.equal(b.rlConfigs, a.rlConfigs);
  const again = await b.trainingStep(PROMPTS);
  for (const key of ["reward", "loss", "kl", "ratio", "entropy", "grad_norm"]) assert.is(again[key], next[key], key);
  assert.equal(again["steps/ratio"], next["steps/ratio"]);
  // A checkpoint of another architecture is refused before any weight is touched.
  const other = new RLModule({
    ldm: new LDMModule({ vae: tinyLDM().vae, hparams: { ...a.ldm.hparams, denoiser: { ...a.ldm.hparams.denoiser, depth: 2 } }, rng: new Rng(5) }),
    rewardFn: tinyReward(), samplingConfigs: SAMPLING,
  });
  const ckpt = await readCheckpoint(dir);
  assert.throws(() => other.restoreTrainingState(ckpt), (e: unknown) => e instanceof CheckpointError && /blocks\.1/.test((e as Error).message));
  other.dispose();
  a.dispose();
  b.dispose();
});

test("learning: GRPO raises the (latent) reward of the tiny model within a few steps", async () => {
  const rl = makeRL({ clip_ratio: 0.2, kl_weight: 0, num_group_samples: 8 }, 3e-3);
  const rewards: number[] = [];
  for (let k = 0; k < 12; k++) rewards.push((await rl.trainingStep(PROMPTS)).reward as number);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(mean(rewards.slice(-4)) > mean(rewards.slice(0, 4)), `rewards ${rewards.map((r) => r.toFixed(3))}`);
  rl.dispose();
});

test("kl_reference: reference and loss types run; KL to the frozen initial policy grows after updates", async () => {
  const rl = makeRL({ kl_reference: "reference", loss_type: "dr_grpo" });
  const first = await rl.trainingStep(PROMPTS);
  await rl.trainingStep(PROMPTS);
  const third = await rl.trainingStep(PROMPTS);
  assert.ok((third.kl as number) > 0 && (third.kl as number) > (first.kl as number) * 0.999, `kl ${first.kl} → ${third.kl}`);
  rl.dispose();
  const bnpo = makeRL({ loss_type: "bnpo" });
  const rec = await bnpo.trainingStep(PROMPTS);
  assert.ok(Number.isFinite(rec.loss as number));
  bnpo.dispose();
});

test("bad settings are ConfigErrors naming the key, before any sampling", () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ num_group_samples: 0 }, /rl_configs\.num_group_samples/],
    [{ loss_type: "ppo" }, /rl_configs\.loss_type.*grpo, bnpo, dr_grpo/],
    [{ clip_ratio: -1 }, /rl_configs\.clip_ratio/],
    [{ kl_reference: "init" }, /rl_configs\.kl_reference/],
    [{ num_inner_batches: 2 }, /rl_configs\.num_inner_batches.*allowed keys/],
    [{ loss_chunk_steps: -1 }, /rl_configs\.loss_chunk_steps.*integer ≥ 0/],
    [{ loss_chunk_steps: 2.5 }, /rl_configs\.loss_chunk_steps/],
  ];
  for (const [cfg, re] of bad) {
    assert.throws(() => new RLModule({ ldm: tinyLDM(), rewardFn: tinyReward(), rlConfigs: cfg, samplingConfigs: SAMPLING }), (e: unknown) => e instanceof ConfigError && re.test((e as Error).message));
  }
  assert.throws(() => new RLModule({ ldm: tinyLDM(), rewardFn: tinyReward(), samplingConfigs: { ...SAMPLING, eta: 0 } }), /eta.*deterministic/);
  assert.throws(() => new RLModule({ ldm: tinyLDM(), rewardFn: tinyReward(), samplingConfigs: { ...SAMPLING, sampling_steps: 500 } }), /sampling_steps/);
});

test("config: the seed's keys and dotted _target_ names instantiate an RLModule; bad paths are ConfigErrors", async () => {
  const ldmDir = join(TMP, "ldm_for_config");
  const ldm = tinyLDM();
  await ldm.saveCheckpoint(ldmDir);
  ldm.dispose({ vae: true });
  const cfg = {
    _target_: "src.rl_module.rl_module.RLModule",
    ldm_ckpt_path: ldmDir,
    vae_ckpt_path: VAE_DIR,
    rl_configs: { clip_ratio: 0.001, kl_weight: 1.0, entropy_weight: 1e-5, num_group_samples: 2, group_reward_norm: true, num_inner_batch: 2 },
    reward_fn: {
      _target_: "src.rl_module.reward.ReinforceReward",
      normalize_fn: "std", eps: 1e-4, reference_dataset: "mp-20",
      components: [
        { _target_: "src.rl_module.components.CreativityReward", weight: 1.0, normalize_fn: null },
        { _target_: "src.rl_module.components.EnergyReward", weight: 1.0, normalize_fn: "norm" },
        { _target_: "src.rl_module.components.StructureDiversityReward", weight: 0.1, normalize_fn: "norm" },
        { _target_: "src.rl_module.components.CompositionDiversityReward", weight: 1.0, normalize_fn: "norm" },
      ],
    },
    sampling_configs: { sampler: "ddim", sampling_steps: 5, eta: 1.0, cfg_scale: 2.0, collect_trajectory: true, progress: false },
    optimizer: { _target_: "torch.optim.AdamW", _partial_: true, lr: 1e-5, weight_decay: 0.0 },
    scheduler: { _target_: "ConstantLR", _partial_: true },
  };
  const rl = await instantiate<RLModule>(cfg);
  assert.ok(rl instanceof RLModule);
  assert.is(rl.rlConfigs.numGroupSamples, 2);
  assert.is(rl.optimizer.lr, 1e-5);
  assert.equal(rl.rewardFn.components.map((c) => c.name), ["creativity", "energy", "structure_diversity", "composition_diversity"]);
  // An RL checkpoint stores the reward config: it reloads without passing a reward.
  await rl.saveCheckpoint(join(TMP, "rl_from_config"), { rewardConfig: cfg.reward_fn });
  const again = await RLModule.loadFromCheckpoint(join(TMP, "rl_from_config"));
  assert.is(again.rewardFn.components.length, 4);
  assert.equal(again.samplingConfigs, rl.samplingConfigs);
  rl.dispose();
  again.dispose();
  const missing = { ...cfg, ldm_ckpt_path: join(TMP, "nope") };
  await instantiate(missing).then(() => assert.unreachable("loaded a missing checkpoint"), (e) => assert.ok(e instanceof ConfigError && /rl_module.ldm_ckpt_path.*does not exist/.test(e.message), String(e)));
  await instantiate({ ...cfg, rl_config: {} }).then(() => assert.unreachable("accepted rl_config"), (e) => assert.ok(e instanceof ConfigError && /rl_config/.test(e.message), String(e)));
});

test("calculateLoss matches the torch float64 reference per step (fixture policy: the reference's new means)", () => {
  type Nested = number | Nested[];
  const REF = JSON.parse(readFileSync(new URL("../fixtures/rl_module/grpo_reference.json", import.meta.url), "utf8"));
  const { T, B, N, C } = REF.shape;
  const flat = (a: Nested): number[] => (Array.isArray(a) ? a.flatMap(flat) : [a]);
  const stack = (a: Nested, n: number) => tf.tensor4d(flat(a), [n, B, N, C]);
  const zs = stack(REF.zs, T + 1), meansOld = stack(REF.means_old, T), stds = stack(REF.stds, T), meansNew = stack(REF.means_new, T);
  const mask = tf.tensor2d(flat(REF.mask), [B, N]);
  /** The policy whose step-i mean is the fixture's new mean (tied to a weight by 0·w so gradients exist). */
  class FixturePolicyRL extends RLModule {
    override stepsLogProb(_d: unknown, t: Trajectory, steps: readonly number[]): tf.Tensor2D {
      return tf.tidy(() => {
        const tie = tf.mul(0, tf.sum(this.ldm.denoiser.stateDict().values().next().value!));
        const rows = steps.map((i) => calculateLogProb(stepOf(t.zs, i + 1), tf.add(stepOf(meansNew, i), tie) as tf.Tensor3D, stepOf(t.stds, i), t.mask));
        return tf.stack(rows) as tf.Tensor2D;
      });
    }
  }
  for (const setting of REF.settings) {
    for (const lossType of ["grpo", "bnpo", "dr_grpo"]) {
      const rl = new FixturePolicyRL({
        ldm: tinyLDM(), rewardFn: tinyReward(), samplingConfigs: { ...SAMPLING, sampling_steps: T },
        rlConfigs: { clip_ratio: setting.clip_ratio, kl_weight: setting.kl_weight, entropy_weight: setting.entropy_weight, loss_type: lossType },
      });
      const { logProbs, active } = trajectoryLogProbs(zs, meansOld, stds, mask);
      const traj: Trajectory = { zs, means: meansOld, stds, logProbs, mask, y: null, timesteps: Int32Array.from({ length: T }, (_, k) => T - 1 - k), active };
      const res = rl.calculateLoss(traj, REF.advantages);
      const scale = REF.advantages.reduce((a: number, v: number) => a + Math.abs(v), 0) / B;
      const near = (a: number, b: number, what: string, floor = scale) => assert.ok(Math.abs(a - b) <= 1e-5 * Math.abs(b) + 2e-7 * floor, `${setting.name} ${lossType} ${what}: ${a} vs ${b}`);
      assert.is(res.steps.length, setting.steps.length);
      res.steps.forEach((st, k) => {
        const want = setting.steps[k];
        near(st.loss, want.loss[lossType], `step ${k} loss`);
        near(st.ratio, want.ratio, `step ${k} ratio`, 1);
        near(st.kl, want.kl, `step ${k} kl`, Math.abs(want.log_ratio) * 1e-3);
        near(st.entropy, want.entropy, `step ${k} entropy`, 1);
      });
      near(res.mean.loss, setting.total_loss_active[lossType], "accumulated loss (1/T_active)");
      tf.dispose([...res.grads.values(), logProbs]);
      rl.dispose();
    }
  }
  tf.dispose([zs, meansOld, stds, meansNew, mask]);
});

test("train settings: trainer/data/callback keys are read and checked", () => {
  const cfg = {
    trainer: { max_steps: 20, val_check_interval: 5 },
    callbacks: { early_stopping: { monitor: "val/reward", mode: "max", patience: 3 }, model_checkpoint: { dirpath: "/x/ckpt" } },
    data: { data_dir: "./datasets/mp_20", dataset_type: "mp_20", batch_size: 4 },
    paths: { output_dir: "/x" },
    logger: { jsonl: { save_dir: "/x", file_name: "metrics.jsonl" } },
    seed: 7,
    ckpt_path: null,
  };
  const s = rlTrainSettings(cfg);
  assert.equal([s.maxSteps, s.valEvery, s.patience, s.batchSize, s.dataset, s.dataRoot, s.seed, s.checkpointDir, s.metricsPath], [20, 5, 3, 4, "mp_20", "./datasets", 7, "/x/ckpt", "/x/metrics.jsonl"]);
  assert.is(rlTrainSettings({ ...cfg, trainer: { max_steps: -1 } }).maxSteps, Infinity);
  assert.throws(() => rlTrainSettings({ ...cfg, data: { ...cfg.data, batch_size: 0 } }), /data\.batch_size/);
  assert.throws(() => rlTrainSettings({ ...cfg, callbacks: { early_stopping: { mode: "up" } } }), /callbacks\.early_stopping\.mode/);
});

test.after(() => rmSync(TMP, { recursive: true, force: true }));

test.run();
