import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { tf } from "../../src/nn/tf.ts";
import { useTestBackend } from "./helpers/backend.ts";
import { ModuleDict, Module } from "../../src/nn/module.ts";
import { Linear, gelu } from "../../src/nn/layers.ts";
import { AdamW, clipGradNorm, disposeGrads, valueAndGrads } from "../../src/nn/optim.ts";
import { Rng } from "../../src/nn/rng.ts";
import { NnArgumentError } from "../../src/nn/errors.ts";
import { disposeRun, makeRun, trainStep } from "./helpers/tiny_run.ts";

await useTestBackend();

/** Written by scripts/parity/adamw_reference.py with torch 1.13 (see that script). */
const REF = JSON.parse(readFileSync(new URL("../fixtures/nn/adamw_reference.json", import.meta.url), "utf8"));

/** torch.nn.Sequential(Linear(3, 8), GELU(), Linear(8, 2)), with the same state-dict names. */
class TinyMLP extends Module {
  readonly layers: ModuleDict<Linear>;
  constructor(rng: Rng) {
    super();
    this.layers = this.registerModule("seq", new ModuleDict({ "0": new Linear(3, 8, rng), "2": new Linear(8, 2, rng) }));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.layers.get("2").forward(gelu(this.layers.get("0").forward(x))));
  }
}

function torchNames(state: Record<string, unknown>, prefix: string): Map<string, tf.Tensor> {
  return new Map(Object.entries(state).map(([k, v]) => [prefix + k, tf.tensor(v as number[])]));
}

test("AdamW + clipGradNorm replay torch's 10-step trajectory to 1e-5", () => {
  const { hparams: hp, x, y, init, steps } = REF.mlp;
  const model = new TinyMLP(new Rng(0));
  model.loadTorchStateDict(torchNames(init, "seq."));
  const opt = new AdamW(model, { lr: hp.lr, betas: hp.betas, eps: hp.eps, weightDecay: hp.weight_decay });
  const xs = tf.tensor2d(x);
  const ys = tf.tensor2d(y);
  let worst = 0;
  steps.forEach((ref: { loss: number; total_norm: number; params: Record<string, number[]> }, i: number) => {
    const { loss, grads } = valueAndGrads(model, () => tf.mean(tf.square(tf.sub(model.forward(xs), ys))) as tf.Scalar);
    assert.ok(Math.abs(loss.dataSync()[0] - ref.loss) < 1e-5, `step ${i} loss ${loss.dataSync()[0]} vs ${ref.loss}`);
    const norm = clipGradNorm(grads, hp.max_norm);
    assert.ok(Math.abs(norm - ref.total_norm) < 1e-5, `step ${i} norm ${norm} vs ${ref.total_norm}`);
    opt.step(grads);
    disposeGrads(grads);
    loss.dispose();
    const ours = model.torchStateDict();
    for (const [name, want] of Object.entries(ref.params)) {
      const got = ours.get(`seq.${name}`)!.dataSync();
      want.flat().forEach((w, j) => {
        worst = Math.max(worst, Math.abs(got[j] - w));
      });
    }
    for (const t of ours.values()) t.dispose();
  });
  assert.ok(worst < 1e-5, `max parameter deviation ${worst}`);
  if (process.env.SHOW_PARITY) console.log(`max |ours - torch| over 10 steps: ${worst}`);
});

