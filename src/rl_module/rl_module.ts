/**
 * RLModule: GRPO fine-tuning of the latent diffusion model (Chemeleon2's `RLModule`).
 *
 *     const rl = await RLModule.loadFromCheckpoint("checkpoints/mp_20/ldm", { rewardFn });
 *     const { batchGen, trajectory } = rl.rollout(prompts);          // sample with log-probs
 *     const { rewards, advantages } = await rl.computeRewards(batchGen);
 *     const { grads, steps, mean } = rl.calculateLoss(trajectory, advantages);  // per-step terms
 *     const record = await rl.trainingStep(prompts);                 // all of the above + update
 *
 * The whole loop of one training step, in order (`trainingStep`):
 *   1. repeat every prompt `num_group_samples` times (groups are consecutive);
 *   2. rollout: sample with the current denoiser, recording every step's z, mean and std, and
 *      the log-prob of each step (grpo.ts `calculateLogProb`);
 *   3. rewards: decode, score with the ReinforceReward, normalise the totals per group
 *      (`group_reward_norm`) or over the batch → advantages;
 *   4. for each of `num_inner_batch` consecutive mini-batches: replay every stochastic step
 *      with gradients (`calculateLoss`: the GRPO loss of grpo.ts per step, scaled by 1/T_active
 *      and summed; `loss_chunk_steps` steps are stacked along the batch axis into one
 *      forward/backward, which gives the seed's per-step-backward gradients in fewer, larger
 *      passes), clip the global grad norm to 1, optimizer step;
 *   5. scheduler step.
 * The VAE is frozen (not a child module); only `ldm.denoiser.*` is trained.
 *
 * Seed behaviours, decided (see ../shared/REFERENCE.md):
 *   - loss scale: 1/T_active, the number of stochastic steps (the seed divides by T, counting
 *     the skipped deterministic last step; its gradients are (T−1)/T of ours, which AdamW
 *     nearly cancels);
 *   - the run's `seed` is applied: every random draw comes from one seeded generator;
 *   - ratio, log-ratio, clip fraction, KL, entropy and loss are logged for every step and as
 *     means (the seed keeps the last step's ratio only);
 *   - CreativityReward with no positive AMD distance has a defined value (components.ts);
 *   - rewards see the LDM's VAE (reward context `vae`), so the diversity MMDs use the seed's
 *     VAE features;
 *   - besides the seed's `train/reward` (batch mean of the normalised total, which hardly moves)
 *     the record holds `train/reward_raw` (Σ weight × raw, comparable across steps).
 */
import { existsSync } from "node:fs";
import { tf } from "../nn/tf.ts";
import { Rng, type RngState } from "../nn/rng.ts";
import { AdamW, clipGradNorm, disposeGrads, valueAndGrads, type GradMap } from "../nn/optim.ts";
import type { LRScheduler } from "../nn/schedulers.ts";
import { readCheckpoint, restoreCheckpoint, type Checkpoint } from "../nn/checkpoint.ts";
import { CheckpointError } from "../nn/errors.ts";
import { ConfigError } from "../config/errors.ts";
import { RLError } from "../crystal/errors.ts";
import { LDMModule } from "../ldm_module/ldm_module.ts";
import { DiT } from "../ldm_module/denoiser.ts";
import type { GeneratedBatch } from "../ldm_module/ldm_sampling.ts";
import { cfgModel, type Denoiser, type GaussianDiffusion } from "../ldm_module/diffusion/index.ts";
import { ReinforceReward, type RewardDecomposition } from "./reward.ts";
import type { RewardContext } from "./components.ts";
import { calculateLogProb, grpoObjective, tokenCounts, type GrpoTerms } from "./grpo.ts";
import { resolveRLConfigs, resolveSamplingConfigs, rlConfigsToYaml, type RLConfigs, type SamplingConfigs } from "./rl_configs.ts";
import {
  disposeTrajectory, innerBatches, repeatPrompts, selectTrajectoryRows, stackSteps, stepOf, trajectoryLogProbs,
  type RolloutInput, type Trajectory,
} from "./trajectory.ts";

export type { Trajectory, RolloutInput } from "./trajectory.ts";

/** Builds the optimizer over the module whose parameters it updates (a `_partial_` config). */
export type OptimizerFactory = (kwargs: { params: LDMModule }) => AdamW;
export type SchedulerFactory = (kwargs: { optimizer: AdamW }) => LRScheduler;

