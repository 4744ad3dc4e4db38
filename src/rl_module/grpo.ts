/**
 * The GRPO objective for a diffusion policy, as small pure tensor functions.
 *
 * One reverse diffusion step is one "action": the sampler drew z_{i+1} ~ N(mean_i, std_i²).
 * Its log-probability under a policy is the Gaussian log density averaged over the masked
 * latent entries ({@link calculateLogProb}). For every step, with A the advantage of a sample:
 *
 *     ratio     = exp(log p_new − log p_old)
 *     surrogate = min(ratio·A, clip(ratio, 1 − ε, 1 + ε)·A)            (PPO clipping)
 *     kl        = exp(log p_ref − log p_new) − 1 − (log p_ref − log p_new)   (k3 estimator, ≥ 0)
 *     entropy   = −log p_new                                            (one-sample estimate)
 *     ℓ         = −surrogate + β·kl − γ·entropy                         (per sample)
 *     loss      = aggregate over samples of ℓ                           (see LOSS_TYPES)
 *
 * `log p_ref` is the rollout policy's log-prob (the seed) or a frozen reference policy's.
 * {@link grpoObjective} returns every term, so a trainer logs exactly what it optimises.
 * `RLModule.calculateLoss` calls it once per diffusion step (several steps share one
 * stacked model call, but each keeps its own terms).
 */
import { tf } from "../nn/tf.ts";
import { RLError } from "../crystal/errors.ts";

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * Per-sample log-probability of `x` under N(mean, std²): the elementwise Gaussian log density
 * averaged over the masked latent entries (atoms with mask 1, all channels), as the seed does.
 * Shapes: x, mean, std [B, N, C]; mask [B, N] (1 = real atom). Returns [B].
 * Every std must be > 0: a deterministic step (std = 0) has no density; skip it instead.
 */
export function calculateLogProb(x: tf.Tensor, mean: tf.Tensor, std: tf.Tensor, mask: tf.Tensor): tf.Tensor1D {
  checkLogProbShapes(x, mean, std, mask);
  return tf.tidy(() => {
    // (x − mean)/std first, then square: keeps float32 precision when std is small.
    const z = tf.div(tf.sub(x, mean), std);
    const density = tf.neg(tf.add(tf.add(tf.mul(0.5, tf.square(z)), tf.log(std)), LOG_SQRT_2PI));
    const m = tf.expandDims(mask, -1);
    const total = tf.sum(tf.mul(density, m), [1, 2]);
    const count = tf.mul(tf.sum(mask, 1), x.shape[2] as number);
    return tf.div(total, tf.maximum(count, 1)) as tf.Tensor1D;
  });
}

function checkLogProbShapes(x: tf.Tensor, mean: tf.Tensor, std: tf.Tensor, mask: tf.Tensor): void {
  const shape = x.shape.join(",");
  if (x.rank !== 3 || mean.shape.join(",") !== shape || std.shape.join(",") !== shape) {
    throw new RLError(`calculateLogProb: x [${x.shape}], mean [${mean.shape}] and std [${std.shape}] must all be [B, N, C]; pass one diffusion step's tensors.`);
  }
  if (mask.rank !== 2 || mask.shape[0] !== x.shape[0] || mask.shape[1] !== x.shape[1]) {
    throw new RLError(`calculateLogProb: mask has shape [${mask.shape}], expected [${x.shape[0]}, ${x.shape[1]}] (one entry per atom slot).`);
  }
}

/** Number of masked latent entries per sample (atoms × channels): the "tokens" of the loss types. */
export function tokenCounts(mask: tf.Tensor, channels: number): tf.Tensor1D {
  return tf.tidy(() => tf.mul(tf.sum(mask, 1), channels) as tf.Tensor1D);
}

// --- the terms, one small function each -------------------------------------------------

/** log-ratio and ratio of new to old log-probs, per sample. */
export function probabilityRatio(currentLogProbs: tf.Tensor, oldLogProbs: tf.Tensor): { logRatio: tf.Tensor; ratio: tf.Tensor } {
  const logRatio = tf.sub(currentLogProbs, oldLogProbs);
  return { logRatio, ratio: tf.exp(logRatio) };
}

/** PPO's pessimistic surrogate min(r·A, clip(r, 1−ε, 1+ε)·A), per sample. */
export function clippedSurrogate(ratio: tf.Tensor, advantages: tf.Tensor, clipRatio: number): tf.Tensor {
  const unclipped = tf.mul(ratio, advantages);
  const clipped = tf.mul(tf.clipByValue(ratio, 1 - clipRatio, 1 + clipRatio), advantages);
  return tf.minimum(unclipped, clipped);
}

