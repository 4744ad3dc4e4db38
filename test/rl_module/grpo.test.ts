/**
 * GRPO objective: parity with a torch float64 reference of the seed's formulas
 * (scripts/parity/grpo_reference.py) on a fixed trajectory, the three loss aggregations, a
 * gradient check against finite differences on a tiny denoiser, and bad input.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { tf } from "../../src/nn/tf.ts";
import { Rng } from "../../src/nn/rng.ts";
import { createDiffusion, type Denoiser } from "../../src/ldm_module/diffusion/index.ts";
import { calculateLogProb, grpoObjective, getLossType, LOSS_TYPES, tokenCounts, type GrpoTerms } from "../../src/rl_module/grpo.ts";
import { RLError } from "../../src/crystal/errors.ts";
import { directionalDifference } from "../helpers/finite_difference.ts";

await tf.setBackend("cpu");

type Nested = number | Nested[];
const REF = JSON.parse(readFileSync(new URL("../fixtures/rl_module/grpo_reference.json", import.meta.url), "utf8"));
const { B, N, C } = REF.shape as { T: number; B: number; N: number; C: number };
const flat = (a: Nested): number[] => (Array.isArray(a) ? a.flatMap(flat) : [a]);
const t3 = (a: Nested) => tf.tensor3d(flat(a), [B, N, C]);
const mask = tf.tensor2d(flat(REF.mask), [B, N]);

/**
 * 1e-5 relative, with a float32 floor: a term that is a cancellation of O(`scale`) numbers
 * (a mean of zero-mean advantages, a log-ratio of two log-probs) cannot be closer than the
 * rounding of those numbers, ~1e-7·scale.
 */