export interface RLModuleOptions {
  ldm: LDMModule;
  rewardFn: ReinforceReward;
  /** `rl_configs` (snake_case or camelCase keys; seed defaults for absent ones). */
  rlConfigs?: Record<string, unknown>;
  samplingConfigs?: Record<string, unknown>;
  /** Optimizer factory (default AdamW lr 1e-5, weight decay 0: the seed's). */
  optimizer?: OptimizerFactory;
  scheduler?: SchedulerFactory | null;
  /** The run's seed (default 0); rollouts draw from `Rng(seed).fork("rollout")`. */
  seed?: number;
  /** Where the LDM came from (stored in the resolved config). */
  ldmCkptPath?: string | null;
}

/** The loss terms of one step, or their means, as numbers. */
export type LossTerms = { [K in keyof GrpoTerms]: number };

export interface LossResult {
  /** Accumulated gradients of Σ_i loss_i / T_active by parameter name (caller disposes). */
  grads: GradMap;
  /** Terms of every stochastic step, in sampling order, with its step index and model timestep. */
  steps: (LossTerms & { step: number; timestep: number })[];
  /** Means over the stochastic steps (`loss` is the accumulated objective). */
  mean: LossTerms;
}

export interface RewardResult {
  /** Weighted total reward per sample. */
  rewards: number[];
  /** Normalised rewards (per group with group_reward_norm). */
  advantages: number[];
  decomposition: RewardDecomposition;
  /**
   * Batch-level MMD² between the generated and reference (MP-20) features, per diversity
   * component in the reward ({@link batchMmd2}); lower = closer to the reference distribution.
   */
  mmd2: Record<string, number>;
}

/** One training step's metrics record (one line of metrics.jsonl). */
export type StepRecord = Record<string, number | number[] | string>;

const TERM_KEYS: (keyof GrpoTerms)[] = ["loss", "surrogate", "kl", "entropy", "ratio", "logRatio", "clipFrac"];

export class RLModule {
  readonly ldm: LDMModule;
  readonly rewardFn: ReinforceReward;
  readonly rlConfigs: RLConfigs;
  readonly samplingConfigs: SamplingConfigs;
  readonly optimizer: AdamW;
  readonly scheduler: LRScheduler | null;
  /** The run's root generator; `rolloutRng` is its "rollout" stream. */
  readonly rng: Rng;
  readonly rolloutRng: Rng;
  /** Frozen copy of the initial denoiser (kl_reference: reference only). */
  readonly refDenoiser: DiT | null;
  readonly ldmCkptPath: string | null;

  constructor(options: RLModuleOptions) {
    if (!(options.ldm instanceof LDMModule)) throw new RLError("RLModule needs { ldm: LDMModule }; load one with LDMModule.loadFromCheckpoint(dir).");
    if (!(options.rewardFn instanceof ReinforceReward)) throw new RLError("RLModule needs { rewardFn: ReinforceReward }; build one from the components you want to reward.");
    this.ldm = options.ldm;
    this.rewardFn = options.rewardFn;
    this.rlConfigs = resolveRLConfigs(options.rlConfigs);
    this.samplingConfigs = resolveSamplingConfigs(options.samplingConfigs);
    this.ldm.samplingDiffusion(this.samplingConfigs.sampler, this.samplingConfigs.sampling_steps); // validates steps now
    this.rng = new Rng(options.seed ?? 0);
    this.rolloutRng = this.rng.fork("rollout");
    this.ldm.vae.freeze();
    this.optimizer = options.optimizer ? options.optimizer({ params: this.ldm }) : new AdamW(this.ldm, { lr: 1e-5, weightDecay: 0 });
    this.scheduler = options.scheduler ? options.scheduler({ optimizer: this.optimizer }) : null;
    this.refDenoiser = this.rlConfigs.klReference === "reference" ? frozenCopy(this.ldm.denoiser) : null;
    this.ldmCkptPath = options.ldmCkptPath ?? null;
  }

