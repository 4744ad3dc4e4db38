import { test } from "uvu";
import * as assert from "uvu/assert";
import { composeConfig, composeConfigDetailed, CONFIGS_DIR } from "../../src/config/loader.ts";
import { ConfigError } from "../../src/config/errors.ts";
import { listGroupOptions } from "../../src/config/config_files.ts";

const TREE = "test/fixtures/config/tree";
const compose = (configName: string, overrides: string[] = []) => composeConfig({ configDir: TREE, configName, overrides });

/** Runs `fn`, expects a ConfigError whose message matches every pattern; returns it. */
function expectConfigError(fn: () => unknown, ...patterns: RegExp[]): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.instance(e, ConfigError, `expected a ConfigError, got ${String(e)}`);
    for (const p of patterns) assert.match((e as Error).message, p);
    return e as ConfigError;
  }
  assert.unreachable("expected a ConfigError");
  throw new Error("unreachable");
}

test("defaults are merged in order, then _self_ overrides them", () => {
  const cfg = compose("main");
  assert.equal(cfg.db, { driver: "mysql", user: "main_user", port: 3306 });
  assert.is(cfg.top, "from_main");
  assert.equal(cfg.list, [1, 2, 3]);
  assert.not.ok("defaults" in cfg, "defaults lists are not part of the result");
});

test("_self_ listed first is overridden by the defaults; an unlisted _self_ comes last", () => {
  assert.is((compose("self_first").db as { user: string }).user, "root");
  assert.is((compose("implicit_self").db as { user: string }).user, "implicit_self_user");
});

test("nested group defaults land at the group's package, in their own order", () => {
  const cfg = compose("main");
  const server = cfg.server as Record<string, unknown>;
  assert.is(server.name, "apache");
  // server/apache.yaml lists _self_ before site: basic, so site/basic.yaml wins.
  assert.equal(server.site, { title: "basic", db_port: 3306 });
  const fancy = compose("main", ["server/site=fancy"]);
  assert.is((fancy.server as { site: { title: string } }).site.title, "fancy");
});

test("a @package _global_ experiment merges at the root and overrides other groups", () => {
  const { config, choices } = composeConfigDetailed({ configDir: TREE, configName: "main", overrides: ["experiment=fast"] });
  assert.is(config.top, "from_exp");
  // `override /db: postgres` switched the db option; the experiment's own db.user wins last.
  assert.equal(config.db, { driver: "postgres", user: "exp_user", port: 5432 });
  assert.is(choices.db, "postgres");
  assert.is(choices.experiment, "fast");
});

test("override /hydra is a no-op when the tree has no hydra folder", () => {
  const cfg = compose("main", ["experiment=seed_style"]);
  assert.is(cfg.top, "seed_style");
  assert.is((cfg.db as { driver: string }).driver, "postgres");
});

test("a command-line group selection beats an experiment's override entry", () => {
  const cfg = compose("main", ["experiment=fast", "db=mysql"]);
  assert.is((cfg.db as { driver: string }).driver, "mysql");
});

test("an option without a package header sits under its group; nested folders are options", () => {
  const cfg = compose("main", ["experiment=sub/deep"]);
  assert.equal(cfg.experiment, { x: 1 });
});

test("a plain config entry merges at the including config's package", () => {
  const cfg = compose("with_include");
  assert.is(cfg.shared, "from_primary");
  assert.is(cfg.only_extra, 1);
});

test("optional entries may be missing; group@pkg places an option elsewhere; _group_.x headers", () => {
  const cfg = compose("optional");
  assert.not.ok("db" in cfg);
  assert.equal(cfg.backup, { driver: "postgres", user: "pg", port: 5432 });
  const inner = compose("main", ["db=inner_pkg", "+db.port=1"]);
  assert.equal((inner.db as Record<string, unknown>).inner, { driver: "inner" });
});

test("+group=option adds a group, ~group removes one", () => {
  const added = compose("implicit_self", ["+server=apache"]);
  assert.is((added.server as { name: string }).name, "apache");
  const removed = compose("main", ["~server"]);
  assert.not.ok("server" in removed);
});

test("key overrides: set, add, force, delete, typed values, interpolation after overrides", () => {
  const cfg = compose("main", ["db.port=1234", "+db.host=localhost", "++db.user=forced", "++new.key=[1,2]", "~list", "top=${db.host}"]);
  assert.equal(cfg.db, { driver: "mysql", user: "forced", port: 1234, host: "localhost" });
  assert.equal(cfg.new, { key: [1, 2] });
  assert.not.ok("list" in cfg);
  assert.is(cfg.top, "localhost");
  // The nested site's ${db.port} sees the overridden port.
  assert.is((cfg.server as { site: { db_port: number } }).site.db_port, 1234);
});

