/**
 * Reward normalisation against float64 torch references of the seed's formulas
 * (fixture: scripts/parity/normalize_reference.py), group-wise variants, the registry and
 * every bad input.
 */
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { RewardError } from "../../src/crystal/errors.ts";
import { tf } from "../../src/nn/tf.ts";
import {
  NORMALIZERS,
  getNormalizer,
  normalizeArray,
  normalizeRewards,
  registerNormalizer,
  resolveGroups,
  zeroVarianceFraction,
  type GroupOptions,
} from "../../src/rl_module/normalize.ts";

await tf.setBackend("cpu");

interface Case {
  input: string;
  grouping: string;
  fn: string | null;
  eps: number;
  groupSize?: number;
  groupIds?: number[];
  expected: number[];
}
const fixture = JSON.parse(readFileSync(new URL("../fixtures/rl_module/normalize_reference.json", import.meta.url), "utf8")) as {
  inputs: Record<string, number[]>;
  cases: Case[];
  zeroVariance: { groupSize: number; eps: number; expected: number }[];
};

const groupOptions = (c: Case): GroupOptions =>
  c.groupSize ? { groupSize: c.groupSize } : c.groupIds ? { groupIds: c.groupIds } : {};

/** Largest |a − b| relative to the reference's largest magnitude; exact zeros must stay exact. */
function relError(actual: ArrayLike<number>, expected: number[]): number {
  assert.is(actual.length, expected.length);
  const scale = Math.max(...expected.map(Math.abs));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Number.isFinite(actual[i]), `value ${i} is ${actual[i]}`);
    const diff = Math.abs(actual[i] - expected[i]);
    worst = Math.max(worst, scale === 0 ? diff * 1e30 : diff / scale);
  }
  return worst;
}

const label = (c: Case) => `${c.input}/${c.grouping}/${c.fn}/eps=${c.eps}`;

test("fixture covers every normaliser, both eps, batch, groupSize and groupIds", () => {
  const fns = new Set(fixture.cases.map((c) => c.fn));
  for (const fn of ["std", "norm", "subtract_mean", "clip", null]) assert.ok(fns.has(fn));
  const groupings = new Set(fixture.cases.map((c) => c.grouping));
  for (const g of ["batch", "groupSize64", "groupIds"]) assert.ok(groupings.has(g));
});

test("normalizeRewards (float32 tensors) matches the float64 reference to 1e-5 relative", () => {
  for (const c of fixture.cases) {
    const input = tf.tensor1d(fixture.inputs[c.input]);
    const out = normalizeRewards(input, c.fn, c.eps, groupOptions(c));
    assert.is(out.dtype, "float32");
    const err = relError(out.dataSync(), c.expected);
    assert.ok(err <= 1e-5, `${label(c)}: relative error ${err}`);
    input.dispose();
    out.dispose();
  }
});

test("normalizeArray (float64) matches the reference to 1e-12 relative", () => {
  for (const c of fixture.cases) {
    const err = relError(normalizeArray(fixture.inputs[c.input], c.fn, c.eps, groupOptions(c)), c.expected);
    assert.ok(err <= 1e-12, `${label(c)}: relative error ${err}`);
  }
});

test("seed behaviour by hand: unbiased std, zeros for flat groups, clamps", () => {
  const std = normalizeArray([1, 2, 3], "std", 0);
  assert.ok(Math.abs(std[0] + 1) < 1e-12 && Math.abs(std[2] - 1) < 1e-12, "std of [1,2,3] is 1 with n − 1");
  assert.equal(normalizeArray([5, 5, 5], "std"), [0, 0, 0]);
  assert.equal(normalizeArray([5, 5 + 1e-5], "norm"), [0, 0]);
  assert.equal(normalizeArray([-3, 0.5, 2], "clip"), [-1, 0.5, 1]);
  assert.equal(normalizeArray([1, 3], null), [1, 3]);
  const norm = normalizeArray([0, 1], "norm", 1e-4);
  assert.ok(Math.abs(norm[1] - 1 / (1 + 1e-4)) < 1e-15);
});