  /**
   * An RLModule around the LDM stored at `dir` (an LDM checkpoint or an RL checkpoint, which
   * is one). RL checkpoints also hold `rl_configs`, `sampling_configs` and the reward config:
   * options not given are taken from there. With `resume: true` the optimizer, scheduler and
   * rollout generator continue where the checkpoint left off.
   */
  static async loadFromCheckpoint(dir: string, opts: Partial<RLModuleOptions> & { vaeCkptPath?: string; resume?: boolean } = {}): Promise<RLModule> {
    if (!existsSync(dir)) throw new CheckpointError("does not exist; pass an LDM or RL checkpoint directory (e.g. checkpoints/mp_20/ldm).", dir);
    const ckpt = await readCheckpoint(dir);
    const stored = rlSection(ckpt);
    const ldm = opts.ldm ?? (await LDMModule.loadFromCheckpoint(dir, { vaeCkptPath: opts.vaeCkptPath }));
    const rewardFn = opts.rewardFn ?? (await rewardFromConfig(stored.reward_fn, ckpt.dir));
    const rl = new RLModule({
      ldm,
      rewardFn,
      rlConfigs: opts.rlConfigs ?? (stored.rl_configs as Record<string, unknown> | undefined),
      samplingConfigs: opts.samplingConfigs ?? (stored.sampling_configs as Record<string, unknown> | undefined),
      optimizer: opts.optimizer,
      scheduler: opts.scheduler,
      seed: opts.seed ?? ckpt.meta.rng?.seed ?? 0,
      ldmCkptPath: dir,
    });
    if (opts.resume) rl.restoreTrainingState(ckpt);
    return rl;
  }

  /** Number of samples per rollout for `prompts` prompts. */
  rolloutSize(prompts: number): number {
    return prompts * this.rlConfigs.numGroupSamples;
  }

  get samplingDiffusion(): GaussianDiffusion {
    return this.ldm.samplingDiffusion(this.samplingConfigs.sampler, this.samplingConfigs.sampling_steps);
  }

  // --- rollout -------------------------------------------------------------------------------

  /**
   * Samples `num_group_samples` structures per prompt with the current policy, recording the
   * trajectory and each step's log-prob; decodes them (timed apart from the sampling).
   */
  rollout(batch: RolloutInput): { batchGen: GeneratedBatch; trajectory: Trajectory; seconds: { rollout: number; decode: number } } {
    const t0 = performance.now();
    const { numAtoms, y } = repeatPrompts(this.ldm, batch, this.rlConfigs.numGroupSamples);
    const s = this.samplingConfigs;
    const out = this.ldm.sample({ numAtoms, y }, { ...s, collect_trajectory: true, decode: false, rng: this.rolloutRng });
    y?.dispose();
    const { logProbs, active } = trajectoryLogProbs(out.zs!, out.means!, out.stds!, out.mask);
    const trajectory: Trajectory = {
      zs: out.zs!, means: out.means!, stds: out.stds!, logProbs, mask: out.mask, y: out.batchGen.y, timesteps: out.timesteps, active,
    };
    const t1 = performance.now();
    const decoded = this.ldm.decode(out.batchGen.z, out.mask);
    const batchGen: GeneratedBatch = { ...out.batchGen, decoded, structures: decoded.map((d) => d.structure) };
    return { batchGen, trajectory, seconds: { rollout: (t1 - t0) / 1000, decode: (performance.now() - t1) / 1000 } };
  }

  // --- rewards -------------------------------------------------------------------------------

  /** Rewards of the decoded structures and their advantages (group-wise when group_reward_norm). */
  async computeRewards(batchGen: GeneratedBatch): Promise<RewardResult> {
    const G = this.rlConfigs.numGroupSamples;
    const n = batchGen.structures.length;
    if (n % G !== 0) throw new RLError(`computeRewards: ${n} samples do not split into groups of num_group_samples = ${G}; pass a rollout's batchGen.`);
    const groups = this.rlConfigs.groupRewardNorm ? { groupSize: G } : {};
    const ctx = this.rewardFn.context(batchGen.structures, batchGen, { vae: this.ldm.vae });
    const decomposition = await this.rewardFn.decompose(ctx, groups);
    const rewards = decomposition.total;
    const advantages = this.rewardFn.normalize(rewards, groups);
    const bad = advantages.findIndex((a) => !Number.isFinite(a));
    if (bad >= 0) throw new RLError(`advantage ${bad} is ${advantages[bad]} (reward ${rewards[bad]}); check the reward components for NaN.`);
    return { rewards, advantages, decomposition, mmd2: await batchMmd2(ctx, decomposition) };
  }

  // --- loss ----------------------------------------------------------------------------------

