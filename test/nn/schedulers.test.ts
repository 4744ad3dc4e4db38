import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { ConstantLR, CosineAnnealingLR, ReduceLROnPlateau, WarmupLinearLR, type LRScheduler } from "../../src/nn/schedulers.ts";
import { NnArgumentError } from "../../src/nn/errors.ts";

/** LR traces written by scripts/parity/adamw_reference.py with torch 1.13. */
const REF = JSON.parse(readFileSync(new URL("../fixtures/nn/adamw_reference.json", import.meta.url), "utf8")).schedulers;

function trace(opt: { lr: number }, sched: LRScheduler, n: number, metrics?: number[]): number[] {
  const lrs = [opt.lr];
  for (let i = 0; i < n; i++) {
    sched.step(metrics?.[i]);
    lrs.push(opt.lr);
  }
  return lrs;
}

function closeList(got: number[], want: number[], tol: number): void {
  assert.equal(got.length, want.length);
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) < tol, `step ${i}: ${g} vs ${want[i]}`));
}

test("CosineAnnealingLR matches torch, including the periodic part after T_max", () => {
  const opt = { lr: REF.base_lr };
  const s = new CosineAnnealingLR(opt, REF.cosine.t_max, REF.cosine.eta_min);
  closeList(trace(opt, s, 20), REF.cosine.lrs, 1e-12);
});

test("ReduceLROnPlateau matches torch for min/rel, min/abs with cooldown, max/rel", () => {
  for (const c of REF.plateau) {
    const o = c.options;
    const opt = { lr: REF.base_lr };
    const s = new ReduceLROnPlateau(opt, {
      mode: o.mode, factor: o.factor, patience: o.patience, threshold: o.threshold,
      thresholdMode: o.threshold_mode, cooldown: o.cooldown, minLr: o.min_lr,
    });
    closeList(trace(opt, s, REF.plateau_metrics.length, REF.plateau_metrics), c.lrs, 1e-15);
  }
  assert.throws(() => new ReduceLROnPlateau({ lr: 1 }).step(), (e: unknown) => e instanceof NnArgumentError);
  assert.throws(() => new ReduceLROnPlateau({ lr: 1 }, { factor: 1 }), /factor/);
});

test("WarmupLinearLR ramps up linearly, then decays to zero at totalSteps", () => {
  const opt = { lr: 1 };
  const s = new WarmupLinearLR(opt, 4, 12);
  const lrs = trace(opt, s, 14);
  closeList(lrs, [0, 0.25, 0.5, 0.75, 1, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125, 0, 0, 0], 1e-15);
  assert.throws(() => new WarmupLinearLR({ lr: 1 }, 5, 5), /warmupSteps < totalSteps/);
});

test("ConstantLR keeps the lr; state dicts resume every scheduler", () => {
  const opt = { lr: 0.3 };
  assert.equal(trace(opt, new ConstantLR(opt), 3), [0.3, 0.3, 0.3, 0.3]);
  const a = { lr: 0.1 };
  const sa = new CosineAnnealingLR(a, 10);
  trace(a, sa, 4);
  const b = { lr: 0.1 };
  const sb = new CosineAnnealingLR(b, 10);
  sb.loadStateDict(JSON.parse(JSON.stringify(sa.stateDict())));
  assert.equal(trace(b, sb, 3), trace(a, sa, 3));
  const pa = { lr: 0.1 };
  const pla = new ReduceLROnPlateau(pa, { patience: 1 });
  trace(pa, pla, 3, [1, 2, 3]);
  const pb = { lr: 99 };
  const plb = new ReduceLROnPlateau(pb, { patience: 1 });
  plb.loadStateDict(JSON.parse(JSON.stringify(pla.stateDict())));
  assert.equal(trace(pb, plb, 4, [0.5, 0.6, 0.7, 0.8]), trace(pa, pla, 4, [0.5, 0.6, 0.7, 0.8]));
});

test.run();
