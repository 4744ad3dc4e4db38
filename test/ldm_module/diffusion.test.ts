/**
 * Gaussian diffusion of the LDM: parity with a float64 reference written from the papers'
 * equations (scripts/parity/diffusion_reference.py), stop-gradient of the vb term, sampling
 * trajectories, recovery of a known Gaussian with the exact noise predictor, guidance,
 * memory hygiene and bad input.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { tf } from "../../src/nn/tf.ts";
import { Rng } from "../../src/nn/rng.ts";
import {
  GaussianDiffusion,
  DiffusionError,
  linearBetaSchedule,
  cosineBetaSchedule,
  spaceTimesteps,
  spacedDiffusion,
  createDiffusion,
  cfgModel,
  type Denoiser,
  type ModelVarType,
} from "../../src/ldm_module/diffusion/index.ts";

await tf.setBackend("cpu");

type Nested = number | Nested[];
const REF = JSON.parse(readFileSync(new URL("../fixtures/ldm_module/diffusion_reference.json", import.meta.url), "utf8"));
const [B, N, C] = REF.shape as [number, number, number];
const flat = (a: Nested): number[] => (Array.isArray(a) ? a.flatMap(flat) : [a]);
const t3 = (a: Nested, c = C): tf.Tensor3D => tf.tensor3d(flat(a), [B, N, c]);
const inputs = {
  x0: t3(REF.inputs.x0),
  noise: t3(REF.inputs.noise),
  xt: t3(REF.inputs.xt),
  modelOut: t3(REF.inputs.modelOut, 2 * C),
  trainOut: t3(REF.inputs.trainOut, 2 * C),
  mask: tf.tensor2d(flat(REF.inputs.mask), [B, N]),
};
/** A fake denoiser returning a fixed output whatever its input. */
const fixed = (out: tf.Tensor3D): Denoiser => () => out.clone();

/**
 * Largest relative error, each element measured against max(|ref|, floor): float32 inputs go
 * through float32 arithmetic, so values far below the operands' scale carry absolute errors
 * of that scale; `floor` is the operands' scale where that applies and documented per call.
 */
function maxRelError(actual: ArrayLike<number>, expected: number[], floor = 0): number {
  assert.is(actual.length, expected.length, "length");
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), floor, 1e-300);
    worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
  }
  return worst;
}

function assertClose(actual: tf.Tensor | ArrayLike<number>, expected: Nested, tol: number, what: string, floor = 0): void {
  const values = actual instanceof tf.Tensor ? actual.dataSync() : actual;
  const err = maxRelError(values, flat(expected), floor);
  if (process.env.DIFF_VERBOSE) process.stderr.write(`${what}: ${err.toExponential(2)} (without floor ${maxRelError(values, flat(expected)).toExponential(2)})\n`);
  assert.ok(err <= tol, `${what}: max relative error ${err.toExponential(2)} > ${tol}`);
}

const base = new GaussianDiffusion({ betas: linearBetaSchedule(1000) });

test("schedule: float64 arrays match the reference to 1e-12", () => {
  for (const [key, expected] of Object.entries(REF.schedule as Record<string, number[]>)) {
    assertClose((base.schedule as unknown as Record<string, Float64Array>)[key], expected, 1e-12, key);
  }
  assertClose(cosineBetaSchedule(1000), REF.cosineBetas, 1e-12, "cosine betas");
  assert.is(base.betas[0], 1e-4);
  assert.is(base.betas[999], 0.02);
});