  /** The denoiser as the sampler called it: with classifier-free guidance when it was used. */
  private policyModel(denoiser: DiT, y: tf.Tensor | null): Denoiser {
    const model = denoiser.asDenoiser();
    const scale = this.samplingConfigs.cfg_scale;
    return y && scale !== 1 ? cfgModel(model, scale, { unconditional: (extra) => ({ ...extra, y: null }) }) : model;
  }

  /** log p [B] of step i of `t` (z_{i+1} given z_i) under `denoiser` (differentiable). */
  stepLogProb(denoiser: DiT, t: Trajectory, i: number): tf.Tensor1D {
    return tf.tidy(() => tf.squeeze(this.stepsLogProb(denoiser, t, [i]), [0]) as tf.Tensor1D);
  }

  /**
   * log p [K, B] of steps `steps` of `t` under `denoiser`, from ONE model call over the K·B
   * stacked rows (trajectory.ts `stackSteps`): a small policy on a CPU is bound by per-op
   * overhead, so K steps in one pass cost far less than K passes. Differentiable.
   */
  stepsLogProb(denoiser: DiT, t: Trajectory, steps: readonly number[]): tf.Tensor2D {
    return tf.tidy(() => {
      const s = stackSteps(t, steps);
      const call = { mask: s.mask, modelKwargs: { y: s.y } };
      const model = this.policyModel(denoiser, s.y);
      const d = this.samplingDiffusion;
      const step = this.samplingConfigs.sampler === "ddim" ? d.ddimStepMeanStd(model, s.x, s.timesteps, { ...call, eta: this.samplingConfigs.eta }) : d.pStepMeanStd(model, s.x, s.timesteps, call);
      return tf.reshape(calculateLogProb(s.next, step.mean, step.std, s.mask), [steps.length, t.zs.shape[1]]) as tf.Tensor2D;
    });
  }

  /**
   * Replays every stochastic step of `trajectory` with gradients and returns the gradients of
   * Σ_i loss_i / T_active (not applied) and every term per step and averaged. Steps are replayed
   * `loss_chunk_steps` at a time, stacked along the batch axis into one forward/backward: the
   * objective is a sum over steps, so the gradient equals per-step backward + accumulation (the
   * seed's loop), in fewer, larger passes.
   */
  calculateLoss(trajectory: Trajectory, advantages: readonly number[]): LossResult {
    const B = trajectory.zs.shape[1];
    if (advantages.length !== B) throw new RLError(`calculateLoss: ${advantages.length} advantages for ${B} samples; pass one per sample.`);
    const stepsToRun = trajectory.active.flatMap((a, i) => (a ? [i] : []));
    if (stepsToRun.length === 0) throw new RLError("calculateLoss: the trajectory has no stochastic step (std = 0 everywhere); sample with eta > 0.");
    const adv = tf.tensor1d([...advantages], "float32");
    const tokens = tokenCounts(trajectory.mask, trajectory.zs.shape[3]);
    const grads: GradMap = new Map();
    const steps: LossResult["steps"] = [];
    try {
      for (const chunk of chunksOf(stepsToRun, this.rlConfigs.lossChunkSteps)) {
        const terms = this.accumulateChunk(trajectory, chunk, adv, tokens, 1 / stepsToRun.length, grads);
        chunk.forEach((i, k) => steps.push({ ...terms[k], step: i, timestep: this.samplingDiffusion.timestepMap[trajectory.timesteps[i]] }));
      }
    } catch (e) {
      disposeGrads(grads);
      throw e;
    } finally {
      tf.dispose([adv, tokens]);
    }
    const mean = Object.fromEntries(TERM_KEYS.map((k) => [k, steps.reduce((s, t) => s + t[k], 0) / steps.length])) as LossTerms;
    return { grads, steps, mean };
  }