test("clipGradNorm: total L2 norm, scale max/(total+1e-6) when above, unchanged below", () => {
  const grads = new Map<string, tf.Tensor>([["a", tf.tensor1d([3, 0])], ["b", tf.tensor2d([[0, 4]])]]);
  const total = clipGradNorm(grads, 1);
  assert.ok(Math.abs(total - 5) < 1e-6);
  const coef = 1 / (5 + 1e-6);
  const a = grads.get("a")!.dataSync();
  assert.ok(Math.abs(a[0] - 3 * coef) < 1e-7);
  assert.equal(grads.get("b")!.shape, [1, 2]);
  const small = new Map([["a", tf.tensor1d([0.3, 0.4])]]);
  assert.ok(Math.abs(clipGradNorm(small, 1) - 0.5) < 1e-7);
  assert.equal(Array.from(small.get("a")!.dataSync()), [Math.fround(0.3), Math.fround(0.4)]);
  assert.throws(() => clipGradNorm(small, 0), (e: unknown) => e instanceof NnArgumentError);
  const before = tf.memory().numTensors;
  clipGradNorm(small, 0.1);
  assert.equal(tf.memory().numTensors, before, "old gradients are disposed");
});

test("AdamW: decoupled decay only when there is no gradient signal; skips params without grads", () => {
  const w = tf.variable(tf.tensor1d([1, -2]));
  const other = tf.variable(tf.tensor1d([5]));
  const opt = new AdamW(new Map([["w", w], ["other", other]]), { lr: 0.1, weightDecay: 0.5 });
  opt.step(new Map([["w", tf.zeros([2])]]));
  // zero gradient: m = v = 0, so only p·(1 − lr·wd) remains
  assert.equal(Array.from(w.dataSync()), [Math.fround(0.95), Math.fround(-1.9)]);
  assert.equal(Array.from(other.dataSync()), [5]);
  assert.equal(opt.stateMeta().steps, { w: 1, other: 0 });
  assert.throws(() => opt.step(new Map([["nope", tf.zeros([1])]])), /unknown parameter "nope"/);
  assert.throws(() => new AdamW(new Map([["w", w]]), { betas: [1, 0.9] }), (e: unknown) => e instanceof NnArgumentError);
});

test("AdamW state round-trips through stateMeta/stateTensors", () => {
  const mk = () => new Map([["w", tf.variable(tf.tensor1d([1, 2, 3]))]]);
  const pa = mk();
  const a = new AdamW(pa, { lr: 0.01 });
  const g = new Map([["w", tf.tensor1d([0.1, -0.2, 0.3])]]);
  a.step(g);
  a.step(g);
  const pb = mk();
  pb.get("w")!.assign(pa.get("w")!);
  const b = new AdamW(pb, { lr: 0.01 });
  b.loadState(JSON.parse(JSON.stringify(a.stateMeta())), a.stateTensors());
  a.step(g);
  b.step(g);
  assert.equal(Array.from(pb.get("w")!.dataSync()), Array.from(pa.get("w")!.dataSync()));
  const wrong = new Map([["w.exp_avg", tf.zeros([2])]]);
  assert.throws(() => b.loadState(a.stateMeta(), wrong), /exp_avg" has shape \[2\].*missing "w.exp_avg_sq"/);
});

test("valueAndGrads leaves out frozen parameters", () => {
  const model = new TinyMLP(new Rng(1));
  model.layers.get("0").freeze();
  const x = tf.ones([2, 3]);
  const { loss, grads } = valueAndGrads(model, () => tf.sum(model.forward(x)) as tf.Scalar);
  assert.equal([...grads.keys()], ["seq.2.weight", "seq.2.bias"]);
  loss.dispose();
  disposeGrads(grads);
  model.freeze();
  assert.throws(() => valueAndGrads(model, () => tf.sum(model.forward(x)) as tf.Scalar), /no trainable parameters/);
});

test("50 full training steps (dropout, clip, AdamW, scheduler, EMA) keep tf.memory().numTensors constant", () => {
  const run = makeRun(0);
  const before = tf.memory().numTensors;
  const losses: number[] = [];
  for (let i = 0; i < 50; i++) losses.push(trainStep(run));
  assert.equal(tf.memory().numTensors, before);
  assert.ok(losses.every(Number.isFinite));
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  assert.ok(mean(losses.slice(40)) < 0.75 * mean(losses.slice(0, 10)), "the model learns");
  disposeRun(run);
});

test.run();
