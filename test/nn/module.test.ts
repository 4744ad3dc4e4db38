import { test } from "uvu";
import * as assert from "uvu/assert";
import { tf } from "../../src/nn/tf.ts";
import { useTestBackend } from "./helpers/backend.ts";
import { Module, ModuleList } from "../../src/nn/module.ts";
import { LayerNorm, Linear } from "../../src/nn/layers.ts";
import { Rng } from "../../src/nn/rng.ts";
import { NnArgumentError, StateDictError } from "../../src/nn/errors.ts";

await useTestBackend();

class Block extends Module {
  readonly attn: Linear;
  readonly norm: LayerNorm;
  constructor(rng: Rng) {
    super();
    this.attn = this.registerModule("attn", new Linear(4, 6, rng));
    this.norm = this.registerModule("norm", new LayerNorm(6));
  }
}

class Net extends Module {
  readonly blocks: ModuleList<Block>;
  readonly scale: tf.Variable;
  constructor(rng: Rng) {
    super();
    this.scale = this.registerParameter("scale", tf.ones([1]));
    this.blocks = this.registerModule("blocks", new ModuleList([new Block(rng), new Block(rng)]));
  }
}

test("namedParameters gives PyTorch-style dotted names in registration order", () => {
  const net = new Net(new Rng(0));
  assert.equal(
    [...net.namedParameters().keys()],
    ["scale", ...[0, 1].flatMap((i) => [`blocks.${i}.attn.weight`, `blocks.${i}.attn.bias`, `blocks.${i}.norm.weight`, `blocks.${i}.norm.bias`])],
  );
  assert.equal(net.numParameters(), 1 + 2 * (24 + 6 + 6 + 6));
  assert.equal(net.parameters().length, 9);
  net.dispose();
});

test("freeze/unfreeze and train/eval propagate to children", () => {
  const net = new Net(new Rng(0));
  net.blocks.at(1).freeze();
  assert.equal(net.numParameters(true), 1 + 42);
  assert.equal(net.trainableParameters().has("blocks.1.attn.weight"), false);
  net.unfreeze();
  assert.equal(net.numParameters(true), net.numParameters());
  net.eval();
  assert.equal(net.blocks.at(0).attn.training, false);
  net.train();
  assert.equal(net.blocks.at(1).norm.training, true);
  net.dispose();
});

test("registering a name twice or a dotted name is an error", () => {
  class Bad extends Module {
    constructor(dup: boolean) {
      super();
      this.registerParameter("w", tf.zeros([1]));
      this.registerParameter(dup ? "w" : "a.b", tf.zeros([1]));
    }
  }
  assert.throws(() => new Bad(true), (e: unknown) => e instanceof NnArgumentError && /twice/.test((e as Error).message));
  assert.throws(() => new Bad(false), (e: unknown) => e instanceof NnArgumentError && /a\.b/.test((e as Error).message));
});

test("loadStateDict copies values and names every missing, unexpected and mismatched key", () => {
  const a = new Net(new Rng(1));
  const b = new Net(new Rng(2));
  b.loadStateDict(a.stateDict());
  for (const [name, v] of a.namedParameters()) {
    assert.equal(Array.from(b.namedParameters().get(name)!.dataSync()), Array.from(v.dataSync()), name);
  }
  const bad = new Map(a.stateDict());
  bad.delete("blocks.0.norm.bias");
  bad.set("blocks.7.attn.weight", tf.zeros([1]));
  bad.set("blocks.1.attn.bias", tf.zeros([5]));
  try {
    b.loadStateDict(bad);
    assert.unreachable("should throw");
  } catch (e) {
    assert.instance(e, StateDictError);
    const err = e as StateDictError;
    assert.equal(err.missing, ["blocks.0.norm.bias"]);
    assert.equal(err.unexpected, ["blocks.7.attn.weight"]);
    assert.equal(err.mismatched.length, 1);
    assert.match(err.message, /blocks\.1\.attn\.bias: expected \[6\], got \[5\]/);
  }
  // non-strict: missing/unexpected are reported, shape mismatches still throw
  bad.set("blocks.1.attn.bias", tf.zeros([6]));
  const res = b.loadStateDict(bad, false);
  assert.equal(res, { missingKeys: ["blocks.0.norm.bias"], unexpectedKeys: ["blocks.7.attn.weight"] });
  assert.equal(Array.from(b.blocks.at(1).attn.bias!.dataSync()), new Array(6).fill(0));
  a.dispose();
  b.dispose();
});

test("torchStateDict exports Linear weights as [out, in] and loadTorchStateDict reverses it", () => {
  const lin = new Linear(3, 2, new Rng(3));
  const torch = lin.torchStateDict();
  assert.equal(torch.get("weight")!.shape, [2, 3]);
  const w = lin.weight.arraySync() as number[][];
  const wt = torch.get("weight")!.arraySync() as number[][];
  assert.equal(wt[1][2], w[2][1]);
  const other = new Linear(3, 2, new Rng(4));
  other.loadTorchStateDict(torch);
  assert.equal(other.weight.arraySync(), w);
  assert.throws(() => other.loadTorchStateDict(new Map([["weight", tf.zeros([3, 2])], ["bias", tf.zeros([2])]])), (e: unknown) => e instanceof StateDictError);
  for (const t of torch.values()) t.dispose();
  lin.dispose();
  other.dispose();
});

test("dispose frees every parameter", () => {
  const before = tf.memory().numTensors;
  const net = new Net(new Rng(0));
  assert.equal(tf.memory().numTensors, before + 9);
  net.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test.run();