  /** One backward pass over the steps `chunk`: adds ∇(Σ_k loss_k·scale) into `acc`, returns each step's terms. */
  private accumulateChunk(t: Trajectory, chunk: readonly number[], adv: tf.Tensor1D, tokens: tf.Tensor1D, scale: number, acc: GradMap): LossTerms[] {
    const ref = this.refDenoiser;
    const refLogProbs = ref ? this.stepsLogProb(ref, t, chunk) : undefined;
    const oldLogProbs = tf.gather(t.logProbs, [...chunk]) as tf.Tensor2D;
    const kept: GrpoTerms[] = [];
    const { loss, grads } = valueAndGrads(this.ldm, () => {
      const current = this.stepsLogProb(this.ldm.denoiser, t, chunk);
      const losses = chunk.map((_, k) => {
        const terms = grpoObjective({
          currentLogProbs: rowOf(current, k), oldLogProbs: stepOf(oldLogProbs, k), advantages: adv, tokens, refLogProbs: refLogProbs && stepOf(refLogProbs, k),
          clipRatio: this.rlConfigs.clipRatio, klWeight: this.rlConfigs.klWeight, entropyWeight: this.rlConfigs.entropyWeight, lossType: this.rlConfigs.lossType,
        });
        kept.push(Object.fromEntries(TERM_KEYS.map((key) => [key, tf.keep(terms[key])])) as unknown as GrpoTerms);
        return terms.loss;
      });
      return tf.mul(tf.addN(losses), scale) as tf.Scalar;
    });
    const values = kept.map((terms) => Object.fromEntries(TERM_KEYS.map((k) => [k, terms[k].dataSync()[0]])) as LossTerms);
    tf.dispose([loss, oldLogProbs, ...(refLogProbs ? [refLogProbs] : []), ...kept.flatMap((terms) => Object.values(terms))]);
    addGrads(acc, grads);
    const bad = values.findIndex((v) => !Number.isFinite(v.loss));
    if (bad >= 0) throw new RLError(`the GRPO loss of step ${chunk[bad]} is ${values[bad].loss}; the policy diverged — lower optimizer.lr or raise kl_weight.`);
    return values;
  }

  // --- training ------------------------------------------------------------------------------

  /** One GRPO step on a prompt batch (see the module comment); returns its metrics record. */
  async trainingStep(batch: RolloutInput): Promise<StepRecord> {
    const t0 = performance.now();
    const { batchGen, trajectory, seconds } = this.rollout(batch);
    try {
      const t1 = performance.now();
      const rewards = await this.computeRewards(batchGen);
      const t2 = performance.now();
      const updates = this.innerUpdates(trajectory, rewards.advantages);
      this.scheduler?.step();
      const time = { ...seconds, rewards: (t2 - t1) / 1000, loss: (performance.now() - t2) / 1000, step: (performance.now() - t0) / 1000 };
      return stepRecord(rewards, batchGen, updates, time, this.optimizer.lr);
    } finally {
      disposeTrajectory(trajectory);
      tf.dispose([batchGen.z, batchGen.mask, ...(batchGen.y ? [batchGen.y] : [])].filter((x) => !x.isDisposed));
    }
  }

  /** `num_inner_batch` mini-batch updates: gradients, clip to max_grad_norm, optimizer step. */
  private innerUpdates(trajectory: Trajectory, advantages: number[]): { result: LossResult; gradNorm: number }[] {
    const out: { result: LossResult; gradNorm: number }[] = [];
    for (const rows of innerBatches(advantages.length, this.rlConfigs.numInnerBatch)) {
      const sub = selectTrajectoryRows(trajectory, rows);
      try {
        const result = this.calculateLoss(sub, rows.map((r) => advantages[r]));
        const gradNorm = clipGradNorm(result.grads, this.rlConfigs.maxGradNorm);
        if (!Number.isFinite(gradNorm)) {
          disposeGrads(result.grads);
          throw new RLError(`gradient norm is ${gradNorm}; the update would corrupt the weights — lower optimizer.lr.`);
        }
        this.optimizer.step(result.grads);
        disposeGrads(result.grads);
        out.push({ result, gradNorm });
      } finally {
        disposeTrajectory(sub);
      }
    }
    return out;
  }