/**
 * Schulman's k3 estimator of KL(new ‖ ref) from samples of the new policy:
 * e^{d} − 1 − d with d = log p_ref − log p_new. An almost on-policy step has |d| ~ 1e-4, where
 * e^{d} − 1 − d (even expm1(d) − d) loses most digits to cancellation in float32; there the
 * Taylor series d²(1/2 + d/6 + d²/24 + d³/120 + d⁴/720) is used (truncation < 1e-8 relative
 * for |d| < 0.1), and expm1(d) − d elsewhere.
 */
export function k3Kl(refLogProbs: tf.Tensor, currentLogProbs: tf.Tensor): tf.Tensor {
  const d = tf.sub(refLogProbs, currentLogProbs);
  const horner = [1 / 720, 1 / 120, 1 / 24, 1 / 6].reduce((acc: tf.Tensor, c) => tf.add(tf.mul(acc, d), c), tf.zerosLike(d));
  const series = tf.mul(tf.square(d), tf.add(tf.mul(horner, d), 0.5));
  const direct = tf.sub(tf.expm1(d), d);
  // The branch choice is read from the values (no tape link: `less` has no gradient).
  const small = tf.tensor(Uint8Array.from(d.dataSync(), (v) => (Math.abs(v) < 0.1 ? 1 : 0)), d.shape, "bool");
  return tf.where(small, series, direct);
}

/** Fraction of samples whose ratio lies outside [1 − ε, 1 + ε] (where the clip is active). */
export function clipFraction(ratio: tf.Tensor, clipRatio: number): tf.Scalar {
  const outside = tf.logicalOr(tf.less(ratio, 1 - clipRatio), tf.greater(ratio, 1 + clipRatio));
  return tf.mean(tf.cast(outside, "float32")) as tf.Scalar;
}

// --- loss aggregation over samples ("loss_type") ------------------------------------------

/**
 * How per-sample losses become the step's loss. Our "tokens" are masked latent entries
 * (atoms × channels); every token of a sample shares the sample's ratio, so TRL's loss types
 * reduce to weights per sample (n_b = the sample's token count, L = the largest count):
 */
export interface LossAggregation {
  readonly name: string;
  readonly description: string;
  /** perSample [B], tokens [B] (n_b), maxTokens L → scalar loss. */
  reduce(perSample: tf.Tensor1D, tokens: tf.Tensor1D, maxTokens: number): tf.Scalar;
}

const lossTypes = new Map<string, LossAggregation>();

/** Adds a loss aggregation under `agg.name` (replacing one needs `{ replace: true }`). */
export function registerLossType(agg: LossAggregation, options: { replace?: boolean } = {}): void {
  if (lossTypes.has(agg.name) && !options.replace) {
    throw new RLError(`loss type "${agg.name}" is already registered; pass { replace: true } to replace it.`);
  }
  lossTypes.set(agg.name, agg);
}

registerLossType({
  name: "grpo",
  description: "the seed: mean over samples (each sample's loss is already a per-token mean)",
  reduce: (perSample) => tf.mean(perSample) as tf.Scalar,
});
registerLossType({
  name: "bnpo",
  description: "mean over all tokens of the batch: Σ n_b·ℓ_b / Σ n_b (larger structures weigh more)",
  reduce: (perSample, tokens) => tf.div(tf.sum(tf.mul(perSample, tokens)), tf.maximum(tf.sum(tokens), 1)) as tf.Scalar,
});
registerLossType({
  name: "dr_grpo",
  description: "Dr. GRPO: token sum over a constant B·L (no per-sample length normalisation)",
  reduce: (perSample, tokens, maxTokens) => tf.div(tf.sum(tf.mul(perSample, tokens)), perSample.shape[0] * Math.max(maxTokens, 1)) as tf.Scalar,
});

/** Registered loss aggregations by name: `grpo` (seed), `bnpo`, `dr_grpo`. */
export const LOSS_TYPES: ReadonlyMap<string, LossAggregation> = lossTypes;

/** The aggregation named `name`, or an RLError listing the registered ones. */
export function getLossType(name: string): LossAggregation {
  const agg = lossTypes.get(name);
  if (!agg) throw new RLError(`unknown loss_type "${name}"; use one of ${[...lossTypes.keys()].join(", ")} (rl_configs.loss_type).`);
  return agg;
}

