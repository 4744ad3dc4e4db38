import { test } from "uvu";
import * as assert from "uvu/assert";
import { ConfigError } from "../../src/config/errors.ts";
import { cloneConfig, deleteAt, formatKeyPath, getAt, hasAt, isConfigObject, listKeyPaths, mergeConfig, parseKeyPath, setAt, type ConfigObject } from "../../src/config/tree.ts";

test("key paths: dotted, bracketed and numeric segments", () => {
  assert.equal(parseKeyPath("a.b.c"), ["a", "b", "c"]);
  assert.equal(parseKeyPath("reward_fn.components[1].weight"), ["reward_fn", "components", "1", "weight"]);
  assert.equal(parseKeyPath("a.0.b"), ["a", "0", "b"]);
  assert.equal(parseKeyPath("m[0][2]"), ["m", "0", "2"]);
  assert.equal(parseKeyPath(""), []);
  assert.is(formatKeyPath(["a", 0, "b"]), "a[0].b");
  for (const bad of ["a..b", ".a", "a[x]", "a[0"]) assert.throws(() => parseKeyPath(bad), (e: unknown) => e instanceof ConfigError);
});

test("OmegaConf merge: mappings merge recursively, lists and scalars are replaced, inputs untouched", () => {
  const base: ConfigObject = { a: { b: 1, c: [1, 2] }, s: "x", m: { k: 1 } };
  const later: ConfigObject = { a: { c: [3], d: 4 }, s: { now: "map" }, m: "scalar" };
  const out = mergeConfig(base, later);
  assert.equal(out, { a: { b: 1, c: [3], d: 4 }, s: { now: "map" }, m: "scalar" });
  assert.equal(base, { a: { b: 1, c: [1, 2] }, s: "x", m: { k: 1 } });
  (out as ConfigObject).a = null;
  assert.equal(later.a, { c: [3], d: 4 });
});

test("get, has, set, delete and listing", () => {
  const cfg: ConfigObject = { a: { b: null, l: [{ x: 1 }] } };
  assert.is(getAt(cfg, ["a", "l", "0", "x"]), 1);
  assert.ok(hasAt(cfg, ["a", "b"]), "null counts as present");
  assert.not.ok(hasAt(cfg, ["a", "zz"]));
  assert.is(getAt(cfg, ["a", "l", "x"]), undefined);
  setAt(cfg, ["new", "deep", "k"], 2);
  assert.equal(cfg.new, { deep: { k: 2 } });
  assert.throws(() => setAt(cfg, ["a", "l", "0", "x", "y"], 1), /below a scalar/);
  assert.ok(deleteAt(cfg, ["a", "b"]));
  assert.not.ok(deleteAt(cfg, ["a", "b"]));
  assert.equal(listKeyPaths({ a: { b: 1 }, l: [2] }), ["a", "a.b", "l", "l[0]"]);
});

test("plain-object detection and deep clone", () => {
  assert.ok(isConfigObject({}));
  assert.ok(isConfigObject(Object.create(null)));
  assert.not.ok(isConfigObject([]));
  assert.not.ok(isConfigObject(new Map()));
  assert.not.ok(isConfigObject(null));
  const src: ConfigObject = { a: [{ b: 1 }] };
  const copy = cloneConfig(src);
  ((copy.a as ConfigObject[])[0] as ConfigObject).b = 2;
  assert.equal(src, { a: [{ b: 1 }] });
});

test.run();