test("explicit uneven groups: singleton groups give 0, never NaN", () => {
  const out = normalizeArray([1, 2, 3, 10, 7], "std", 1e-4, { groupIds: [0, 0, 0, 1, 2] });
  assert.ok(Math.abs(out[0] + 1 / (1 + 1e-4)) < 1e-12);
  assert.equal(out.slice(3), [0, 0]);
  const t = normalizeRewards(tf.tensor1d([4, 4.5]), "std", 1e-4, { groupSize: 1 });
  assert.equal(Array.from(t.dataSync()), [0, 0]);
  t.dispose();
});

test("zeroVarianceFraction matches the reference and counts singleton groups", () => {
  const values = fixture.inputs.grouped320;
  for (const z of fixture.zeroVariance) {
    assert.ok(Math.abs(zeroVarianceFraction(values, z.groupSize, z.eps) - z.expected) < 1e-12, `groupSize ${z.groupSize}`);
  }
  const t = tf.tensor1d(values);
  assert.is(zeroVarianceFraction(t, { groupSize: 64 }), 0.2);
  t.dispose();
  assert.is(zeroVarianceFraction([1, 1, 2, 3, 9], { groupIds: [0, 0, 1, 1, 2] }), 2 / 3);
});

test("registry: custom normalisers by name, built-ins protected", () => {
  assert.equal([...NORMALIZERS.keys()].slice(0, 4), ["std", "norm", "subtract_mean", "clip"]);
  registerNormalizer("rank", (x) => {
    const sorted = [...x].sort((a, b) => a - b);
    return x.map((v) => sorted.indexOf(v) / Math.max(1, x.length - 1));
  });
  assert.equal(normalizeArray([3, 1, 2, 9, 8, 7], "rank", 1e-4, { groupSize: 3 }), [1, 0, 0.5, 1, 0.5, 0]);
  assert.throws(() => registerNormalizer("rank", (x) => x), (e: unknown) => e instanceof RewardError && /replace: true/.test(String(e)));
  registerNormalizer("rank", (x) => x, { replace: true });
  assert.throws(() => registerNormalizer("std", (x) => x, { replace: true }), (e: unknown) => e instanceof RewardError && /built-in/.test(String(e)));
  assert.throws(
    () => getNormalizer("zscore"),
    (e: unknown) => e instanceof RewardError && /"zscore"/.test(String(e)) && /"std", "norm", "subtract_mean", "clip", "rank"/.test(String(e)),
  );
  registerNormalizer("broken", (x) => x.slice(1));
  assert.throws(() => normalizeArray([1, 2], "broken"), (e: unknown) => e instanceof RewardError && /returned 1 values/.test(String(e)));
});

test("bad input: group sizes, ids, non-finite values, wrong tensor rank", () => {
  const err = (re: RegExp) => (e: unknown) => e instanceof RewardError && re.test(String(e));
  assert.throws(() => normalizeArray([1, 2, 3, 4, 5], "std", 1e-4, { groupSize: 2 }), err(/groupSize 2 does not divide the number of rewards 5/));
  assert.throws(() => resolveGroups(4, { groupSize: 0 }), err(/positive integer, got 0/));
  assert.throws(() => resolveGroups(4, { groupSize: 2, groupIds: [0, 0, 1, 1] }), err(/either groupSize or groupIds/));
  assert.throws(() => resolveGroups(4, { groupIds: [0, 1] }), err(/groupIds has 2 entries for 4 rewards/));
  assert.throws(() => resolveGroups(2, { groupIds: [0, NaN] }), err(/groupIds\[1\]/));
  assert.throws(() => normalizeArray([1, NaN, 3], "std"), err(/values\[1\] is NaN/));
  assert.throws(() => normalizeArray([1, 2], "std", -1), err(/eps/));
  const matrix = tf.tensor2d([[1, 2]]);
  assert.throws(() => normalizeRewards(matrix as unknown as tf.Tensor1D, "std"), err(/rank-1 tensor.*shape \[1, 2\]/));
  matrix.dispose();
});

test("normalizeRewards allocates exactly its result tensor", () => {
  const input = tf.tensor1d(fixture.inputs.random320);
  const before = tf.memory().numTensors;
  const out = normalizeRewards(input, "std", 1e-4, { groupSize: 64 });
  assert.is(tf.memory().numTensors, before + 1);
  out.dispose();
  input.dispose();
});

test.run();
