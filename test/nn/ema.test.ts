import { test } from "uvu";
import * as assert from "uvu/assert";
import { tf } from "../../src/nn/tf.ts";
import { useTestBackend } from "./helpers/backend.ts";
import { Linear } from "../../src/nn/layers.ts";
import { EMA } from "../../src/nn/ema.ts";
import { Rng } from "../../src/nn/rng.ts";

await useTestBackend();

test("update folds weights in as decay·shadow + (1−decay)·param; swap in/out exchanges them", () => {
  const lin = new Linear(2, 1, new Rng(0));
  lin.weight.assign(tf.tensor2d([[1], [2]]));
  const ema = new EMA(lin, 0.9);
  lin.weight.assign(tf.tensor2d([[11], [2]]));
  ema.update();
  const expected = [Math.fround(0.9 * 1 + 0.1 * 11), 2];
  ema.swapIn();
  const w = Array.from(lin.weight.dataSync());
  assert.ok(Math.abs(w[0] - expected[0]) < 1e-6 && Math.abs(w[1] - 2) < 1e-6, `${w}`);
  assert.throws(() => ema.update(), /swapOut/);
  ema.swapOut();
  assert.equal(Array.from(lin.weight.dataSync()), [11, 2]);
  assert.throws(() => ema.swapOut(), /not swapped in/);
});

test("state round trip and no tensor growth over updates and swaps", () => {
  const lin = new Linear(3, 2, new Rng(1));
  const ema = new EMA(lin, 0.5);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) {
    tf.tidy(() => lin.weight.assign(tf.fill([3, 2], i)));
    ema.update();
    ema.swapIn();
    ema.swapOut();
  }
  assert.equal(tf.memory().numTensors, before);
  const other = new EMA(lin, 0.5);
  other.loadState(ema.stateTensors());
  assert.equal(Array.from(other.stateTensors().get("weight")!.dataSync()), Array.from(ema.stateTensors().get("weight")!.dataSync()));
  assert.throws(() => other.loadState(new Map()), /missing "weight".*missing "bias"/);
});

test.run();