  /**
   * Samples the prompts with a generator seeded afresh each call (so validations are
   * comparable and do not disturb the training stream) and reports the reward:
   * `val/reward` (mean of the seed's normalised total), `val/reward_raw` (mean Σ weight × raw,
   * not normalised: the cleanest learning signal), `val/reward/<component>` (raw means),
   * `val/valid_fraction`.
   */
  async validationStep(batch: RolloutInput, opts: { seed?: number } = {}): Promise<Record<string, number>> {
    const { numAtoms, y } = repeatPrompts(this.ldm, batch, this.rlConfigs.numGroupSamples);
    const rng = new Rng(opts.seed ?? this.rng.seed, "validation");
    const out = this.ldm.sample({ numAtoms, y }, { ...this.samplingConfigs, collect_trajectory: false, rng });
    y?.dispose();
    try {
      const ctx = this.rewardFn.context(out.batchGen.structures, out.batchGen, { vae: this.ldm.vae });
      const d = await this.rewardFn.decompose(ctx);
      const valid = out.batchGen.structures.filter((s) => s !== null).length / out.batchGen.structures.length;
      const mmd2 = prefixKeys(await batchMmd2(ctx, d), "val/mmd2/");
      return { "val/reward": meanOf(d.total), "val/reward_raw": meanOf(rawWeightedTotals(d)), ...componentMeans(d, "val/reward/"), ...mmd2, "val/valid_fraction": valid };
    } finally {
      tf.dispose([out.batchGen.z, out.batchGen.mask, ...(out.batchGen.y ? [out.batchGen.y] : [])].filter((x) => !x.isDisposed));
    }
  }

  // --- checkpoints ---------------------------------------------------------------------------

  /** The module's settings in the seed's YAML spelling (stored with checkpoints). */
  toConfig(): Record<string, unknown> {
    return { rl_configs: rlConfigsToYaml(this.rlConfigs), sampling_configs: { ...this.samplingConfigs }, ldm_ckpt_path: this.ldmCkptPath };
  }

  /**
   * Writes an LDM checkpoint (weights + LDM hyper-parameters: it loads with
   * LDMModule.loadFromCheckpoint) that also holds the optimizer, scheduler, generator states
   * and `config.rl_module` (rl_configs, sampling_configs, and the reward config when given).
   */
  async saveCheckpoint(dir: string, opts: { step?: number; config?: Record<string, unknown>; rewardConfig?: unknown; meta?: Record<string, unknown> } = {}): Promise<void> {
    const section = { ...this.toConfig(), ...(opts.rewardConfig !== undefined ? { reward_fn: opts.rewardConfig } : {}) };
    await this.ldm.saveCheckpoint(dir, {
      step: opts.step ?? 0,
      optimizer: this.optimizer,
      scheduler: this.scheduler ?? undefined,
      rng: this.rng,
      config: { ...(opts.config ?? {}), rl_module: { ...((opts.config?.rl_module as object) ?? {}), ...section } },
      meta: { ...(opts.meta ?? {}), rl: true, rolloutRng: this.rolloutRng.getState() },
    });
  }

  /** Restores weights, optimizer, scheduler and generators from an RL checkpoint; returns its meta. */
  restoreTrainingState(ckpt: Checkpoint): Record<string, unknown> {
    const meta = ckpt.meta.meta;
    if (!meta.rl) throw new CheckpointError("is an LDM checkpoint without RL training state; resume only from checkpoints written by train_rl.", ckpt.dir);
    restoreCheckpoint(ckpt, { module: this.ldm, optimizer: this.optimizer, scheduler: this.scheduler ?? undefined, rng: this.rng });
    if (meta.rolloutRng) this.rolloutRng.setState(meta.rolloutRng as RngState);
    if (meta.noiseRng) this.ldm.noiseRng.setState(meta.noiseRng as RngState);
    return meta;
  }

  /** Frees the LDM (and its VAE), the optimizer state and the reference copy. */
  dispose(): void {
    this.optimizer.dispose();
    this.refDenoiser?.dispose();
    this.ldm.dispose({ vae: true });
  }
}

// --- small helpers ----------------------------------------------------------------------------

/** acc[name] += g for every gradient (disposing what is replaced and `grads`). */
function addGrads(acc: GradMap, grads: GradMap): void {
  for (const [name, g] of grads) {
    const prev = acc.get(name);
    if (!prev) {
      acc.set(name, g);
      continue;
    }
    acc.set(name, tf.add(prev, g));
    tf.dispose([prev, g]);
  }
  grads.clear();
}

/**
 * Row k of a [K, B] tensor as [B], differentiably on every backend: slice, not gather (gather's
 * gradient needs UnsortedSegmentSum, which wasm lacks) nor unstack (its gradient breaks for K = 1).
 */
function rowOf(x: tf.Tensor2D, k: number): tf.Tensor1D {
  return tf.reshape(tf.slice(x, [k, 0], [1, x.shape[1]]), [x.shape[1]]);
}

