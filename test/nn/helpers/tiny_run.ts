/**
 * A small but complete training run for the checkpoint and leak tests: token embedding
 * (Linear) → pre-norm transformer block with dropout → Linear head, masked MSE on a
 * synthetic regression target, gradient clipping, AdamW, cosine schedule, EMA. Batches
 * and dropout masks both come from the run's Rng, so resuming must restore its state.
 */
import { tf } from "../../../src/nn/tf.ts";
import { Module } from "../../../src/nn/module.ts";
import { Linear } from "../../../src/nn/layers.ts";
import { TransformerBlock } from "../../../src/nn/transformer.ts";
import { AdamW, clipGradNorm, disposeGrads, valueAndGrads } from "../../../src/nn/optim.ts";
import { CosineAnnealingLR } from "../../../src/nn/schedulers.ts";
import { EMA } from "../../../src/nn/ema.ts";
import { Rng } from "../../../src/nn/rng.ts";

export class TinyRegressor extends Module {
  readonly embed: Linear;
  readonly block: TransformerBlock;
  readonly head: Linear;
  constructor(rng: Rng) {
    super();
    this.embed = this.registerModule("embed", new Linear(4, 16, rng));
    this.block = this.registerModule("block", new TransformerBlock(16, 2, rng, { dropout: 0.1 }));
    this.head = this.registerModule("head", new Linear(16, 1, rng));
  }
  forward(x: tf.Tensor, mask: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.head.forward(this.block.forward(this.embed.forward(x), mask)));
  }
}

export interface TinyRun {
  rng: Rng;
  model: TinyRegressor;
  optimizer: AdamW;
  scheduler: CosineAnnealingLR;
  ema: EMA;
  mask: tf.Tensor;
}

export function makeRun(seed: number): TinyRun {
  const rng = new Rng(seed);
  const model = new TinyRegressor(rng);
  const optimizer = new AdamW(model, { lr: 3e-3, weightDecay: 0.01 });
  const scheduler = new CosineAnnealingLR(optimizer, 20, 1e-4);
  const ema = new EMA(model, 0.9);
  const mask = tf.tensor2d([[1, 1, 1, 1, 1, 0], [1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1]]);
  return { rng, model, optimizer, scheduler, ema, mask };
}

/** One optimizer step on a fresh random batch; returns the loss. */
export function trainStep(run: TinyRun): number {
  const x = run.rng.tensorNormal([3, 6, 4]);
  const y = tf.tidy(() => tf.sin(tf.sum(x, -1, true)));
  const m = tf.expandDims(run.mask, -1);
  const { loss, grads } = valueAndGrads(run.model, () =>
    tf.div(tf.sum(tf.mul(tf.square(tf.sub(run.model.forward(x, run.mask), y)), m)), tf.sum(m)) as tf.Scalar,
  );
  clipGradNorm(grads, 1);
  run.optimizer.step(grads);
  run.scheduler.step();
  run.ema.update();
  const value = loss.dataSync()[0];
  disposeGrads(grads);
  tf.dispose([x, y, m, loss]);
  return value;
}

export function disposeRun(run: TinyRun): void {
  run.model.dispose();
  run.optimizer.dispose();
  run.ema.dispose();
  run.mask.dispose();
}

/** Every parameter's values, for bitwise comparisons. */
export function snapshot(module: Module): Map<string, number[]> {
  return new Map([...module.namedParameters()].map(([k, v]) => [k, Array.from(v.dataSync())]));
}