// --- the objective -----------------------------------------------------------------------

export interface GrpoObjectiveInputs {
  /** log p_new [B] under the current policy (carries the gradient). */
  currentLogProbs: tf.Tensor1D;
  /** log p_old [B] recorded at rollout (constant). */
  oldLogProbs: tf.Tensor1D;
  /** Advantages [B] (tensor or numbers). */
  advantages: tf.Tensor1D | readonly number[];
  /** PPO ε (seed 0.001). */
  clipRatio: number;
  /** β of the KL term (seed 1.0). */
  klWeight: number;
  /** γ of the entropy term (seed 1e-5). */
  entropyWeight: number;
  /** Aggregation over samples (default "grpo", the seed). */
  lossType?: string;
  /** log p of a frozen reference policy for the KL term (default: oldLogProbs, the seed). */
  refLogProbs?: tf.Tensor1D;
  /** Tokens per sample (masked latent entries) for bnpo / dr_grpo (default: 1 each). */
  tokens?: tf.Tensor1D;
}

/** Scalars of one step: `loss` is what gets backpropagated; the rest are means over samples. */
export interface GrpoTerms {
  loss: tf.Scalar;
  surrogate: tf.Scalar;
  kl: tf.Scalar;
  entropy: tf.Scalar;
  ratio: tf.Scalar;
  logRatio: tf.Scalar;
  clipFrac: tf.Scalar;
}

/** The GRPO loss of one diffusion step and every term of it (see the module comment). */
export function grpoObjective(inputs: GrpoObjectiveInputs): GrpoTerms {
  const { currentLogProbs, oldLogProbs, clipRatio, klWeight, entropyWeight } = inputs;
  const agg = getLossType(inputs.lossType ?? "grpo");
  checkObjectiveInputs(inputs);
  return tf.tidy(() => {
    const adv = inputs.advantages instanceof tf.Tensor ? inputs.advantages : tf.tensor1d([...inputs.advantages], "float32");
    const { logRatio, ratio } = probabilityRatio(currentLogProbs, oldLogProbs);
    const surrogate = clippedSurrogate(ratio, adv, clipRatio);
    const kl = k3Kl(inputs.refLogProbs ?? oldLogProbs, currentLogProbs);
    const entropy = tf.neg(currentLogProbs);
    // THE GRPO LOSS, per sample: ℓ = −surrogate + β·kl − γ·entropy
    const perSample = tf.sub(tf.sub(tf.mul(klWeight, kl), surrogate), tf.mul(entropyWeight, entropy)) as tf.Tensor1D;
    const tokens = inputs.tokens ?? tf.onesLike(perSample);
    const maxTokens = inputs.tokens ? tf.max(inputs.tokens).dataSync()[0] : 1;
    return {
      loss: agg.reduce(perSample, tokens as tf.Tensor1D, maxTokens),
      surrogate: tf.mean(surrogate) as tf.Scalar,
      kl: tf.mean(kl) as tf.Scalar,
      entropy: tf.mean(entropy) as tf.Scalar,
      ratio: tf.mean(ratio) as tf.Scalar,
      logRatio: tf.mean(logRatio) as tf.Scalar,
      clipFrac: clipFraction(ratio, clipRatio),
    };
  });
}

function checkObjectiveInputs(inputs: GrpoObjectiveInputs): void {
  const B = inputs.currentLogProbs.shape[0];
  const sizes: [string, number | undefined][] = [
    ["oldLogProbs", inputs.oldLogProbs.shape[0]],
    ["advantages", inputs.advantages instanceof tf.Tensor ? inputs.advantages.shape[0] : inputs.advantages.length],
    ["refLogProbs", inputs.refLogProbs?.shape[0]],
    ["tokens", inputs.tokens?.shape[0]],
  ];
  for (const [name, n] of sizes) {
    if (n !== undefined && n !== B) throw new RLError(`grpoObjective: ${name} has ${n} entries for ${B} samples; pass one per sample.`);
  }
  const numbers: [string, number][] = [["clipRatio", inputs.clipRatio], ["klWeight", inputs.klWeight], ["entropyWeight", inputs.entropyWeight]];
  for (const [name, v] of numbers) {
    if (!(typeof v === "number" && Number.isFinite(v) && v >= 0)) {
      throw new RLError(`grpoObjective: ${name} = ${v}; use a finite number ≥ 0 (rl_configs.${snake(name)}).`);
    }
  }
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