/** `xs` in consecutive chunks of `size` (0: one chunk). */
function chunksOf<T>(xs: readonly T[], size: number): T[][] {
  const n = size > 0 ? size : xs.length;
  return Array.from({ length: Math.ceil(xs.length / n) }, (_, c) => xs.slice(c * n, (c + 1) * n));
}

/** A frozen DiT with the same weights (the reference policy of kl_reference: reference). */
function frozenCopy(denoiser: DiT): DiT {
  const copy = new DiT(denoiser.config, new Rng(0, "reference_policy"));
  const state = denoiser.stateDict();
  copy.loadStateDict(state);
  return copy.freeze().eval();
}

function meanOf(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/**
 * Σ_c weight_c × raw_c per structure: the reward with no per-batch normalisation. The seed's
 * total min–max/std-normalises components within each batch, so its batch mean barely moves
 * when the policy improves; this one is comparable across steps (it is what shows learning).
 */
export function rawWeightedTotals(d: RewardDecomposition): number[] {
  return d.rows.map((r) => d.components.reduce((s, c) => s + c.weight * r.components[c.name].raw, 0));
}

/** `<prefix><component>`: the mean raw value of every reward component. */
function componentMeans(d: RewardDecomposition, prefix: string): Record<string, number> {
  return Object.fromEntries(d.components.map((c) => [`${prefix}${c.name}`, meanOf(d.rows.map((r) => r.components[c.name].raw))]));
}

/** Per-step arrays (averaged over inner batches) and means of every loss term. */
function lossRecord(updates: { result: LossResult; gradNorm: number }[]): StepRecord {
  const out: StepRecord = {};
  const keyOf: Record<keyof GrpoTerms, string> = { loss: "loss", surrogate: "surrogate", kl: "kl", entropy: "entropy", ratio: "ratio", logRatio: "log_ratio", clipFrac: "clip_frac" };
  for (const k of TERM_KEYS) {
    out[keyOf[k]] = meanOf(updates.map((u) => u.result.mean[k]));
    const T = updates[0].result.steps.length;
    out[`steps/${keyOf[k]}`] = Array.from({ length: T }, (_, s) => meanOf(updates.map((u) => u.result.steps[s][k])));
  }
  out["steps/timestep"] = updates[0].result.steps.map((s) => s.timestep);
  out.grad_norm = meanOf(updates.map((u) => u.gradNorm));
  return out;
}

function stepRecord(r: RewardResult, batchGen: GeneratedBatch, updates: { result: LossResult; gradNorm: number }[], time: Record<string, number>, lr: number): StepRecord {
  const adv = r.advantages;
  const advMean = meanOf(adv);
  return {
    reward: meanOf(r.rewards),
    "train/reward": meanOf(r.rewards),
    "train/reward_raw": meanOf(rawWeightedTotals(r.decomposition)),
    ...componentMeans(r.decomposition, "train/reward/"),
    ...prefixKeys(r.mmd2, "train/mmd2/"),
    reward_std: Math.sqrt(meanOf(r.rewards.map((x) => (x - meanOf(r.rewards)) ** 2))),
    advantage_mean: advMean,
    advantage_abs_mean: meanOf(adv.map(Math.abs)),
    zero_variance_groups: r.decomposition.zeroVarianceFraction,
    valid_fraction: batchGen.structures.filter((s) => s !== null).length / batchGen.structures.length,
    ...lossRecord(updates),
    lr,
    ...Object.fromEntries(Object.entries(time).map(([k, v]) => [`time/${k}`, v])),
  };
}

/**
 * MMD² of the whole generated batch against the reference features, for each MMD diversity
 * component of the reward (`structure`, `composition`). The seed's diversity rewards are the
 * per-sample leave-one-out contributions, whose batch mean is ~0 by construction; this is the
 * batch-level quantity they push down, so it is the number that shows whether the policy's
 * samples move towards the reference distribution. Read from the metrics cache the components
 * already filled (no extra featurisation); NaN when fewer than 3 samples are valid.
 */
async function batchMmd2(ctx: RewardContext, d: RewardDecomposition): Promise<Record<string, number>> {
  const kinds = { structure_diversity: "structure", composition_diversity: "composition" } as const;
  const out: Record<string, number> = {};
  for (const c of d.components) {
    const kind = kinds[c.name as keyof typeof kinds];
    if (kind) out[kind] = -(await ctx.metrics.diversity(kind)).r;
  }
  return out;
}

function prefixKeys(values: Record<string, number>, prefix: string): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [prefix + k, v]));
}

