import { test } from "uvu";
import * as assert from "uvu/assert";
import { NnArgumentError } from "../../src/nn/errors.ts";
import { ConfigError } from "../../src/config/errors.ts";
import { instantiate, type PartialTarget } from "../../src/config/instantiate.ts";
import { composeConfig, loadCustomModules } from "../../src/config/loader.ts";
import { defaultRegistry, SEED_ALIASES, TargetRegistry, type Kwargs } from "../../src/config/registry.ts";
import { camelizeKeys } from "../../src/config/schema.ts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

async function expectError(fn: () => Promise<unknown>, ...patterns: RegExp[]): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    assert.instance(e, Error, String(e));
    for (const p of patterns) assert.match((e as Error).message, p);
    return e as Error;
  }
  assert.unreachable("expected an error");
  throw new Error("unreachable");
}

/** A registry whose factories record what they were given. */
function recordingRegistry(): { registry: TargetRegistry; calls: Array<{ name: string; kwargs: Kwargs; args: unknown[] }> } {
  const registry = new TargetRegistry();
  const calls: Array<{ name: string; kwargs: Kwargs; args: unknown[] }> = [];
  for (const name of ["Outer", "Inner", "AdamW", "CreativityReward"]) {
    registry.register(name, (kwargs, args) => {
      calls.push({ name, kwargs, args });
      return { built: name, ...camelizeKeys<Record<string, unknown>>(kwargs, { deep: false }) };
    });
  }
  return { registry, calls };
}

test("seed dotted names are aliases of our names", async () => {
  const { registry, calls } = recordingRegistry();
  assert.is(registry.canonicalName("src.rl_module.components.CreativityReward"), "CreativityReward");
  assert.is(registry.canonicalName("torch.optim.AdamW"), "AdamW");
  assert.is(SEED_ALIASES["src.vae_module.predictor_module.PredictorModule.load_from_checkpoint"], "PredictorModule.loadFromCheckpoint");
  const out = await instantiate<Record<string, unknown>>({ _target_: "src.rl_module.components.CreativityReward", weight: 1.0, normalize_fn: null }, { registry });
  assert.equal(out, { built: "CreativityReward", weight: 1, normalizeFn: null });
  assert.equal(calls[0].kwargs, { weight: 1, normalize_fn: null }, "factories receive snake_case kwargs without reserved keys");
  registry.alias("my.Alias", "Inner");
  assert.ok(registry.has("my.Alias"));
  assert.not.ok(new TargetRegistry({ seedAliases: false }).has("torch.optim.AdamW"));
  // A factory registered under the exact dotted name wins over the alias.
  registry.register("src.rl_module.components.CreativityReward", () => "direct");
  assert.is(await instantiate({ _target_: "src.rl_module.components.CreativityReward" }, { registry }), "direct");
});

test("registering several names at once, re-registration needs replace", async () => {
  const registry = new TargetRegistry();
  registry.register(["A", "B.alias"], () => 1);
  assert.is(await instantiate({ _target_: "B.alias" }, { registry }), 1);
  assert.throws(() => registry.register("A", () => 2), /already registered/);
  registry.register("A", () => 2, { replace: true });
  assert.is(await instantiate({ _target_: "A" }, { registry }), 2);
  assert.throws(() => registry.register([], () => 1), /at least one name/);
});

