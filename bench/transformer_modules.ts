/**
 * The engine benchmark's workload built from the library's own modules
 * (src/nn: TransformerBlock, AdamW, valueAndGrads) instead of raw tf ops, so that
 * `bench/engine.ts --impl modules` shows whether the module layer costs anything on top
 * of the engine. Same model, mask, loss and optimizer settings as transformer_workload.ts.
 */
import { tf } from "../src/nn/tf.ts";
import { ModuleList } from "../src/nn/module.ts";
import { TransformerBlock } from "../src/nn/transformer.ts";
import { AdamW, valueAndGrads, disposeGrads } from "../src/nn/optim.ts";
import { Rng } from "../src/nn/rng.ts";
import { DEFAULT_WORKLOAD, type WorkloadConfig } from "./transformer_workload.ts";

export interface ModuleWorkload {
  forwardLoss(): tf.Scalar;
  trainStep(): number;
}

export function buildModuleWorkload(config: WorkloadConfig = DEFAULT_WORKLOAD): ModuleWorkload {
  const { batch, tokens, dim, heads, layers, mlpRatio } = config;
  const rng = new Rng(0);
  const blocks = new ModuleList(Array.from({ length: layers }, () => new TransformerBlock(dim, heads, rng, { mlpRatio, activation: "gelu" })));
  const optimizer = new AdamW(blocks, { lr: 1e-4 });
  const x = tf.randomNormal([batch, tokens, dim], 0, 1, "float32", 0);
  const visible = Math.floor((tokens * 3) / 4);
  const mask = tf.tensor2d(Array.from({ length: batch * tokens }, (_, i) => (i % tokens < visible ? 1 : 0)), [batch, tokens]);
  const forwardLoss = (): tf.Scalar =>
    tf.tidy(() => blocks.items.reduce((h: tf.Tensor, blk) => blk.forward(h, mask), x).square().mean() as tf.Scalar);
  const trainStep = (): number => {
    const { loss, grads } = valueAndGrads(blocks, forwardLoss);
    optimizer.step(grads);
    disposeGrads(grads);
    const value = loss.dataSync()[0]!;
    loss.dispose();
    return value;
  };
  return { forwardLoss, trainStep };
}