test("unknown override key: error names the key and the nearest existing keys", () => {
  expectConfigError(() => compose("main", ["db.prot=1"]), /db\.prot/, /db\.port/, /\+db\.prot=1/);
});

test("+key on an existing key and ~key on a missing key are errors", () => {
  expectConfigError(() => compose("main", ["+db.port=1"]), /already exists/);
  expectConfigError(() => compose("main", ["~db.nope"]), /db\.nope/, /not in the config/);
});

test("unknown group option: error lists the available options", () => {
  const e = expectConfigError(() => compose("main", ["experiment=foo/bar"]), /foo\/bar/, /experiment/, /Available: bad_override, fast, seed_style, sub\/deep/);
  assert.is(e.key, "experiment");
  expectConfigError(() => compose("main", ["db=postgre"]), /Did you mean "postgres"/);
});

test("selecting a group that is not in the defaults list asks for +", () => {
  expectConfigError(() => compose("implicit_self", ["server=apache"]), /not in the defaults list/, /\+server=apache/);
});

test("an override entry for a group nobody uses is an error naming the file", () => {
  const e = expectConfigError(() => compose("main", ["experiment=bad_override"]), /override \/nonexistent/);
  assert.match(e.file ?? "", /bad_override\.yaml$/);
});

test("bad files: unknown primary, invalid YAML, non-mapping, self-including defaults", () => {
  expectConfigError(() => compose("mian"), /no primary config "mian"/, /Did you mean "main"/);
  expectConfigError(() => compose("bad_yaml"), /invalid YAML/);
  expectConfigError(() => compose("not_mapping"), /mapping/);
  expectConfigError(() => compose("loop"), /deeper than 32/);
  expectConfigError(() => composeConfig({ configDir: "test/fixtures/config/nope", configName: "main" }), /does not exist/);
  expectConfigError(() => compose("main", ["db.port"]), /is not an override/);
});

test("resolve: false keeps interpolations for inspection", () => {
  const cfg = composeConfig({ configDir: TREE, configName: "main", resolve: false });
  assert.is((cfg.server as { site: { db_port: string } }).site.db_port, "${db.port}");
});

test("the bundled configs compose for every experiment with seed keys and CPU sizes", () => {
  assert.equal(listGroupOptions(CONFIGS_DIR, "experiment"), [
    "alex_mp_20_bandgap/rl_bandgap",
    "mp_20/ldm_bandgap",
    "mp_20/ldm_null",
    "mp_20/rl_density",
    "mp_20/rl_dng",
    "mp_20/vae_dng",
    "rl_custom_reward",
  ]);
  const rl = composeConfig({ configName: "train_rl", overrides: ["experiment=mp_20/rl_dng", "trainer.max_steps=20"] });
  const m = rl.rl_module as Record<string, any>;
  assert.is(m._target_, "src.rl_module.rl_module.RLModule");
  assert.is(m.rl_configs.num_group_samples, 8);
  assert.is(m.rl_configs.clip_ratio, 0.01); // the CPU default (seed 0.001; see the experiment header)
  assert.is(m.rl_configs.entropy_weight, 1e-5);
  assert.is(m.reward_fn.components.length, 4);
  assert.equal(m.scheduler, { _target_: "ConstantLR", _partial_: true });
  assert.match(m.ldm_ckpt_path, /checkpoints[\\/]mp_20[\\/]ldm$/);
  assert.is((rl.trainer as { max_steps: number }).max_steps, 20);
  const gap = composeConfig({ configName: "train_rl", overrides: ["experiment=alex_mp_20_bandgap/rl_bandgap"] });
  const pred = (gap.rl_module as any).reward_fn.components[0];
  assert.is(pred.target_value, 3);
  assert.is(pred.predictor._target_, "src.vae_module.predictor_module.PredictorModule.load_from_checkpoint");
  const vae = composeConfig({ configName: "train_vae", overrides: ["experiment=mp_20/vae_dng"] });
  assert.is((vae.vae_module as any).encoder.d_model, 128);
  const ldm = composeConfig({ configName: "train_ldm", overrides: ["experiment=mp_20/ldm_null", "ldm_module/denoiser=dit_b"] });
  assert.equal([(ldm.ldm_module as any).denoiser.depth, (ldm.ldm_module as any).denoiser.hidden_size], [12, 768]);
  composeConfig({ configName: "train_rl", overrides: ["experiment=rl_custom_reward"] });
});

test.run();
