/**
 * MMD reward against the seed's estimator evaluated in torch float64 with all three kernel
 * matrices (fixture: scripts/parity/normalize_reference.py), the leave-one-out definition
 * checked directly, both reference-term paths, and bad input.
 */
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { RewardError } from "../../src/crystal/errors.ts";
import { mmdReward, polynomialKernel, referenceKernelMean } from "../../src/metrics/mmd.ts";
import { tf } from "../../src/nn/tf.ts";

await tf.setBackend("cpu");

interface Case {
  M: number;
  N: number;
  d: number;
  zGen: number[][];
  zRef: number[][];
  r: number;
  rIndiv: number[];
  referenceTerm: number;
}
const fixture = JSON.parse(readFileSync(new URL("../fixtures/metrics/mmd_reference.json", import.meta.url), "utf8")) as {
  cases: Case[];
};

function maxRelError(actual: ArrayLike<number>, expected: number[]): number {
  const scale = Math.max(...expected.map(Math.abs));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / scale);
  return worst;
}

test("fixture covers small and rl_dng-sized batches, d = 8 and d = 32", () => {
  assert.ok(fixture.cases.some((c) => c.M === 3 && c.N === 2));
  assert.ok(fixture.cases.some((c) => c.M === 320));
  assert.ok(fixture.cases.some((c) => c.d === 32));
});

test("rIndiv and r match the seed's float64 estimator to 1e-5 relative", () => {
  for (const c of fixture.cases) {
    const zGen = tf.tensor2d(c.zGen);
    const zRef = tf.tensor2d(c.zRef);
    const { r, rIndiv, mmd2 } = mmdReward(zGen, zRef);
    const tag = `M=${c.M} N=${c.N} d=${c.d}`;
    assert.is(rIndiv.shape[0], c.M);
    const err = maxRelError(rIndiv.dataSync(), c.rIndiv);
    assert.ok(err <= 1e-5, `${tag}: rIndiv relative error ${err}`);
    assert.ok(Math.abs(r - c.r) <= 1e-5 * Math.abs(c.r), `${tag}: r ${r} vs ${c.r}`);
    assert.is(mmd2, -r);
    // float64 moments for d ≤ 24 (exact), float32 kernel blocks above.
    const refTol = c.d <= 24 ? 1e-9 : 1e-6;
    const refErr = Math.abs(referenceKernelMean(zRef) - c.referenceTerm) / Math.abs(c.referenceTerm);
    assert.ok(refErr <= refTol, `${tag}: reference term relative error ${refErr}`);
    tf.dispose([zGen, zRef, rIndiv]);
  }
});

test("rIndiv[m] is exactly MMD²(without m) − MMD²(all)", () => {
  const c = fixture.cases.find((k) => k.M === 10)!;
  const zRef = tf.tensor2d(c.zRef);
  const all = tf.tensor2d(c.zGen);
  const { rIndiv, mmd2 } = mmdReward(all, zRef);
  const r = rIndiv.dataSync();
  for (let m = 0; m < c.M; m++) {
    const without = tf.tensor2d(c.zGen.filter((_, i) => i !== m));
    const dropped = mmdReward(without, zRef);
    assert.ok(Math.abs(dropped.mmd2 - mmd2 - r[m]) <= 1e-5 * Math.max(...Array.from(r, Math.abs)), `m = ${m}`);
    tf.dispose([without, dropped.rIndiv]);
  }
  tf.dispose([zRef, all, rIndiv]);
});

test("reference term: moment formula (d ≤ 24) equals the blocked kernel sum; passing it skips the work", () => {
  const c = fixture.cases.find((k) => k.M === 64)!;
  const zRef = tf.tensor2d(c.zRef);
  const viaMoments = referenceKernelMean(zRef);
  const k = polynomialKernel(zRef, zRef);
  const full = k.dataSync();
  let offDiagonal = 0;
  for (let a = 0; a < c.N; a++) for (let b = 0; b < c.N; b++) if (a !== b) offDiagonal += full[a * c.N + b];
  assert.ok(Math.abs(viaMoments - offDiagonal / (c.N * (c.N - 1))) <= 1e-6 * viaMoments);
  const zGen = tf.tensor2d(c.zGen);
  const given = mmdReward(zGen, zRef, { referenceTerm: 0, blockRows: 7 });
  const plain = mmdReward(zGen, zRef);
  assert.ok(Math.abs(given.mmd2 + viaMoments - plain.mmd2) <= 1e-6 * viaMoments, "referenceTerm is used as given");
  assert.ok(maxRelError(given.rIndiv.dataSync(), Array.from(plain.rIndiv.dataSync())) <= 1e-6, "blockRows does not change rIndiv");
  tf.dispose([zRef, k, zGen, given.rIndiv, plain.rIndiv]);
});

test("allocates only the returned rIndiv tensor", () => {
  const c = fixture.cases[1];
  const zGen = tf.tensor2d(c.zGen);
  const zRef = tf.tensor2d(c.zRef);
  const before = tf.memory().numTensors;
  const { rIndiv } = mmdReward(zGen, zRef, { blockRows: 16 });
  assert.is(tf.memory().numTensors, before + 1);
  tf.dispose([zGen, zRef, rIndiv]);
});

test("bad input: shapes, sizes and non-finite features", () => {
  const err = (re: RegExp) => (e: unknown) => e instanceof RewardError && re.test(String(e));
  const g = tf.randomNormal([5, 4]) as tf.Tensor2D;
  const r = tf.randomNormal([6, 4]) as tf.Tensor2D;
  assert.throws(() => mmdReward(g, tf.zeros([6, 3]) as tf.Tensor2D), err(/zGen has 4 features but zRef has 3/));
  assert.throws(() => mmdReward(tf.zeros([2, 4]) as tf.Tensor2D, r), err(/at least 3 generated samples.*got 2/));
  assert.throws(() => mmdReward(g, tf.zeros([1, 4]) as tf.Tensor2D), err(/at least 2 reference samples, got 1/));
  assert.throws(() => mmdReward(tf.zeros([5]) as unknown as tf.Tensor2D, r), err(/zGen must be a rank-2 tensor.*shape \[5\]/));
  assert.throws(() => mmdReward(g, tf.tensor2d([[0, 0, 0, 0], [0, NaN, 0, 0]])), err(/zRef has a non-finite value at row 1/));
  tf.disposeVariables();
});

test.run();
