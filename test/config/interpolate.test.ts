import { test } from "uvu";
import * as assert from "uvu/assert";
import { ConfigError } from "../../src/config/errors.ts";
import { listHubs, registerHub, resolveHub, CHECKPOINTS_DIR } from "../../src/config/hub.ts";
import { formatDate, registerResolver, resolveInterpolations } from "../../src/config/interpolate.ts";
import type { ConfigObject } from "../../src/config/tree.ts";
import { join } from "node:path";

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

test("absolute references keep the type of a whole-value interpolation", () => {
  const out = resolveInterpolations({ a: { n: 3, list: [1, 2], map: { k: "v" } }, n: "${a.n}", l: "${a.list}", m: "${a.map}", s: "n=${a.n}" });
  assert.is(out.n, 3);
  assert.equal(out.l, [1, 2]);
  assert.equal(out.m, { k: "v" });
  assert.is(out.s, "n=3");
});

test("references are followed through other interpolations and list indices", () => {
  const out = resolveInterpolations({ base: { dir: "/x" }, alias: "${base}", deep: "${alias.dir}/y", items: [{ v: 7 }], i1: "${items[0].v}", i2: "${items.0.v}" });
  assert.is(out.deep, "/x/y");
  assert.is(out.i1, 7);
  assert.is(out.i2, 7);
});

test("relative references: one dot is the holding mapping, each extra dot one level up", () => {
  const out = resolveInterpolations({ top: 1, a: { b: 2, c: "${.b}", d: "${..top}", e: { f: "${..b}" } } });
  const a = out.a as ConfigObject;
  assert.is(a.c, 2);
  assert.is(a.d, 1);
  assert.is((a.e as ConfigObject).f, 2);
  expectError(() => resolveInterpolations({ a: "${...x}" }), /climbs above/);
});

test("results are independent copies", () => {
  const out = resolveInterpolations({ src: { k: 1 }, a: "${src}", b: "${src}" });
  (out.a as ConfigObject).k = 99;
  assert.is((out.b as ConfigObject).k, 1);
  assert.is((out.src as ConfigObject).k, 1);
});

test("oc.env with and without defaults, nested interpolation in the default", () => {
  process.env.CFG_TEST_VAR = "from-env";
  delete process.env.CFG_TEST_UNSET;
  const out = resolveInterpolations({
    root: "/r",
    a: "${oc.env:CFG_TEST_VAR}",
    b: "${oc.env:CFG_TEST_UNSET,fallback}",
    c: "${oc.env:CFG_TEST_UNSET,${root}/sub}",
    d: "${oc.env:CFG_TEST_UNSET,null}",
    e: "${oc.env:CFG_TEST_UNSET,'a,b'}",
    f: "x-${oc.env:CFG_TEST_VAR}-y",
  });
  assert.equal([out.a, out.b, out.c, out.d, out.e, out.f], ["from-env", "fallback", "/r/sub", null, "a,b", "x-from-env-y"]);
  const e = expectError(() => resolveInterpolations({ p: { q: "${oc.env:CFG_TEST_UNSET}" } }), /CFG_TEST_UNSET is not set/, /\$\{oc\.env:CFG_TEST_UNSET,DEFAULT\}/);
  assert.is(e.key, "p.q");
});

test("hub names resolve to bundled checkpoint folders; registerHub adds names", () => {
  const out = resolveInterpolations({ vae: "${hub:mp_20_vae}", ldm: "${hub:mp_20_ldm_base}" });
  assert.is(out.vae, join(CHECKPOINTS_DIR, "mp_20/vae"));
  assert.is(out.ldm, join(CHECKPOINTS_DIR, "mp_20/ldm"));
  registerHub("cfg_test_hub", "/data/ckpt");
  assert.is(resolveInterpolations({ x: "${hub:cfg_test_hub}" }).x, "/data/ckpt");
  assert.is(listHubs().cfg_test_hub, "/data/ckpt");
  expectError(() => resolveHub("mp_20_vea"), /unknown checkpoint hub name "mp_20_vea"/, /Did you mean "mp_20_vae"/, /registerHub/);
  expectError(() => registerHub("bad name", "/x"), /may only contain/);
});

test("now, oc.select and hydra resolvers", () => {
  const now = new Date(2024, 0, 2, 3, 4, 5);
  assert.is(formatDate(now, "%Y-%m-%d_%H-%M-%S"), "2024-01-02_03-04-05");
  const out = resolveInterpolations(
    { hydra: { run: { dir: "/runs/${now:%Y}" } }, out: "${hydra:runtime.output_dir}", pick: "${oc.select:missing.key,7}", have: "${oc.select:hydra.run.dir}", ch: "${hydra:runtime.choices.experiment}", cwd: "${hydra:runtime.cwd}" },
    { now, choices: { experiment: "mp_20/rl_dng" } },
  );
  assert.equal([out.out, out.pick, out.have, out.ch, out.cwd], ["/runs/2024", 7, "/runs/2024", "mp_20/rl_dng", process.cwd()]);
  expectError(() => resolveInterpolations({ a: "${now:%Q}" }), /unsupported format field "%Q"/);
  expectError(() => resolveInterpolations({ a: "${hydra:runtime.output_dir}" }), /hydra\.run\.dir/);
});

test("custom resolvers; unknown resolver names are errors", () => {
  registerResolver("cfg_test.mul", ([a, b]) => (a as number) * (b as number));
  assert.is(resolveInterpolations({ x: 3, y: "${cfg_test.mul:${x},4}" }).y, 12);
  expectError(() => registerResolver("cfg_test.mul", () => 1), /already registered/);
  expectError(() => resolveInterpolations({ a: "${oc.evn:HOME}" }), /unknown resolver "oc\.evn"/, /Did you mean "oc\.env"/);
});

test("cycles and missing keys are errors naming the key", () => {
  const cyc = expectError(() => resolveInterpolations({ a: { b: "${c}" }, c: "${a.b}" }), /interpolation cycle: a\.b → c → a\.b/);
  assert.is(cyc.key, "a.b");
  expectError(() => resolveInterpolations({ self: "${self}" }), /cycle/);
  const miss = expectError(() => resolveInterpolations({ paths: { output_dir: "/o" }, x: { y: "${paths.ouput_dir}/m" } }), /missing key "paths\.ouput_dir"/, /Did you mean "paths\.output_dir"/);
  assert.is(miss.key, "x.y");
  expectError(() => resolveInterpolations({ m: "???", a: "${m}" }), /mandatory \(\?\?\?\)/);
});

test("syntax errors, escapes and embedding containers in strings", () => {
  expectError(() => resolveInterpolations({ a: "${b" }), /unclosed/);
  assert.is(resolveInterpolations({ a: "\\${not.a.ref}" }).a, "${not.a.ref}");
  expectError(() => resolveInterpolations({ m: { k: 1 }, a: "x${m}" }), /cannot be embedded in a string/);
  assert.is(resolveInterpolations({ a: "$notref {x}" }).a, "$notref {x}");
});

test.run();
