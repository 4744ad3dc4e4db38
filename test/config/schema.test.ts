import { test } from "uvu";
import * as assert from "uvu/assert";
import { ConfigError } from "../../src/config/errors.ts";
import {
  camelizeKeys,
  checkBoolean,
  checkDivisible,
  checkEnum,
  checkNumber,
  checkPositiveInt,
  checkUnknownKeys,
  requireKeys,
  toCamelCase,
  toSnakeCase,
} from "../../src/config/schema.ts";
import { closestMatches, editDistance } from "../../src/config/suggest.ts";

function expectError(fn: () => unknown, ...patterns: RegExp[]): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.instance(e, ConfigError, String(e));
    for (const p of patterns) assert.match((e as Error).message, p);
    return e as ConfigError;
  }
  assert.unreachable("expected a ConfigError");
  throw new Error("unreachable");
}

test("snake_case ↔ camelCase, with torch's capitalised names and reserved keys", () => {
  assert.is(toCamelCase("clip_ratio"), "clipRatio");
  assert.is(toCamelCase("num_group_samples"), "numGroupSamples");
  assert.is(toCamelCase("ldm_ckpt_path"), "ldmCkptPath");
  assert.is(toCamelCase("T_max"), "tMax");
  assert.is(toCamelCase("_target_"), "_target_");
  assert.is(toCamelCase("already"), "already");
  assert.is(toSnakeCase("numInnerBatch"), "num_inner_batch");
  assert.is(toSnakeCase("tMax"), "T_max");
});

test("camelizeKeys: deep over plain mappings and lists, instances and functions untouched, reserved keys dropped", () => {
  class Reward {
    some_field = 1;
  }
  const reward = new Reward();
  const fn = () => 1;
  const out = camelizeKeys<Record<string, any>>({
    _target_: "X",
    rl_configs: { clip_ratio: 0.1, num_group_samples: 2 },
    reward_fn: reward,
    optimizer: fn,
    items: [{ a_b: 1 }],
  });
  assert.equal(out.rlConfigs, { clipRatio: 0.1, numGroupSamples: 2 });
  assert.is(out.rewardFn, reward);
  assert.is(out.optimizer, fn);
  assert.equal(out.items, [{ aB: 1 }]);
  assert.not.ok("_target_" in out);
  assert.equal(camelizeKeys({ a_b: { c_d: 1 } }, { deep: false }), { aB: { c_d: 1 } });
  expectError(() => camelizeKeys({ clip_ratio: 1, clipRatio: 2 }), /"clip_ratio" and "clipRatio"/);
});

test("requireKeys lists every missing or ??? key", () => {
  requireKeys({ a: 1, b: null }, ["a", "b"]);
  const e = expectError(() => requireKeys({ a: "???" }, ["a", "b"], "rl_module"), /rl_module\.a, rl_module\.b/);
  assert.is(e.key, "rl_module");
});

test("checkUnknownKeys names the unknown key and suggests the closest allowed one", () => {
  checkUnknownKeys({ _target_: "X", clip_ratio: 1 }, ["clip_ratio", "kl_weight"], "rl_configs");
  const e = expectError(() => checkUnknownKeys({ clip_ration: 1 }, ["clip_ratio", "kl_weight"], "rl_configs"), /unknown key "clip_ration"/, /Did you mean "clip_ratio"/, /Allowed keys here: clip_ratio, kl_weight/);
  assert.is(e.key, "rl_configs.clip_ration");
});

test("checkEnum, checkPositiveInt, checkNumber, checkBoolean", () => {
  assert.is(checkEnum("std", ["std", "norm", null] as const, "normalize_fn"), "std");
  assert.is(checkEnum(null, ["std", null] as const, "normalize_fn"), null);
  expectError(() => checkEnum("nrom", ["std", "norm", "subtract_mean", "clip", null] as const, "reward_fn.normalize_fn"), /"nrom" is not one of std, norm, subtract_mean, clip, null/, /Did you mean "norm"/);
  assert.is(checkPositiveInt(3, "k"), 3);
  for (const bad of [0, -1, 1.5, "3", null]) expectError(() => checkPositiveInt(bad, "k"), /positive integer/);
  assert.is(checkNumber(0.5, "eta", { min: 0, max: 1 }), 0.5);
  expectError(() => checkNumber(2, "eta", { min: 0, max: 1 }), /≥ 0 and ≤ 1, got 2/);
  expectError(() => checkNumber(Number.NaN, "eta"), /finite number/);
  assert.is(checkBoolean(false, "b"), false);
  expectError(() => checkBoolean("false", "b"), /true or false/);
});

test("checkDivisible names both keys and suggests valid values", () => {
  checkDivisible(32, 8, "batch", "num_group_samples");
  const e = expectError(() => checkDivisible(30, 8, "batch", "num_group_samples"), /batch = 30 is not divisible by num_group_samples = 8/, /24 or 32/);
  assert.is(e.key, "batch");
  expectError(() => checkDivisible(4, 0, "batch", "num_inner_batch"), /not divisible/);
});

test("suggestions: edit distance and closest matches", () => {
  assert.is(editDistance("kitten", "sitting"), 3);
  assert.is(editDistance("", "abc"), 3);
  assert.equal(closestMatches("max_step", ["max_steps", "min_steps", "seed"]), ["max_steps", "min_steps"]);
  assert.equal(closestMatches("max_steps", ["trainer.max_steps", "zzz"]), ["trainer.max_steps"]);
  assert.equal(closestMatches("qqqqqq", ["abc", "defg"]), []);
});

test.run();
