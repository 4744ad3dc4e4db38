/**
 * Config trees: the plain-object shape a composed config has (what YAML parses to), and
 * dotted key paths on it (`rl_module.rl_configs.clip_ratio`, `reward_fn.components[0].weight`
 * or, OmegaConf-style, `reward_fn.components.0.weight`).
 *
 * Merging follows OmegaConf: mappings merge key by key, recursively; anything else (scalars,
 * lists) is replaced whole by the later value. Every function here returns fresh objects or
 * mutates only the tree it is handed, never a shared one.
 */
import { ConfigError } from "./errors.ts";

/** A YAML value after parsing: scalars, lists and string-keyed mappings. */
export type ConfigValue = null | boolean | number | string | ConfigValue[] | ConfigObject;

/** A YAML mapping. */
export interface ConfigObject {
  [key: string]: ConfigValue;
}

/** True for `{...}` mappings (not arrays, not class instances, not null). */
export function isConfigObject(v: unknown): v is ConfigObject {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Deep copy of a config value (mappings and lists are copied, scalars shared). */
export function cloneConfig<T extends ConfigValue>(v: T): T {
  if (Array.isArray(v)) return v.map((x) => cloneConfig(x)) as T;
  if (isConfigObject(v)) {
    const out: ConfigObject = {};
    for (const [k, x] of Object.entries(v)) out[k] = cloneConfig(x);
    return out as T;
  }
  return v;
}

/** OmegaConf merge: `later` wins; mappings are merged recursively; inputs are not modified. */
export function mergeConfig(base: ConfigValue | undefined, later: ConfigValue): ConfigValue {
  if (!isConfigObject(base) || !isConfigObject(later)) return cloneConfig(later);
  const out = cloneConfig(base);
  for (const [k, v] of Object.entries(later)) out[k] = mergeConfig(out[k], v);
  return out;
}

/**
 * Split `a.b[0].c` / `a.b.0.c` into segments `["a", "b", "0", "c"]`. A segment index on a
 * list is a decimal integer; on a mapping it is just a key.
 */
export function parseKeyPath(path: string): string[] {
  if (path === "") return [];
  const segments: string[] = [];
  for (const part of path.split(".")) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (!m || (m[1] === "" && m[2] === "")) {
      throw new ConfigError(`malformed key path "${path}"; write dotted keys like a.b.c or a.list[0].key.`, path);
    }
    if (m[1] !== "") segments.push(m[1]);
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) segments.push(idx[1]);
  }
  return segments;
}

/** Inverse of `parseKeyPath`, writing list indices as `[i]`. */
export function formatKeyPath(segments: readonly (string | number)[]): string {
  let out = "";
  for (const s of segments) {
    if (typeof s === "number") out += `[${s}]`;
    else out += out === "" ? s : `.${s}`;
  }
  return out;
}

/** The child of `container` at `segment`, or `undefined` if there is none. */
function child(container: ConfigValue | undefined, segment: string): ConfigValue | undefined {
  if (Array.isArray(container)) {
    if (!/^\d+$/.test(segment)) return undefined;
    return container[Number(segment)];
  }
  if (isConfigObject(container) && Object.prototype.hasOwnProperty.call(container, segment)) return container[segment];
  return undefined;
}

/** Value at `segments` under `root`, or `undefined` when any step is missing. */
export function getAt(root: ConfigValue, segments: readonly string[]): ConfigValue | undefined {
  let cur: ConfigValue | undefined = root;
  for (const s of segments) {
    cur = child(cur, s);
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** True when `segments` names an existing entry (a `null` value counts as existing). */
export function hasAt(root: ConfigValue, segments: readonly string[]): boolean {
  return getAt(root, segments) !== undefined;
}

/**
 * Set `value` at `segments`, creating missing mappings on the way (used by `+key=value`).
 * Throws when a step crosses a scalar or a list index is out of range.
 */
export function setAt(root: ConfigObject, segments: readonly string[], value: ConfigValue): void {
  if (segments.length === 0) throw new ConfigError("cannot replace the whole config; name a key.", "");
  let cur: ConfigValue = root;
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i];
    const last = i === segments.length - 1;
    if (Array.isArray(cur)) {
      const idx = Number(s);
      if (!/^\d+$/.test(s) || idx >= cur.length) {
        throw new ConfigError(`list index ${s} is out of range (the list has ${cur.length} items).`, formatKeyPath(segments.slice(0, i + 1)));
      }
      if (last) cur[idx] = value;
      else cur = cur[idx];
    } else if (isConfigObject(cur)) {
      if (last) cur[s] = value;
      else {
        if (cur[s] === undefined || cur[s] === null) cur[s] = {};
        cur = cur[s];
      }
    } else {
      throw new ConfigError(`cannot set a key below a scalar value.`, formatKeyPath(segments.slice(0, i)));
    }
  }
}

/** Remove the entry at `segments`; returns false when there was none. */
export function deleteAt(root: ConfigObject, segments: readonly string[]): boolean {
  const parent = getAt(root, segments.slice(0, -1));
  const last = segments[segments.length - 1];
  if (Array.isArray(parent) && /^\d+$/.test(last) && Number(last) < parent.length) {
    parent.splice(Number(last), 1);
    return true;
  }
  if (isConfigObject(parent) && Object.prototype.hasOwnProperty.call(parent, last)) {
    delete parent[last];
    return true;
  }
  return false;
}

/** Every key path in the tree (mappings and list items), depth first: used for suggestions. */
export function listKeyPaths(root: ConfigValue, prefix: (string | number)[] = []): string[] {
  const out: string[] = [];
  const entries: Array<[string | number, ConfigValue]> = Array.isArray(root)
    ? root.map((v, i) => [i, v])
    : isConfigObject(root)
      ? Object.entries(root)
      : [];
  for (const [k, v] of entries) {
    const path = [...prefix, k];
    out.push(formatKeyPath(path));
    out.push(...listKeyPaths(v, path));
  }
  return out;
}
