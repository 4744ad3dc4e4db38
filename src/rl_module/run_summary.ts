/**
 * The few numbers that say whether a GRPO run learned, read back from its `metrics.jsonl`:
 * the raw reward (Σ weight × raw component, comparable across steps) averaged over the first
 * and the last few training steps — the issue's "steps 1–5 vs 16–20" for a 20-step run — and
 * the validation reward at the first and last validation (same prompts and noise each time, so
 * the change is the policy's). Printed at the end of `train_rl` and `npm start`.
 */
import { readFileSync } from "node:fs";

/** One metrics.jsonl line (train or val record). */
export type MetricsRecord = Record<string, unknown> & { step: number; split: string };

export interface RunSummary {
  /** Training steps in the file. */
  steps: number;
  /** Steps averaged at each end: min(5, ⌊steps / 2⌋), so the two windows never overlap. */
  window: number;
  /** Mean `train/reward_raw` over the first / last `window` steps (NaN with < 2 steps). */
  firstRaw: number;
  lastRaw: number;
  /** Standard error of lastRaw − firstRaw from the step-to-step spread in the two windows (NaN with < 2 steps per window). */
  rawDiffSE: number;
  /** The seed's `train/reward` over the same windows. */
  firstSeed: number;
  lastSeed: number;
  /** `val/reward_raw` at the first and last validation, with their steps (NaN / -1 without). */
  firstVal: number;
  lastVal: number;
  firstValStep: number;
  lastValStep: number;
}

const meanOf = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** Squared standard error of the mean of xs (sample variance / n). */
function squaredSE(xs: number[]): number {
  if (xs.length < 2) return NaN;
  const m = meanOf(xs);
  return xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1) / xs.length;
}

/** Summary of parsed records (train records in step order, as train_rl writes them). */
export function summarizeRun(records: readonly MetricsRecord[]): RunSummary {
  const train = records.filter((r) => r.split === "train");
  const val = records.filter((r) => r.split === "val" && typeof r["val/reward_raw"] === "number");
  const window = Math.min(5, Math.floor(train.length / 2));
  const ends = (key: string): [number, number] =>
    window === 0 ? [NaN, NaN] : [meanOf(train.slice(0, window).map((r) => r[key] as number)), meanOf(train.slice(-window).map((r) => r[key] as number))];
  const [firstRaw, lastRaw] = ends("train/reward_raw");
  const raw = train.map((r) => r["train/reward_raw"] as number);
  const rawDiffSE = window === 0 ? NaN : Math.sqrt(squaredSE(raw.slice(0, window)) + squaredSE(raw.slice(-window)));
  const [firstSeed, lastSeed] = ends("train/reward");
  const first = val[0];
  const last = val[val.length - 1];
  return {
    steps: train.length, window, firstRaw, lastRaw, rawDiffSE, firstSeed, lastSeed,
    firstVal: first ? (first["val/reward_raw"] as number) : NaN, lastVal: last ? (last["val/reward_raw"] as number) : NaN,
    firstValStep: first ? first.step : -1, lastValStep: last ? last.step : -1,
  };
}

/** Reads and summarises a metrics.jsonl file. */
export function summarizeMetricsFile(path: string): RunSummary {
  const lines = readFileSync(path, "utf8").split("\n").filter((l) => l.trim() !== "");
  return summarizeRun(lines.map((l) => JSON.parse(l) as MetricsRecord));
}

/**
 * Human-readable lines, e.g. "train/reward_raw  steps 1–5 −3.330 → 16–20 −1.985  (rises: +1.345 ± 0.310)".
 * The training trend is called a rise or fall only beyond 2 standard errors: each step has new
 * prompts and noise, so a 5-step mean moves on noise alone.
 */
export function formatRunSummary(s: RunSummary): string[] {
  const f = (x: number) => x.toFixed(3);
  const d = s.lastRaw - s.firstRaw;
  const pm = Number.isFinite(s.rawDiffSE) ? ` ± ${f(s.rawDiffSE)}` : "";
  const verdict = !Number.isFinite(s.rawDiffSE) ? (d > 0 ? "higher" : d < 0 ? "lower" : "equal") : d > 2 * s.rawDiffSE ? "rises" : d < -2 * s.rawDiffSE ? "falls" : "no clear change";
  const valTrend = s.lastVal > s.firstVal ? "higher" : s.lastVal < s.firstVal ? "lower" : "equal";
  if (s.window === 0) return [`${s.steps} training step(s): too few to compare the first and last steps.`];
  const [a, b] = [`${s.window === 1 ? "step 1" : `steps 1–${s.window}`}`, `${s.window === 1 ? `step ${s.steps}` : `${s.steps - s.window + 1}–${s.steps}`}`];
  const out = [
    `train/reward_raw  ${a} ${f(s.firstRaw)} → ${b} ${f(s.lastRaw)}  (${verdict}: ${d >= 0 ? "+" : ""}${f(d)}${pm})`,
    `train/reward      ${a} ${f(s.firstSeed)} → ${b} ${f(s.lastSeed)}  (the seed's batch-normalised number)`,
  ];
  if (s.lastValStep > s.firstValStep) out.push(`val/reward_raw    step ${s.firstValStep} ${f(s.firstVal)} → step ${s.lastValStep} ${f(s.lastVal)}  (${valTrend}; same prompts and noise)`);
  return out;
}