function close(actual: number, expected: number, what: string, scale = 1): void {
  const tol = 1e-5 * Math.abs(expected) + 2e-7 * scale;
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected} (|Δ| ${Math.abs(actual - expected).toExponential(2)} > ${tol.toExponential(2)})`);
}

const num = (s: tf.Scalar) => s.dataSync()[0];

/** The fixture's stochastic steps: (index, z_{i+1}, old mean, new mean, std). */
function stochasticSteps(): { i: number; x: tf.Tensor3D; mo: tf.Tensor3D; mn: tf.Tensor3D; sd: tf.Tensor3D }[] {
  const out = [];
  for (let i = 0; i < REF.shape.T; i++) {
    if (flat(REF.stds[i]).every((v) => v === 0)) continue;
    out.push({ i, x: t3(REF.zs[i + 1]), mo: t3(REF.means_old[i]), mn: t3(REF.means_new[i]), sd: t3(REF.stds[i]) });
  }
  return out;
}

test("calculateLogProb matches the float64 masked-mean Gaussian log density", () => {
  const steps = stochasticSteps();
  steps.forEach((s, k) => {
    const want = REF.settings[0].steps[k];
    const old = calculateLogProb(s.x, s.mo, s.sd, mask).arraySync();
    const cur = calculateLogProb(s.x, s.mn, s.sd, mask).arraySync();
    old.forEach((v, b) => close(v, want.old_log_probs[b], `old logp step ${s.i} sample ${b}`));
    cur.forEach((v, b) => close(v, want.new_log_probs[b], `new logp step ${s.i} sample ${b}`));
  });
  tf.dispose(steps.flatMap((s) => [s.x, s.mo, s.mn, s.sd]));
});

test("grpoObjective: per-step loss, ratio, KL, entropy, clip fraction match the reference (every setting and loss type)", () => {
  const steps = stochasticSteps();
  const adv = tf.tensor1d(REF.advantages);
  const advScale = REF.advantages.reduce((s: number, a: number) => s + Math.abs(a), 0) / B;
  const tokens = tokenCounts(mask, C);
  for (const setting of REF.settings) {
    let totals: Record<string, number> = { grpo: 0, bnpo: 0, dr_grpo: 0 };
    steps.forEach((s, k) => {
      const want = setting.steps[k];
      const oldLp = calculateLogProb(s.x, s.mo, s.sd, mask);
      const newLp = calculateLogProb(s.x, s.mn, s.sd, mask);
      for (const lossType of ["grpo", "bnpo", "dr_grpo"]) {
        const terms: GrpoTerms = grpoObjective({
          currentLogProbs: newLp, oldLogProbs: oldLp, advantages: adv, tokens, lossType,
          clipRatio: setting.clip_ratio, klWeight: setting.kl_weight, entropyWeight: setting.entropy_weight,
        });
        const tag = `${setting.name} step ${s.i} ${lossType}`;
        close(num(terms.loss), want.loss[lossType], `${tag} loss`, advScale);
        totals[lossType] += num(terms.loss);
        if (lossType === "grpo") {
          close(num(terms.ratio), want.ratio, `${tag} ratio`);
          close(num(terms.logRatio), want.log_ratio, `${tag} log-ratio`);
          close(num(terms.surrogate), want.surrogate, `${tag} surrogate`, advScale);
          close(num(terms.kl), want.kl, `${tag} kl`, Math.abs(want.log_ratio) * 1e-3);
          close(num(terms.entropy), want.entropy, `${tag} entropy`);
          close(num(terms.clipFrac), want.clip_frac, `${tag} clip fraction`);
        }
        tf.dispose(Object.values(terms));
      }
      tf.dispose([oldLp, newLp]);
    });
    totals = Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, v / steps.length]));
    for (const k of ["grpo", "bnpo", "dr_grpo"]) close(totals[k], setting.total_loss_active[k], `${setting.name} total ${k}`, advScale);
  }
  tf.dispose([adv, tokens, ...steps.flatMap((s) => [s.x, s.mo, s.mn, s.sd])]);
});

test("on-policy step: ratio exactly 1 and KL exactly 0 (k3 written with expm1)", () => {
  const lp = tf.tensor1d([-1.3, -0.7, -2.1]);
  const t = grpoObjective({ currentLogProbs: lp, oldLogProbs: lp, advantages: [1, -1, 0.5], clipRatio: 0.001, klWeight: 1, entropyWeight: 0 });
  assert.is(num(t.ratio), 1);
  assert.is(num(t.kl), 0);
  assert.is(num(t.clipFrac), 0);
  close(num(t.loss), -0.5 / 3, "loss = −mean(A)");
  tf.dispose([lp, ...Object.values(t)]);
});

test("k3 KL stays accurate and non-negative for tiny log-ratios", () => {
  const cur = tf.tensor1d([0, 0, 0]);
  const old = tf.tensor1d([1e-4, -3e-4, 2e-3]);
  const t = grpoObjective({ currentLogProbs: cur, oldLogProbs: old, advantages: [0, 0, 0], clipRatio: 0.1, klWeight: 1, entropyWeight: 0 });
  const want = [1e-4, -3e-4, 2e-3].map((d) => Math.expm1(d) - d).reduce((a, b) => a + b) / 3;
  close(num(t.kl), want, "k3 mean", 1e-6);
  assert.ok(num(t.kl) > 0);
  tf.dispose([cur, old, ...Object.values(t)]);
});

test("loss types: registered names, equal token counts make them agree, unknown name is an RLError", () => {
  assert.equal([...LOSS_TYPES.keys()].sort(), ["bnpo", "dr_grpo", "grpo"]);
  const cur = tf.tensor1d([-1, -1.2, -0.9, -1.1]);
  const old = tf.tensor1d([-1.01, -1.19, -0.9, -1.12]);
  const tokens = tf.tensor1d([16, 16, 16, 16]);
  const losses = ["grpo", "bnpo", "dr_grpo"].map((lossType) => {
    const t = grpoObjective({ currentLogProbs: cur, oldLogProbs: old, advantages: [1, -1, 0.3, -0.3], clipRatio: 0.2, klWeight: 0.1, entropyWeight: 0.01, tokens, lossType });
    const v = num(t.loss);
    tf.dispose(Object.values(t));
    return v;
  });
  close(losses[1], losses[0], "bnpo = grpo");
  close(losses[2], losses[0], "dr_grpo = grpo");
  assert.throws(() => getLossType("ppo"), (e: unknown) => e instanceof RLError && /grpo, bnpo, dr_grpo/.test((e as Error).message));
  tf.dispose([cur, old, tokens]);
});

test("bad input: shape mismatches and negative weights are RLErrors naming the input", () => {
  const lp = tf.tensor1d([-1, -1]);
  assert.throws(() => grpoObjective({ currentLogProbs: lp, oldLogProbs: lp, advantages: [1, 2, 3], clipRatio: 0.1, klWeight: 1, entropyWeight: 0 }), /advantages has 3 entries for 2 samples/);
  assert.throws(() => grpoObjective({ currentLogProbs: lp, oldLogProbs: lp, advantages: [1, 2], clipRatio: -1, klWeight: 1, entropyWeight: 0 }), /clip_ratio/);
  const x = tf.zeros([2, 3, 4]);
  const m = tf.ones([2, 2]);
  assert.throws(() => calculateLogProb(x, x, x, m), (e: unknown) => e instanceof RLError && /mask has shape \[2,2\]/.test((e as Error).message));
  tf.dispose([lp, x, m]);
});

// --- gradient check on a tiny denoiser -----------------------------------------------------

/** A linear ε-predictor with learned-range output: out = x·W + b, [B, N, C] → [B, N, 2C]. */
function tinyDenoiser(rng: Rng, c: number): { model: Denoiser; vars: tf.Variable[] } {
  const W = tf.variable(rng.tensorNormal([c, 2 * c], 0, 0.3));
  const b = tf.variable(rng.tensorNormal([2 * c], 0, 0.1));
  const model: Denoiser = (x) => tf.tidy(() => tf.add(tf.reshape(tf.matMul(tf.reshape(x, [-1, c]), W), [x.shape[0], x.shape[1], 2 * c]), b) as tf.Tensor3D);
  return { model, vars: [W, b] };
}

test("gradient check: with a wide clip and β = γ = 0 the surrogate's gradient is the advantage-weighted ∇log p (finite differences)", () => {
  const rng = new Rng(7);
  const [b, n, c] = [5, 3, 4];
  // 20 training steps (β₀ = 0.005): the last stochastic step is steep but not so ill-conditioned
  // that float32 finite differences drown in rounding, as they do next to t = 0 of a 1000-step schedule.
  const diffusion = createDiffusion({ diffusionSteps: 20, timestepRespacing: "ddim5" });
  const { model, vars } = tinyDenoiser(rng, c);
  const m = tf.tensor2d([[1, 1, 1], [1, 1, 0], [1, 0, 0], [1, 1, 1], [1, 1, 0]]);
  const adv = [1.2, -0.4, 0.3, -1.5, 0.4];
  const traj = diffusion.ddimSampleLoop(model, [b, n, c], { eta: 1, mask: m, noise: (s) => rng.tensorNormal(s), collectTrajectory: true });
  const T = diffusion.numTimesteps;
  const steps = Array.from({ length: T - 1 }, (_, i) => i); // the last step has std 0
  const logProbAt = (i: number): tf.Tensor1D => {
    const x = tf.gather(traj.zs!, i) as unknown as tf.Tensor3D;
    const { mean, std } = diffusion.ddimStepMeanStd(model, x, new Int32Array(b).fill(traj.timesteps[i]), { eta: 1, mask: m });
    return calculateLogProb(tf.gather(traj.zs!, i + 1) as unknown as tf.Tensor3D, mean, std, m);
  };
  const oldLps = steps.map((i) => tf.keep(tf.tidy(() => logProbAt(i))));
  // Per step (a sum over steps would hide a wrong step behind the steep last one): the
  // gradient of grpoObjective's loss at θ_old (ratio 1) against central differences of
  // F_i(θ) = −mean_b A_b·log p_{b,i}(θ), along random directions. F_i is quadratic in the
  // weights of a linear denoiser, so the differences are exact up to float32 rounding.
  for (const i of steps) {
    const objective = () => grpoObjective({ currentLogProbs: logProbAt(i), oldLogProbs: oldLps[i], advantages: adv, clipRatio: 1e6, klWeight: 0, entropyWeight: 0 }).loss;
    const { value, grads } = tf.variableGrads(objective, vars);
    const F = () => tf.tidy(() => -tf.mean(tf.mul(logProbAt(i), adv)).dataSync()[0]);
    for (let trial = 0; trial < 2; trial++) {
      const dirs = vars.map((v) => rng.tensorNormal(v.shape));
      const analytic = vars.reduce((s, v, k) => s + tf.sum(tf.mul(grads[v.name], dirs[k])).dataSync()[0], 0);
      const numeric = directionalDifference(vars, dirs, F, 1e-2);
      assert.ok(Math.abs(analytic - numeric) <= 3e-3 * Math.abs(numeric) + 1e-4, `step ${i} trial ${trial}: analytic ${analytic} vs finite differences ${numeric}`);
      tf.dispose(dirs);
    }
    tf.dispose([value, ...Object.values(grads)]);
  }
  tf.dispose([...oldLps, m, traj.sample, traj.zs!, traj.means!, traj.stds!, ...vars]);
});

test.run();