test("unknown _target_: error names the target, key and registered names", async () => {
  const { registry } = recordingRegistry();
  const e = await expectError(
    () => instantiate({ reward: { components: [{ _target_: "src.rl_module.components.EnergyReward" }] } }, { registry }),
    /_target_ "src\.rl_module\.components\.EnergyReward" \(the seed's name for "EnergyReward"\)/,
    /Registered: AdamW, CreativityReward, Inner, Outer/,
    /registerTarget\("EnergyReward", factory\)/,
    /custom_modules/,
  );
  assert.instance(e, ConfigError);
  assert.is((e as ConfigError).key, "reward.components[0]._target_");
  await expectError(() => instantiate({ _target_: "Innr" }, { registry }), /Did you mean "Inner"/);
  await expectError(() => instantiate({ _target_: 3 }, { registry }), /must be a name string/);
});

test("recursive instantiation: children first, lists and plain mappings rebuilt", async () => {
  const { registry, calls } = recordingRegistry();
  const out = await instantiate<any>(
    { _target_: "Outer", child: { _target_: "Inner", x: 1 }, items: [{ _target_: "Inner", x: 2 }, 3], plain: { deep: { _target_: "Inner", x: 4 } } },
    { registry },
  );
  assert.equal(calls.map((c) => c.name), ["Inner", "Inner", "Inner", "Outer"]);
  assert.equal(out.child, { built: "Inner", x: 1 });
  assert.equal(out.items, [{ built: "Inner", x: 2 }, 3]);
  assert.equal(out.plain.deep, { built: "Inner", x: 4 });
  const plainTop = await instantiate<any>({ a: { _target_: "Inner", x: 5 }, b: [1] }, { registry });
  assert.equal(plainTop, { a: { built: "Inner", x: 5 }, b: [1] });
  assert.is(await instantiate(7, { registry }), 7);
});

test("_recursive_: false passes children as config; _args_ are positional", async () => {
  const { registry, calls } = recordingRegistry();
  await instantiate({ _target_: "Outer", _recursive_: false, child: { _target_: "Inner" } }, { registry });
  assert.equal(calls[0].kwargs.child, { _target_: "Inner" });
  await instantiate({ _target_: "Inner", _args_: [1, 2] }, { registry });
  assert.equal(calls[1].args, [1, 2]);
  await expectError(() => instantiate({ _target_: "Inner", _args_: 3 }, { registry }), /_args_ must be a list/);
});

test("_partial_ returns a function awaiting the remaining kwargs; extraKwargs override", async () => {
  const { registry, calls } = recordingRegistry();
  const make = await instantiate<PartialTarget>({ _target_: "torch.optim.AdamW", _partial_: true, lr: 1e-5, weight_decay: 0.0 }, { registry });
  assert.type(make, "function");
  assert.is(calls.length, 0, "nothing is built before the call");
  const params = new Map();
  assert.equal(make({ params }), { built: "AdamW", lr: 1e-5, weightDecay: 0, params });
  assert.equal(calls[0].kwargs, { lr: 1e-5, weight_decay: 0, params });
  const forced = await instantiate<PartialTarget>({ _target_: "Inner", x: 1 }, { registry, partial: true });
  assert.equal(forced({ y: 2 }), { built: "Inner", x: 1, y: 2 });
  const extra = await instantiate<any>({ _target_: "Inner", x: 1 }, { registry, extraKwargs: { x: 9, z: 3 } });
  assert.equal(extra, { built: "Inner", x: 9, z: 3 });
  await expectError(() => instantiate({ a: 1 }, { registry, partial: true }), /needs a config with a _target_/);
});

test("??? values, factory TypeErrors and library errors", async () => {
  const registry = new TargetRegistry();
  registry.register("Boom", () => {
    throw new TypeError("x is undefined");
  });
  registry.register("Typed", () => {
    throw new NnArgumentError("bad size");
  });
  registry.register("Async", async (kw) => {
    if (kw.fail) throw new Error("async failure");
    return "ok";
  });
  await expectError(() => instantiate({ a: { _target_: "Boom" } }, { registry }), /building _target_ "Boom" failed: x is undefined/);
  const typed = await expectError(() => instantiate({ _target_: "Typed" }, { registry }), /bad size/);
  assert.instance(typed, NnArgumentError);
  assert.is(await instantiate({ _target_: "Async" }, { registry }), "ok");
  await expectError(() => instantiate({ _target_: "Async", fail: true }, { registry }), /async failure/);
  await expectError(() => instantiate({ _target_: "Async", path: "???" }, { registry }), /mandatory value/);
  await expectError(() => instantiate({ nested: ["???"] }, { registry }), /mandatory value/);
});

test("lazy registration loads on first use only", async () => {
  const registry = new TargetRegistry();
  let loads = 0;
  registry.registerLazy("Lazy", async () => {
    loads++;
    return () => "lazy-built";
  });
  assert.ok(registry.has("Lazy"));
  assert.is(loads, 0);
  assert.is(await instantiate({ _target_: "Lazy" }, { registry }), "lazy-built");
  await instantiate({ _target_: "Lazy" }, { registry });
  assert.is(loads, 1);
});

test("built-in targets: the bundled optimizer and scheduler configs build real AdamW and ConstantLR", async () => {
  const { initBackend } = await import("../../src/nn/backend.ts");
  const { tf } = await import("../../src/nn/tf.ts");
  await initBackend({ backend: "cpu" });
  const cfg = composeConfig({ configName: "train_rl" });
  const rl = cfg.rl_module as Record<string, any>;
  const makeOptimizer = await instantiate<PartialTarget<any>>(rl.optimizer);
  const makeScheduler = await instantiate<PartialTarget<any>>(rl.scheduler);
  const w = tf.variable(tf.ones([2]));
  const opt = makeOptimizer({ params: new Map([["w", w]]) });
  assert.is(opt.constructor.name, "AdamW");
  assert.equal([opt.lr, opt.weightDecay], [1e-5, 0]);
  const sched = makeScheduler({ optimizer: opt });
  sched.step();
  assert.is(sched.getLastLr(), 1e-5);
  await expectError(() => instantiate({ _target_: "torch.optim.AdamW", params: new Map(), amsgrad: true } as any), /unknown key "amsgrad"/);
  await expectError(() => instantiate({ _target_: "AdamW", lr: 1e-3 }), /needs "params"/, /optimizer\(\{ params: module \}\)/);
  const cos = await instantiate<any>({ _target_: "CosineAnnealingLR", optimizer: { lr: 1 }, T_max: 10 });
  assert.is(cos.tMax, 10);
  opt.dispose?.();
  w.dispose();
});

test("custom_modules: listed files are imported and register their targets", async () => {
  const cfg = composeConfig({ configName: "train_rl", overrides: ["custom_modules=[test/fixtures/config/custom_reward_module.ts]"] });
  assert.not.ok(defaultRegistry.has("FixtureScaledReward"));
  const loaded = await loadCustomModules(cfg);
  assert.is(loaded.length, 1);
  assert.ok(defaultRegistry.has("FixtureScaledReward"));
  const reward = await instantiate<any>({ _target_: "FixtureScaledReward", weight: 0.5, scale_factor: 4 });
  assert.equal(reward.compute([1, 2]), [2, 4]);
  await expectError(() => loadCustomModules({ custom_modules: ["nope/missing.ts"] }), /does not exist/);
  await expectError(() => loadCustomModules({ custom_modules: ["configs/train_rl.yaml"] }), /not a \.ts\/\.js module/);
  await expectError(() => loadCustomModules({ custom_modules: "x.ts" }), /must be a list/);
  assert.equal(await loadCustomModules({}), []);
});

test("custom_modules: a .ts outside an ESM package registers into a second copy, and we say so", async () => {
  // tsx loads such a file as CommonJS, so its import of the registry is a separate instance.
  const dir = mkdtempSync(join(tmpdir(), "crystal-grpo-custom-"));
  const registry = fileURLToPath(new URL("../../src/config/registry.ts", import.meta.url));
  const body = (name: string) => `import { registerTarget } from ${JSON.stringify(registry)};\nregisterTarget(${JSON.stringify(name)}, () => 1);\n`;
  writeFileSync(join(dir, "cjs_reward.ts"), body("OutsideCjsReward"));
  writeFileSync(join(dir, "esm_reward.mts"), body("OutsideEsmReward"));
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (msg: string) => warnings.push(msg);
  try {
    await loadCustomModules({ custom_modules: [join(dir, "cjs_reward.ts")] });
    assert.not.ok(defaultRegistry.has("OutsideCjsReward"));
    assert.is(warnings.length, 1);
    assert.match(warnings[0], /cjs_reward\.ts registered no new _target_ name/);
    assert.match(warnings[0], /Rename it to \.mts/);
    await loadCustomModules({ custom_modules: [join(dir, "esm_reward.mts")] });
    assert.ok(defaultRegistry.has("OutsideEsmReward"));
    await loadCustomModules({ custom_modules: [join(dir, "esm_reward.mts")] }); // second import: a no-op, no warning
    assert.is(warnings.length, 1);
  } finally {
    console.warn = warn;
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
