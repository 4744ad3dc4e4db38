import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../src/config/errors.ts";
import { composeConfig } from "../../src/config/loader.ts";
import { saveResolvedConfig } from "../../src/config/save.ts";

const dir = mkdtempSync(join(tmpdir(), "cfg-save-"));

test("a resolved config is saved as YAML and composes back to the same object", () => {
  const cfg = composeConfig({ configName: "train_rl", overrides: ["experiment=mp_20/rl_dng", "trainer.max_steps=20"] });
  const path = saveResolvedConfig(cfg, join(dir, "run1"), { header: ["train_rl experiment=mp_20/rl_dng trainer.max_steps=20"] });
  assert.is(path, join(dir, "run1", "config.yaml"));
  const text = readFileSync(path, "utf8");
  assert.ok(text.startsWith("# train_rl experiment=mp_20/rl_dng trainer.max_steps=20\n"));
  assert.match(text, /_target_: src\.rl_module\.rl_module\.RLModule/);
  assert.equal(readdirSync(join(dir, "run1")), ["config.yaml"], "no temporary file is left behind");
  const back = composeConfig({ configDir: join(dir, "run1"), configName: "config" });
  assert.equal(back, cfg);
  assert.is((back.rl_module as any).rl_configs.entropy_weight, 1e-5);
});

test("saving replaces an existing file and keeps special numbers", () => {
  saveResolvedConfig({ a: 1 }, join(dir, "run2"), { fileName: "c.yaml" });
  saveResolvedConfig({ a: 2, inf: Number.POSITIVE_INFINITY }, join(dir, "run2"), { fileName: "c.yaml" });
  const back = composeConfig({ configDir: join(dir, "run2"), configName: "c" });
  assert.equal(back, { a: 2, inf: Number.POSITIVE_INFINITY });
});

test("instantiated objects and functions are not config data", () => {
  assert.throws(() => saveResolvedConfig({ a: { b: new Map() } } as any, join(dir, "run3")), (e: unknown) => e instanceof ConfigError && /Map is not config data/.test(e.message) && e.key === "a.b");
  assert.throws(() => saveResolvedConfig({ f: () => 1 } as any, join(dir, "run3")), /function is not config data/);
  assert.throws(() => saveResolvedConfig([] as any, join(dir, "run3")), /needs a config mapping/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