/** The `rl_module` section of a checkpoint's config ({} for a plain LDM checkpoint). */
function rlSection(ckpt: Checkpoint): Record<string, unknown> {
  const cfg = ckpt.config as Record<string, unknown> | null;
  const s = cfg && typeof cfg === "object" ? cfg.rl_module : undefined;
  return s && typeof s === "object" ? (s as Record<string, unknown>) : {};
}

async function rewardFromConfig(raw: unknown, dir: string): Promise<ReinforceReward> {
  if (raw === undefined || raw === null) {
    throw new ConfigError(`checkpoint ${dir} stores no reward_fn; pass { rewardFn } (a ReinforceReward) to RLModule.loadFromCheckpoint.`, "rl_module.reward_fn");
  }
  const { instantiate } = await import("../config/instantiate.ts");
  const reward = await instantiate(raw, { path: "rl_module.reward_fn" });
  if (!(reward instanceof ReinforceReward)) throw new ConfigError("must instantiate to a ReinforceReward.", "rl_module.reward_fn");
  return reward;
}

const FACTORY_KEYS = ["ldm_ckpt_path", "vae_ckpt_path", "rl_configs", "reward_fn", "sampling_configs", "optimizer", "scheduler", "seed"];

/**
 * The config factory of `src.rl_module.rl_module.RLModule` (registered in config/targets.ts):
 * the seed's keys, with `reward_fn`, `optimizer` and `scheduler` already instantiated (the
 * latter two `_partial_`). Loads the LDM from `ldm_ckpt_path` (its VAE from `vae_ckpt_path`
 * when given). `seed` is ours, passed by train_rl.
 */
export async function rlModuleFactory(kw: Record<string, unknown>): Promise<RLModule> {
  const unknown = Object.keys(kw).filter((k) => !FACTORY_KEYS.includes(k));
  if (unknown.length) throw new ConfigError(`unknown key(s) ${unknown.join(", ")}; RLModule takes ${FACTORY_KEYS.join(", ")}.`, `rl_module.${unknown[0]}`);
  const ldmPath = kw.ldm_ckpt_path;
  if (typeof ldmPath !== "string" || ldmPath === "") throw new ConfigError("must name the LDM checkpoint directory to fine-tune (e.g. ${hub:mp_20_ldm_base}).", "rl_module.ldm_ckpt_path");
  if (!existsSync(ldmPath)) {
    throw new ConfigError(`checkpoint ${ldmPath} does not exist; train an LDM first (train_ldm) or point ldm_ckpt_path at an existing checkpoint directory.`, "rl_module.ldm_ckpt_path");
  }
  if (!(kw.reward_fn instanceof ReinforceReward)) throw new ConfigError("must be a ReinforceReward config (_target_: src.rl_module.reward.ReinforceReward).", "rl_module.reward_fn");
  const vaePath = typeof kw.vae_ckpt_path === "string" && kw.vae_ckpt_path !== "" ? kw.vae_ckpt_path : undefined;
  if (vaePath && !existsSync(vaePath)) throw new ConfigError(`checkpoint ${vaePath} does not exist; point vae_ckpt_path at the VAE the LDM was trained with, or set it to null.`, "rl_module.vae_ckpt_path");
  for (const k of ["optimizer", "scheduler"]) {
    if (kw[k] !== undefined && kw[k] !== null && typeof kw[k] !== "function") throw new ConfigError("must be a _partial_: true target (called with the parameters / optimizer).", `rl_module.${k}`);
  }
  const ldm = await LDMModule.loadFromCheckpoint(ldmPath, { vaeCkptPath: vaePath });
  return new RLModule({
    ldm,
    rewardFn: kw.reward_fn,
    rlConfigs: (kw.rl_configs ?? undefined) as Record<string, unknown> | undefined,
    samplingConfigs: (kw.sampling_configs ?? undefined) as Record<string, unknown> | undefined,
    optimizer: (kw.optimizer ?? undefined) as OptimizerFactory | undefined,
    scheduler: (kw.scheduler ?? null) as SchedulerFactory | null,
    seed: typeof kw.seed === "number" ? kw.seed : 0,
    ldmCkptPath: ldmPath,
  });
}
