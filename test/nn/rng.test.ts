import { test } from "uvu";
import * as assert from "uvu/assert";
import { Rng } from "../../src/nn/rng.ts";
import { NnArgumentError } from "../../src/nn/errors.ts";
import { useTestBackend } from "./helpers/backend.ts";

await useTestBackend();
const isArgError = (e: unknown) => e instanceof NnArgumentError;

function draws(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => rng.uniform());
}

test("same seed gives the same stream; different seeds differ", () => {
  assert.equal(draws(new Rng(42), 20), draws(new Rng(42), 20));
  assert.not.equal(draws(new Rng(42), 20), draws(new Rng(43), 20));
  // seeds above 2^32 use their high word too
  assert.not.equal(draws(new Rng(2 ** 40), 5), draws(new Rng(0), 5));
});

test("uniform lies in [0,1) with the right mean and variance", () => {
  const xs = draws(new Rng(1), 100_000);
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.005, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1 / 12) < 0.002, `variance ${variance}`);
});

test("normal has mean 0, std 1 and the Gaussian tail mass", () => {
  const rng = new Rng(7);
  const xs = Array.from({ length: 100_000 }, () => rng.normal());
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
  const beyond2 = xs.filter((x) => Math.abs(x) > 2).length / xs.length; // 0.0455 for N(0,1)
  assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`);
  assert.ok(Math.abs(std - 1) < 0.01, `std ${std}`);
  assert.ok(Math.abs(beyond2 - 0.0455) < 0.004, `tail ${beyond2}`);
  assert.ok(Math.abs(new Rng(7).normal(3, 0.5) - (3 + 0.5 * xs[0])) < 1e-12);
});

test("randint covers its range evenly and rejects bad bounds", () => {
  const rng = new Rng(3);
  const counts = new Array(6).fill(0);
  for (let i = 0; i < 60_000; i++) counts[rng.randint(0, 6)]++;
  for (const c of counts) assert.ok(Math.abs(c - 10_000) < 400, `counts ${counts}`);
  assert.throws(() => rng.randint(5, 5), isArgError);
  assert.throws(() => new Rng(-1), isArgError);
});

test("shuffle and permutation give permutations, seeded", () => {
  const p = new Rng(9).permutation(50);
  assert.equal([...p].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  assert.equal(p, new Rng(9).permutation(50));
  assert.not.equal(p, Array.from({ length: 50 }, (_, i) => i));
});

test("fork depends on the root seed and name, not on the parent's position", () => {
  const a = new Rng(5);
  const b = new Rng(5);
  draws(b, 17); // advance b only
  assert.equal(draws(a.fork("init"), 10), draws(b.fork("init"), 10));
  assert.not.equal(draws(a.fork("init"), 10), draws(a.fork("noise"), 10));
  assert.not.equal(draws(a.fork("x").fork("y"), 5), draws(a.fork("x/y2"), 5));
  assert.equal(a.fork("x").fork("y").path, "x/y");
});

test("getState/setState resume the exact stream, including the Box-Muller spare", () => {
  const rng = new Rng(11);
  rng.normal(); // leaves a spare behind
  const state = JSON.parse(JSON.stringify(rng.getState()));
  const expected = [rng.normal(), rng.uniform(), rng.normal()];
  const resumed = Rng.fromState(state);
  assert.equal([resumed.normal(), resumed.uniform(), resumed.normal()], expected);
  const other = new Rng(12); // adopts the saved seed and path, so its forks match too
  other.setState(state);
  assert.equal(other.seed, 11);
  assert.equal(draws(other.fork("f"), 3), draws(new Rng(11).fork("f"), 3));
  assert.throws(() => rng.setState({ ...state, words: [1, 2, 3] }), isArgError);
});

test("tensorNormal draws from the stream with the given shape", () => {
  const t = new Rng(4).tensorNormal([2, 3], 1, 2);
  assert.equal(t.shape, [2, 3]);
  const ref = new Rng(4);
  const want = Array.from({ length: 6 }, () => Math.fround(ref.normal(1, 2)));
  assert.equal(Array.from(t.dataSync()), want);
  t.dispose();
});

test.run();
