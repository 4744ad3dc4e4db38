import { test } from "uvu";
import * as assert from "uvu/assert";
import { formatRunSummary, summarizeRun, type MetricsRecord } from "../../src/rl_module/run_summary.ts";

const train = (step: number, raw: number): MetricsRecord => ({ step, split: "train", "train/reward_raw": raw, "train/reward": 2 * raw });
/** ±0.1 around `center`, alternating, so each window has a spread. */
const wobble = (i: number, center: number) => center + (i % 2 === 0 ? 0.1 : -0.1);
const val = (step: number, raw: number): MetricsRecord => ({ step, split: "val", "val/reward_raw": raw });

test("20 steps: means of steps 1–5 and 16–20, first and last validation", () => {
  const records = [val(0, -5), ...Array.from({ length: 20 }, (_, i) => train(i + 1, wobble(i, i < 5 ? -4 : i >= 15 ? -2 : -3))), val(10, -3), val(20, -1)];
  const s = summarizeRun(records);
  const close = (a: number, b: number) => Math.abs(a - b) < 1e-12;
  assert.ok(close(s.firstRaw, -3.98) && close(s.lastRaw, -2.02), `${s.firstRaw} ${s.lastRaw}`);
  assert.equal([s.steps, s.window], [20, 5]);
  assert.ok(close(s.firstSeed, -7.96) && close(s.lastSeed, -4.04));
  // Each window: values ±0.1 (3 of one, 2 of the other), sample variance 0.012 → SE² 0.0024 per window.
  assert.ok(close(s.rawDiffSE, Math.sqrt(2 * 0.0024)), String(s.rawDiffSE));
  assert.equal([s.firstValStep, s.firstVal, s.lastValStep, s.lastVal], [0, -5, 20, -1]);
  const lines = formatRunSummary(s);
  assert.match(lines[0], /steps 1–5 -3\.980 → 16–20 -2\.020  \(rises: \+1\.960 ± 0\.069\)/);
  assert.match(lines[2], /step 0 -5\.000 → step 20 -1\.000  \(higher/);
});

test("a change inside two standard errors is not called a rise", () => {
  const records = Array.from({ length: 10 }, (_, i) => train(i + 1, wobble(i, i < 5 ? 0.88 : 0.9)));
  const s = summarizeRun(records);
  assert.match(formatRunSummary(s)[0], /\(no clear change: -0\.020 ± 0\.069\)/);
});

test("short runs: the windows shrink and never overlap; one step cannot be compared", () => {
  const s = summarizeRun([val(0, 1), train(1, 0.9), train(2, 0.8), train(3, 0.7), val(3, 0.5)]);
  assert.equal([s.window, s.firstRaw, s.lastRaw], [1, 0.9, 0.7]);
  assert.match(formatRunSummary(s)[0], /step 1 0\.900 → step 3 0\.700  \(lower: -0\.200\)/);
  const one = summarizeRun([val(0, 1), train(1, 0.9)]);
  assert.equal(one.window, 0);
  assert.ok(Number.isNaN(one.firstRaw));
  assert.match(formatRunSummary(one)[0], /too few/);
});

test.run();