test("respacing: kept steps as ADM's rules, betas recomputed from ᾱ, timesteps mapped back", () => {
  for (const [spec, kept] of Object.entries(REF.kept as Record<string, number[]>)) {
    assert.equal(spaceTimesteps(1000, spec), kept, spec);
  }
  assert.equal(spaceTimesteps(1000, 250), REF.kept["250"]);
  assert.equal(spaceTimesteps(10, ""), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  for (const spec of ["ddim50", "250"]) {
    const spaced = spacedDiffusion(base, spec);
    assertClose(spaced.betas, REF.respacedBetas[spec], 1e-12, `${spec} betas`);
    assert.equal(Array.from(spaced.timestepMap), REF.kept[spec]);
    // ᾱ of the kept steps is preserved, so the respaced process has the same marginals.
    const kept = REF.kept[spec] as number[];
    assertClose(spaced.alphasCumprod, kept.map((k) => base.alphasCumprod[k]), 1e-12, `${spec} ᾱ`);
  }
  const nested = spacedDiffusion(spacedDiffusion(base, "250"), [0, 10, 249]);
  assert.equal(Array.from(nested.timestepMap), [0, REF.kept["250"][10], 999]);
  const viaCreate = createDiffusion({ timestepRespacing: "ddim50" });
  assert.equal(Array.from(viaCreate.timestepMap), REF.kept.ddim50);
  assert.is(viaCreate.lossType, "mse");
  assert.is(viaCreate.modelVarType, "learned_range");
});

test("forward process and posterior match the reference (float32, 1e-5 relative)", () => {
  const t = REF.inputs.tBase as number[];
  // qSample output magnitude ~ the inputs': floor 1 keeps near-zero sums at the inputs' scale.
  assertClose(base.qSample(inputs.x0, t, inputs.noise), REF.qSample, 1e-5, "qSample", 1);
  const post = base.qPosteriorMeanVariance(inputs.x0, inputs.xt, t);
  assertClose(post.mean, REF.qPosterior.mean, 1e-5, "posterior mean", 1);
  const perT = (x: tf.Tensor) => Array.from({ length: B }, (_, b) => x.dataSync()[b * N * C]);
  assertClose(perT(post.variance), REF.qPosterior.variance, 1e-5, "posterior variance");
  assertClose(perT(post.logVariance), REF.qPosterior.logVariance, 1e-5, "posterior log-variance");
});

test("pMeanVariance (learned range, fixed small/large) matches the reference", () => {
  const t = REF.inputs.tBase as number[];
  const out = base.pMeanVariance(fixed(inputs.modelOut), inputs.xt, t);
  const sqrtRecip = t.map((i) => base.schedule.sqrtRecipAlphasCumprod[i]);
  // x̂₀ = xₜ/√ᾱ − √(1/ᾱ−1)·ε: at t = 999 both terms are ~156× the inputs; float32 absolute
  // error scales with them, so the floor is that scale (max 1/√ᾱ ≈ 156).
  assertClose(out.predXstart, REF.pMeanVariance.predXstart, 1e-5, "predXstart", Math.max(...sqrtRecip));
  assertClose(out.mean, REF.pMeanVariance.mean, 1e-5, "mean", 1);
  assertClose(out.logVariance, REF.pMeanVariance.logVariance, 1e-5, "logVariance");
  assertClose(out.variance, REF.pMeanVariance.variance, 1e-5, "variance");
  for (const varType of ["fixed_small", "fixed_large"] as ModelVarType[]) {
    const d = new GaussianDiffusion({ betas: linearBetaSchedule(1000), modelVarType: varType });
    const lv = d.pMeanVariance(fixed(tf.slice(inputs.modelOut, [0, 0, 0], [-1, -1, C])), inputs.xt, t).logVariance.dataSync();
    assertClose(Array.from({ length: B }, (_, b) => lv[b * N * C]), REF.fixedLogVariance[varType], 1e-5, varType);
  }
});

test("DDIM step (eta 1, 0.3, 0) on ddim50 and DDPM step on '250' match the reference", () => {
  const ddim50 = spacedDiffusion(base, "ddim50");
  for (const eta of [1, 0.3, 0]) {
    const step = ddim50.ddimStepMeanStd(fixed(inputs.modelOut), inputs.xt, REF.inputs.tDdim, { eta });
    const ref = REF.ddim[eta.toFixed(1)];
    assertClose(step.mean, ref.mean, 1e-5, `ddim eta ${eta} mean`, 1);
    assertClose(step.std, ref.std, 1e-5, `ddim eta ${eta} std`);
    assert.ok(step.std.dataSync().slice(0, N * C).every((v) => v === 0), "std is exactly 0 at the last step");
  }
  const s250 = spacedDiffusion(base, "250");
  const p = s250.pStepMeanStd(fixed(inputs.modelOut), inputs.xt, REF.inputs.t250);
  assertClose(p.mean, REF.pStep250.mean, 1e-5, "p step mean", 1);
  assertClose(p.std, REF.pStep250.std, 1e-5, "p step std");
});

test("trainingLosses: mse, vb (discretized / gaussian decoder) and rescaled vb match the reference", () => {
  const cases: [string, GaussianDiffusion, number[]][] = [
    ["discretized", base, REF.inputs.tBase],
    ["gaussian", new GaussianDiffusion({ betas: linearBetaSchedule(1000), decoderNll: "gaussian" }), REF.inputs.tBase],
    ["rescaled250", spacedDiffusion(base, "250"), REF.inputs.t250],
  ];
  for (const [name, d, t] of cases) {
    const losses = d.trainingLosses(fixed(inputs.trainOut), inputs.x0, t, { mask: inputs.mask, noise: inputs.noise });
    const ref = REF.losses[name];
    assertClose(losses.mse!, ref.mse, 1e-5, `${name} mse`);
    assertClose(losses.vb!, ref.vb, 1e-5, `${name} vb`);
    assertClose(losses.loss, ref.loss, 1e-5, `${name} loss`);
  }
});

test("the vb term trains only the variance: stop-gradient on the ε channels", () => {
  const raw = tf.variable(inputs.trainOut.clone());
  const model: Denoiser = () => raw.clone() as tf.Tensor3D;
  const t = [3, 10, 500, 999];
  const gradOf = (pick: "vb" | "mse" | "loss") =>
    tf.variableGrads(() => tf.sum(base.trainingLosses(model, inputs.x0, t, { noise: inputs.noise, mask: inputs.mask })[pick]!) as tf.Scalar, [raw]).grads[raw.name];
  const split = (g: tf.Tensor) => tf.split(g, 2, 2).map((h) => Array.from(h.dataSync()));
  const [vbEps, vbVar] = split(gradOf("vb"));
  const [mseEps, mseVar] = split(gradOf("mse"));
  const [lossEps, lossVar] = split(gradOf("loss"));
  assert.ok(vbEps.every((v) => v === 0), "vb sends no gradient to ε");
  assert.ok(vbVar.some((v) => v !== 0), "vb trains the variance values");
  assert.ok(mseVar.every((v) => v === 0));
  assertClose(lossEps, mseEps, 1e-6, "∂loss/∂ε = ∂mse/∂ε");
  assertClose(lossVar, vbVar, 1e-6, "∂loss/∂v = ∂vb/∂v");
  // Padded atoms (mask 0) get no gradient at all.
  const padded = 1 * N * 2 * C + 3 * 2 * C; // sample 1, atom 3
  assert.ok(lossEps[padded / 2] === 0 && lossVar[padded / 2] === 0);
  raw.dispose();
});

/** Data x₀ ~ N(μ, s²) per channel; the exact ε predictor E[ε | xₜ] of that distribution. */
const MU = [1.0, -0.5];
const SD = [0.5, 2.0];
function exactEpsModel(abarOfModelT: (t: number) => number, learnsSigma: boolean): Denoiser {
  return (x, t) =>
    tf.tidy(() => {
      const ab = Array.from(t.dataSync(), abarOfModelT);
      const per = (f: (a: number, c: number) => number) =>
        tf.tensor3d(ab.flatMap((a) => MU.map((_, c) => f(a, c))), [ab.length, 1, MU.length]);
      const shift = per((a, c) => Math.sqrt(a) * MU[c]);
      const scale = per((a, c) => Math.sqrt(1 - a) / (a * SD[c] ** 2 + 1 - a));
      const eps = tf.mul(tf.sub(x, shift), scale) as tf.Tensor3D;
      return learnsSigma ? (tf.concat([eps, tf.zerosLike(eps)], 2) as tf.Tensor3D) : eps;
    });
}

function channelStats(sample: tf.Tensor3D): { mean: number[]; sd: number[] } {
  const v = sample.dataSync();
  const n = sample.shape[0] * sample.shape[1];
  const mean = MU.map((_, c) => { let s = 0; for (let i = 0; i < n; i++) s += v[i * MU.length + c]; return s / n; });
  const sd = MU.map((_, c) => { let s = 0; for (let i = 0; i < n; i++) s += (v[i * MU.length + c] - mean[c]) ** 2; return Math.sqrt(s / (n - 1)); });
  return { mean, sd };
}

/**
 * The exact law of a sampler's output for data N(μ, s²) and the exact ε predictor: every step
 * is affine in x plus independent Gaussian noise, so a float64 recursion of one channel's mean
 * m and variance q (from x_T ~ N(0, 1)) gives it. Independent of the tensor code.
 */
function exactOutputMoments(d: GaussianDiffusion, sampler: "ddim" | "ddpm", eta: number, c: number): { mean: number; variance: number } {
  const s = d.schedule;
  let m = 0;
  let q = 1;
  for (let i = d.numTimesteps - 1; i >= 0; i--) {
    const ab = s.alphasCumprod[i];
    const epsHat = (x: number) => (Math.sqrt(1 - ab) * (x - Math.sqrt(ab) * MU[c])) / (ab * SD[c] ** 2 + 1 - ab);
    const x0Hat = (x: number) => s.sqrtRecipAlphasCumprod[i] * x - s.sqrtRecipm1AlphasCumprod[i] * epsHat(x);
    let f: (x: number) => number;
    let std: number;
    if (sampler === "ddim") {
      const k = d.ddimCoefficients(Int32Array.of(i), eta);
      f = (x) => k.xstartCoef[0] * x0Hat(x) + k.epsCoef[0] * epsHat(x);
      std = k.sigma[0];
    } else {
      f = (x) => s.posteriorMeanCoef1[i] * x0Hat(x) + s.posteriorMeanCoef2[i] * x;
      std = i === 0 ? 0 : Math.exp(0.25 * (s.logBetas[i] + s.posteriorLogVarianceClipped[i])); // v = 0: mid-range
    }
    const a = f(1) - f(0);
    m = a * m + f(0);
    q = a * a * q + std * std;
  }
  return { mean: m, variance: q };
}

test("with the exact ε predictor, DDIM (eta 0 and 1) and DDPM give the exact output law and roughly recover a known Gaussian", () => {
  const n = 2000;
  const shape: [number, number, number] = [n, 1, MU.length];
  const model = exactEpsModel((t) => base.alphasCumprod[t], true);
  const ddim50 = spacedDiffusion(base, "ddim50");
  const ddpm50 = spacedDiffusion(base, "50");
  const runs: [string, GaussianDiffusion, "ddim" | "ddpm", number, number][] = [
    // [name, diffusion, sampler, eta, tolerance on the exact law's sd vs the data's]
    // DDIM contracts Gaussians a little at coarse steps (each step's gain is ≤ the exact
    // flow's by Cauchy–Schwarz), and eta = 1 with a posterior-mean predictor misses the
    // c₁²·Var[x₀ | xₜ] part of the true reverse variance: at 50 steps sd ≈ 0.94 s and 0.88 s.
    ["ddim50 eta 0", ddim50, "ddim", 0, 0.1],
    ["ddim50 eta 1", ddim50, "ddim", 1, 0.15],
    ["ddpm 50 learned range (v = 0)", ddpm50, "ddpm", 0, 0.1],
  ];
  for (const [name, d, sampler, eta, sdTol] of runs) {
    const r = new Rng(11);
    const options = { eta, noise: (sh: number[]) => r.tensorNormal(sh) };
    const out = sampler === "ddim" ? d.ddimSampleLoop(model, shape, options) : d.pSampleLoop(model, shape, options);
    const { mean, sd } = channelStats(out.sample);
    out.sample.dispose();
    for (let c = 0; c < MU.length; c++) {
      const law = exactOutputMoments(d, sampler, eta, c);
      // The code: empirical moments within 4 standard errors of the exact law.
      const seMean = Math.sqrt(law.variance / n);
      const seVar = law.variance * Math.sqrt(2 / (n - 1));
      assert.ok(Math.abs(mean[c] - law.mean) < 4 * seMean, `${name}: mean[${c}] = ${mean[c]}, exact ${law.mean} ± ${seMean}`);
      assert.ok(Math.abs(sd[c] ** 2 - law.variance) < 4 * seVar, `${name}: var[${c}] = ${sd[c] ** 2}, exact ${law.variance} ± ${seVar}`);
      // The maths: the exact law is close to the data distribution.
      assert.ok(Math.abs(law.mean - MU[c]) < 0.05 * SD[c], `${name}: exact mean[${c}] ${law.mean} vs data ${MU[c]}`);
      assert.ok(Math.abs(Math.sqrt(law.variance) / SD[c] - 1) < sdTol, `${name}: exact sd[${c}] ${Math.sqrt(law.variance)} vs data ${SD[c]}`);
      if (process.env.DIFF_VERBOSE) process.stderr.write(`${name} c${c}: empirical ${mean[c].toFixed(4)}/${sd[c].toFixed(4)} exact ${law.mean.toFixed(4)}/${Math.sqrt(law.variance).toFixed(4)} data ${MU[c]}/${SD[c]}\n`);
    }
  }
});

test("trajectories: shapes, zs[i+1] = means[i] + stds[i]·noise with the seeded noise, replayable steps", () => {
  const ddim = spacedDiffusion(base, "ddim10");
  const shape: [number, number, number] = [3, 2, 2];
  const model = exactEpsModel((t) => base.alphasCumprod[t], true);
  const r = new Rng(7);
  const out = ddim.ddimSampleLoop(model, shape, { eta: 1, collectTrajectory: true, noise: (s) => r.tensorNormal(s) });
  assert.equal(out.zs!.shape, [11, 3, 2, 2]);
  assert.equal(out.means!.shape, [10, 3, 2, 2]);
  assert.equal(out.stds!.shape, [10, 3, 2, 2]);
  assert.equal(Array.from(out.modelTimesteps), [900, 800, 700, 600, 500, 400, 300, 200, 100, 0]);
  assert.equal(Array.from(out.sample.dataSync()), Array.from(tf.gather(out.zs!, 10).dataSync()));
  assert.ok(tf.gather(out.stds!, 9).dataSync().every((v) => v === 0), "last step deterministic");
  // Replaying the noise stream: x_T, then one draw per stochastic step.
  const replay = new Rng(7);
  assertClose(tf.gather(out.zs!, 0), Array.from(replay.tensorNormal(shape).dataSync()), 1e-7, "x_T");
  for (let i = 0; i < 9; i++) {
    const z = replay.tensorNormal(shape);
    const expected = tf.add(tf.gather(out.means!, i), tf.mul(tf.gather(out.stds!, i), z));
    assertClose(tf.gather(out.zs!, i + 1), Array.from(expected.dataSync()), 1e-6, `z step ${i}`, 1);
    // What the RL module does: recompute the step's mean/std from z_i with the current model.
    const again = ddim.ddimStepMeanStd(model, tf.gather(out.zs!, i) as unknown as tf.Tensor3D, [9 - i, 9 - i, 9 - i], { eta: 1 });
    assert.equal(Array.from(again.mean.dataSync()), Array.from(tf.gather(out.means!, i).dataSync()));
  }
  const same = ddim.ddimSampleLoop(model, shape, { eta: 1, noise: (s) => new Rng(7).tensorNormal(s) });
  assert.ok(same.zs === undefined);
});

test("ddimStepMeanStd and pStepMeanStd are differentiable in the model's parameters (finite differences)", () => {
  // A one-parameter denoiser: ε = w·x, variance values = w − 0.5 (so both channels carry w).
  const w = tf.variable(tf.scalar(0.7));
  const model: Denoiser = (x) => tf.tidy(() => tf.concat([tf.mul(w, x), tf.add(tf.mul(tf.onesLike(x), w), -0.5)], 2) as tf.Tensor3D);
  const d = spacedDiffusion(base, "ddim10");
  const idx = [5, 5, 5, 5];
  const objectives: [string, () => tf.Scalar][] = [
    ["ddim mean", () => tf.sum(d.ddimStepMeanStd(model, inputs.xt, idx, { eta: 1 }).mean) as tf.Scalar],
    ["ddpm mean", () => tf.sum(d.pStepMeanStd(model, inputs.xt, idx).mean) as tf.Scalar],
    ["ddpm std", () => tf.sum(d.pStepMeanStd(model, inputs.xt, idx).std) as tf.Scalar],
  ];
  for (const [name, f] of objectives) {
    const grad = tf.variableGrads(f, [w]).grads[w.name].dataSync()[0];
    const h = 1e-2;
    w.assign(tf.scalar(0.7 + h));
    const up = f().dataSync()[0];
    w.assign(tf.scalar(0.7 - h));
    const down = f().dataSync()[0];
    w.assign(tf.scalar(0.7));
    const fd = (up - down) / (2 * h);
    assert.ok(Math.abs(grad - fd) <= 2e-3 * Math.max(1, Math.abs(fd)), `${name}: autodiff ${grad} vs finite difference ${fd}`);
  }
  w.dispose();
});

test("sampling loops and training losses leave no tensors behind", () => {
  const model = exactEpsModel((t) => base.alphasCumprod[t], true);
  const d = spacedDiffusion(base, "ddim10");
  const mask = tf.tensor2d([[1, 1, 0], [1, 0, 0]]);
  const before = tf.memory().numTensors;
  const r = new Rng(0);
  for (const collectTrajectory of [false, true]) {
    const out = d.ddimSampleLoop(model, [2, 3, 2], { eta: 1, mask, collectTrajectory, noise: (s) => r.tensorNormal(s) });
    tf.dispose([out.sample, out.zs!, out.means!, out.stds!].filter(Boolean));
    const p = d.pSampleLoop(model, [2, 3, 2], { mask, noise: (s) => r.tensorNormal(s), cfg: { scale: 2, unconditional: (e) => e } });
    p.sample.dispose();
  }
  const x0 = tf.ones([2, 3, 2]) as tf.Tensor3D;
  const losses = base.trainingLosses(model, x0, [0, 500], { mask, noise: (s) => r.tensorNormal(s) });
  tf.dispose([losses.loss, losses.mse!, losses.vb!, x0]);
  assert.is(tf.memory().numTensors, before);
});

test("cfgModel: guidance on ε channels only, in paired and DiT doubled-batch form", () => {
  // A model whose ε is y + x and whose variance channels are 10·y.
  const model: Denoiser = (x, _t, extra) =>
    tf.tidy(() => {
      const y = tf.reshape(extra.y as tf.Tensor1D, [-1, 1, 1]);
      return tf.concat([tf.add(x, y), tf.mul(tf.onesLike(x), tf.mul(y, 10))], 2) as tf.Tensor3D;
    });
  const x = tf.tensor3d([0.5, -1, 2, 3], [2, 1, 2]);
  const t = tf.tensor1d([5, 5], "int32");
  const paired = cfgModel(model, 3, { unconditional: () => ({ y: tf.tensor1d([0, 0]) }) })(x, t, { y: tf.tensor1d([1, 2]) });
  // ε_u = x, ε_c = x + y → x + 3y; variance channels from the conditional pass (10y).
  assert.equal(Array.from(paired.dataSync()), [3.5, 2, 10, 10, 8, 9, 20, 20]);
  const doubled = cfgModel(model, 3)(tf.concat([x, tf.mul(x, 100)]) as tf.Tensor3D, tf.tensor1d([5, 5, 5, 5], "int32"), { y: tf.tensor1d([1, 2, 0, 0]) });
  // The second half's x is ignored (DiT duplicates the first half); ε guided in both halves.
  assert.equal(Array.from(doubled.dataSync()), [3.5, 2, 10, 10, 8, 9, 20, 20, 3.5, 2, 0, 0, 8, 9, 0, 0]);
  assert.is(cfgModel(model, 1), model);
  assert.throws(
    () => cfgModel(model, 2)(x.slice([0, 0, 0], [1, 1, 2]) as tf.Tensor3D, tf.tensor1d([5], "int32"), { y: tf.tensor1d([1]) }),
    (e: unknown) => e instanceof DiffusionError && /odd batch of 1/.test((e as Error).message),
  );
});

test("bad input: typed errors naming the input", () => {
  const model = fixed(inputs.modelOut);
  const throwsWith = (fn: () => unknown, text: RegExp) =>
    assert.throws(fn, (e: unknown) => e instanceof DiffusionError && text.test((e as Error).message));
  throwsWith(() => base.pMeanVariance(model, inputs.xt, [0, 1, 2, 1000]), /timesteps\[3\] = 1000/);
  throwsWith(() => base.pMeanVariance(model, inputs.xt, [0, 1]), /2 values for a batch of 4/);
  throwsWith(() => base.pMeanVariance(fixed(inputs.x0), inputs.xt, [0, 1, 2, 3]), /must return \[4,5,6\]/);
  throwsWith(() => spaceTimesteps(1000, "ddim999"), /integer stride/);
  throwsWith(() => spaceTimesteps(1000, "fast"), /not understood/);
  throwsWith(() => spaceTimesteps(100, "200"), /section of 100 steps into 200/);
  throwsWith(() => spaceTimesteps(100, [5, 5]), /listed twice/);
  throwsWith(() => new GaussianDiffusion({ betas: [0.1, 0] }), /beta\[1\] = 0/);
  throwsWith(() => new GaussianDiffusion({ betas: [0.1], modelVarType: "learned_sigma" as ModelVarType }), /unknown modelVarType/);
  throwsWith(() => spacedDiffusion(base, "ddim50").ddimStepMeanStd(model, inputs.xt, [1, 1, 1, 1], { eta: 2 }), /eta ≤ 1/);
  throwsWith(() => base.trainingLosses(model, inputs.x0, [1, 1, 1, 1], { mask: tf.ones([4, 4]) as tf.Tensor2D }), /mask has shape \[4,4\]/);
  throwsWith(() => base.qSample(inputs.x0, [1, 1, 1, 1], tf.ones([4, 5])), /noise has shape/);
});

test.run();
