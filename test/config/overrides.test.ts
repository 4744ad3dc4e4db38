import { test } from "uvu";
import * as assert from "uvu/assert";
import { ConfigError } from "../../src/config/errors.ts";
import { applyOverrides, nearestKeys, parseCliArgs, parseOverride, parseOverrideValue } from "../../src/config/overrides.ts";
import type { ConfigObject } from "../../src/config/tree.ts";

function expectError(fn: () => unknown, ...patterns: RegExp[]): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, ConfigError, String(e));
    for (const p of patterns) assert.match((e as Error).message, p);
    return;
  }
  assert.unreachable("expected a ConfigError");
}

test("each override form parses to its kind, key and value", () => {
  assert.equal(parseOverride("trainer.max_steps=20"), { kind: "set", key: "trainer.max_steps", value: 20, raw: "trainer.max_steps=20" });
  assert.equal(parseOverride("+a.b=c"), { kind: "add", key: "a.b", value: "c", raw: "+a.b=c" });
  assert.equal(parseOverride("++a.b=1.5"), { kind: "force", key: "a.b", value: 1.5, raw: "++a.b=1.5" });
  assert.equal(parseOverride("~logger"), { kind: "delete", key: "logger", raw: "~logger" });
  assert.equal(parseOverride("~a=3"), { kind: "delete", key: "a", value: 3, raw: "~a=3" });
  assert.equal(parseOverride("experiment=mp_20/rl_dng").value, "mp_20/rl_dng");
  assert.equal(parseOverride("ldm_module/denoiser=dit_s").key, "ldm_module/denoiser");
  assert.equal(parseOverride("list[0]=1").key, "list[0]");
});

test("values are YAML scalars: numbers, bools, null, lists, quoted strings, interpolations", () => {
  assert.is(parseOverrideValue("1e-5"), 1e-5);
  assert.is(parseOverrideValue("true"), true);
  assert.is(parseOverrideValue("False"), false);
  assert.is(parseOverrideValue("null"), null);
  assert.equal(parseOverrideValue("[1,2]"), [1, 2]);
  assert.equal(parseOverrideValue("{a: 1}"), { a: 1 });
  assert.is(parseOverrideValue("'a b'"), "a b");
  assert.is(parseOverrideValue("'007'"), "007");
  assert.is(parseOverrideValue("${paths.data_dir}/x"), "${paths.data_dir}/x");
  assert.is(parseOverrideValue("outputs/run 1/ckpt"), "outputs/run 1/ckpt");
  assert.is(parseOverrideValue(""), "");
  assert.is(parseOverrideValue("%Y-%m"), "%Y-%m");
});

test("malformed overrides are errors showing the accepted forms", () => {
  expectError(() => parseOverride("trainer.max_steps"), /is not an override/, /key=value/);
  expectError(() => parseOverride("=3"), /is not an override/);
  expectError(() => parseOverride("a b=3"), /is not an override/);
  expectError(() => parseOverride("+~a=1"), /is not an override/);
});

test("parseCliArgs splits overrides from flags and skips npm's --", () => {
  const args = parseCliArgs(["--", "experiment=mp_20/rl_dng", "trainer.max_steps=20", "+a=b", "~logger", "ckpt_path=outputs/x/last", "--cfg", "job", "-cn", "train_rl", "--config-path=configs"]);
  assert.equal(args.overrides, ["experiment=mp_20/rl_dng", "trainer.max_steps=20", "+a=b", "~logger", "ckpt_path=outputs/x/last"]);
  assert.equal(args.parsed.map((o) => o.kind), ["set", "set", "add", "delete", "set"]);
  assert.is(args.configName, "train_rl");
  assert.is(args.configDir, "configs");
  assert.ok(args.printConfig);
  assert.not.ok(args.help);
  assert.ok(parseCliArgs(["--help"]).help);
  expectError(() => parseCliArgs(["--max-steps=3"]), /unknown option "--max-steps"/);
  expectError(() => parseCliArgs(["-x"]), /unknown option "-x"/);
  expectError(() => parseCliArgs(["--config-name"]), /needs a value/);
  expectError(() => parseCliArgs(["max_steps"]), /is not an override/);
});

test("applyOverrides sets, adds, forces and deletes in order", () => {
  const cfg: ConfigObject = { a: { b: 1, list: [1, 2, 3] }, c: "x" };
  applyOverrides(cfg, ["a.b=2", "+a.new=3", "++d.e=4", "~c", "a.list[1]=9", "~a.list[0]"].map(parseOverride));
  assert.equal(cfg, { a: { b: 2, list: [9, 3], new: 3 }, d: { e: 4 } });
});

test("override errors: unknown key with nearest keys, + on existing, ~ mismatch, bad index", () => {
  const cfg: ConfigObject = { trainer: { max_steps: 1, val_check_interval: 5 }, rl_module: { rl_configs: { clip_ratio: 0.1 } } };
  expectError(() => applyOverrides(cfg, [parseOverride("trainer.max_step=3")]), /trainer\.max_steps/, /\+trainer\.max_step=3/);
  expectError(() => applyOverrides(cfg, [parseOverride("rl_module.clip_ratio=3")]), /rl_module\.rl_configs\.clip_ratio/);
  expectError(() => applyOverrides(cfg, [parseOverride("+trainer.max_steps=3")]), /already exists/);
  expectError(() => applyOverrides(cfg, [parseOverride("~trainer.max_steps=2")]), /not 2; nothing deleted/);
  expectError(() => applyOverrides({ l: [1] }, [parseOverride("++l[3]=1")]), /out of range/);
  assert.ok(nearestKeys(cfg, "max_steps").includes("trainer.max_steps"));
});

test.run();
