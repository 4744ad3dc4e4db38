/**
 * The six reward components on hand-built crystals with known answers (seed semantics), their
 * null-slot values, the custom-reward registry, the atomic-density example, and bad inputs.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { amdDistance, averageMinimumDistance } from "../../src/crystal/amd.ts";
import { RewardError } from "../../src/crystal/errors.ts";
import type { Structure } from "../../src/crystal/structure.ts";
import { defaultRegistry } from "../../src/config/registry.ts";
import { mmdReward } from "../../src/metrics/mmd.ts";
import { stackFeatures } from "../../src/metrics/featurizers.ts";
import { tf } from "../../src/nn/tf.ts";
import {
  CompositionDiversityReward,
  CreativityReward,
  CustomReward,
  EnergyReward,
  PredictorReward,
  StructureDiversityReward,
  type RewardContext,
} from "../../src/rl_module/components.ts";
import { createReward, registerReward, registeredRewards } from "../../src/rl_module/custom_rewards.ts";
import { AtomicDensityReward } from "../../src/rl_module/examples/atomic_density.ts";
import { cesiumChloride, referenceSet, rockSalt, smallMetrics } from "../metrics/reward_fixtures.ts";

await tf.setBackend("cpu");

function ctxOf(structures: (Structure | null)[]): RewardContext {
  return { structures, metrics: smallMetrics().cache(structures) };
}

test("EnergyReward: −clamp(e_above_hull, 0, 1), NaN energy → −1, null → −1", async () => {
  // Hull: NaCl at −2 eV/atom. Energies −2.3 (below: e_above_hull −0.3 → 0), −1.8 (0.2), +5 (≥ 1), NaN.
  const s = [rockSalt("Na", "Cl", 5.6, -2.3), rockSalt("Na", "Cl", 5.7, -1.8), rockSalt("Na", "Cl", 5.8, 5), rockSalt("Na", "Cl", 5.9, NaN), null];
  const r = await new EnergyReward().compute(ctxOf(s));
  assert.equal(r.length, 5);
  assert.is(r[0], -0);
  assert.ok(Math.abs(r[1] + 0.2) < 1e-12, String(r[1]));
  assert.equal(r.slice(2), [-1, -1, -1]);
});

test("CreativityReward: 1 / 0 / smallest positive AMD distance, defined values where the seed fails", async () => {
  const ref = referenceSet()[0]; // NaCl a = 5.64
  const s: (Structure | null)[] = [
    rockSalt("Na", "Cl", 5.64).perturb(0.05, undefined, seeded(3)), // matches the reference: unique, not novel
    cesiumChloride("K", "Br", 3.9), // new formula: unique and novel → 1
    cesiumChloride("K", "Br", 3.9), // identical copy: novel, not unique; only distance 0 exists → 0
    null, // decode failure → 0
    rockSalt("Na", "Cl", 5.64), // equals the reference and generated[0]: neither → 0
  ];
  const ctx = ctxOf(s);
  const unique = await ctx.metrics.booleans("unique");
  const novel = await ctx.metrics.booleans("novel");
  assert.equal(unique, [true, true, false, false, false]);
  assert.equal(novel, [false, true, true, false, false]);
  const r = await new CreativityReward().compute(ctx);
  const a0 = averageMinimumDistance(s[0]!, 100);
  const expected = Math.min(amdDistance(a0, averageMinimumDistance(ref, 100)), amdDistance(a0, averageMinimumDistance(s[4]!, 100)));
  assert.ok(expected > 0);
  assert.ok(Math.abs(r[0] - expected) < 1e-12, `${r[0]} vs ${expected}`);
  assert.equal(r.slice(1), [1, 0, 0, 0]);
});

test("StructureDiversityReward / CompositionDiversityReward = mmdReward rIndiv; null → lowest valid", async () => {
  const s = [rockSalt("Na", "Cl", 5.6), cesiumChloride("K", "Br", 3.9), rockSalt("Li", "F", 4.0), null, cesiumChloride("Cs", "Cl", 4.1)];
  const ctx = ctxOf(s);
  const metrics = ctx.metrics.metrics;
  for (const [Cls, f, kind] of [
    [StructureDiversityReward, metrics.structureFeaturizer, "structure"],
    [CompositionDiversityReward, metrics.compositionFeaturizer, "composition"],
  ] as const) {
    const r = await new Cls().compute(ctx);
    const valid = s.filter((x): x is Structure => x !== null);
    const gen = stackFeatures(await f.featurize(valid), f.dim);
    const ref = await metrics.referenceFeatures(kind);
    const out = mmdReward(tf.tensor2d(gen.data, [gen.rows, gen.dim]), tf.tensor2d(ref.data, [ref.rows, ref.dim]));
    const want = Array.from(out.rIndiv.dataSync());
    [0, 1, 2, 4].forEach((i, k) => assert.ok(Math.abs(r[i] - want[k]) <= 1e-6 * Math.max(1, Math.abs(want[k])), `${kind}[${i}]`));
    assert.is(r[3], Math.min(...[0, 1, 2, 4].map((i) => r[i])));
  }
});

test("diversity rewards give 0 when fewer than 3 structures are valid", async () => {
  const r = await new StructureDiversityReward().compute(ctxOf([rockSalt("Na", "Cl", 5.6), null, cesiumChloride("K", "Br", 3.9)]));
  assert.equal(r, [0, 0, 0]);
});

test("PredictorReward: clamp then −(pred − target)², or the prediction without a target", async () => {
  const predictor = { targetNames: ["dft_band_gap"], predict: (ss: Structure[]) => ({ dft_band_gap: ss.map((x) => x.length - 4) }) };
  const s = [rockSalt("Na", "Cl", 5.6), cesiumChloride("K", "Br", 3.9), null]; // predictions 4, −2
  const withTarget = new PredictorReward({ predictor, targetName: "dft_band_gap", targetValue: 3, clipMin: 0 });
  assert.equal(await withTarget.compute(ctxOf(s)), [-1, -9, -9]);
  const plain = new PredictorReward({ predictor, targetName: "dft_band_gap", clipMax: 3 });
  assert.equal(await plain.compute(ctxOf(s)), [3, -2, -2]);
  assert.throws(() => new PredictorReward({ predictor, targetName: "band_gap" }), (e: Error) => e instanceof RewardError && /dft_band_gap/.test(e.message));
  assert.throws(() => new PredictorReward({ predictor, targetName: "dft_band_gap", clipMin: 2, clipMax: 1 }), isRewardError);
});

test("CustomReward: template returns zeros; a function sees valid structures only", async () => {
  const s = [rockSalt("Na", "Cl", 5.6), null, cesiumChloride("K", "Br", 3.9)];
  assert.equal(await new CustomReward().compute(ctxOf(s)), [0, 0, 0]);
  const seen: number[] = [];
  const custom = new CustomReward({ compute: (ss) => ss.map((x) => (seen.push(x.length), -x.length)) });
  assert.equal(await custom.compute(ctxOf(s)), [-8, -8, -2]);
  assert.equal(seen, [8, 2]);
  const wrong = new CustomReward({ compute: () => [1] });
  await rejects(() => wrong.compute(ctxOf(s)), /returned 1 values for 2 structures/);
});

test("component options: weight, normalize_fn alias, unknown normaliser and bad weight are errors", () => {
  const c = new EnergyReward({ weight: 0.5, normalize_fn: "norm" });
  assert.is(c.normalizeFn, "norm");
  assert.is(c.weight, 0.5);
  assert.is(c.eps, 1e-4);
  assert.is(c.name, "energy");
  assert.throws(() => new EnergyReward({ normalizeFn: "zscore" }), (e: Error) => e instanceof RewardError && /unknown normalize_fn "zscore"/.test(e.message));
  assert.throws(() => new EnergyReward({ weight: NaN }), isRewardError);
  assert.throws(() => new EnergyReward({ eps: -1 }), isRewardError);
});

test("registerReward: classes and functions, createReward, config _target_ and seed aliases", async () => {
  registerReward("cell_size_penalty", (ss) => ss.map((x) => -x.length));
  const r = createReward("cell_size_penalty", { weight: 2, normalize_fn: "std" });
  assert.is(r.weight, 2);
  assert.is(r.normalizeFn, "std");
  assert.equal(await r.compute(ctxOf([cesiumChloride("K", "Br", 3.9)])), [-2]);
  assert.ok(registeredRewards().includes("cell_size_penalty"));
  assert.throws(() => registerReward("cell_size_penalty", () => []), /already registered/);
  assert.throws(() => registerReward("EnergyReward", () => []), /built-in/);
  assert.throws(() => createReward("nope"), (e: Error) => e instanceof RewardError && /unknown reward "nope"/.test(e.message));
  const factory = await defaultRegistry.resolve("src.rl_module.components.EnergyReward");
  const energy = (await factory({ weight: 1.0, normalize_fn: "norm" }, [])) as EnergyReward;
  assert.ok(energy instanceof EnergyReward);
  assert.is(energy.normalizeFn, "norm");
  await rejects(async () => factory({ wieght: 1 }, []), /wieght/);
});

test("example AtomicDensityReward: −|ρ − target|/target, registered as my_density_reward", async () => {
  const s = [rockSalt("Na", "Cl", 5.64), null];
  const rho = 8 / 5.64 ** 3;
  const r = new AtomicDensityReward({ targetDensity: 0.05 }).compute(ctxOf(s));
  assert.ok(Math.abs(r[0] + Math.abs(rho - 0.05) / 0.05) < 1e-12);
  assert.is(r[1], r[0]);
  const fromConfig = (await (await defaultRegistry.resolve("my_density_reward"))({ target_density: 0.05, weight: 0.5 }, [])) as AtomicDensityReward;
  assert.ok(fromConfig instanceof AtomicDensityReward);
  assert.is(fromConfig.targetDensity, 0.05);
  assert.throws(() => new AtomicDensityReward({ targetDensity: -1 }), /target_density/);
});

const isRewardError = (e: Error) => e instanceof RewardError;

function seeded(seed: number): () => number {
  let a = seed;
  return () => ((a = (a * 16807) % 2147483647) - 1) / 2147483646;
}

async function rejects(f: () => unknown, pattern: RegExp): Promise<void> {
  try {
    await f();
  } catch (e) {
    assert.ok(pattern.test((e as Error).message), (e as Error).message);
    return;
  }
  assert.unreachable(`expected an error matching ${pattern}`);
}

test.run();
