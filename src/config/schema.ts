/**
 * Config validation helpers and the ONE place where YAML's snake_case keys become the
 * library's camelCase option names.
 *
 * YAML keeps the seed's keys (`clip_ratio`, `num_group_samples`, `normalize_fn`) so Chemeleon2
 * configs load unchanged; TypeScript options are camelCase (`clipRatio`). A factory
 * registered for a `_target_` receives snake_case kwargs and calls `camelizeKeys` once:
 *
 *   registerTarget("EnergyReward", (kw) => new EnergyReward(camelizeKeys(kw)));
 *
 * The validators throw `ConfigError`s that name the dotted key, the bad value and the fix,
 * so a bad config fails before any compute is spent.
 */
import { ConfigError } from "./errors.ts";
import { didYouMean } from "./suggest.ts";
import { isConfigObject } from "./tree.ts";

/**
 * Keys whose camelCase form is not the mechanical one (torch's capitalised argument names).
 * Add entries here, nowhere else.
 */
const CAMEL_EXCEPTIONS: Readonly<Record<string, string>> = {
  T_max: "tMax",
  T_0: "t0",
  T_mult: "tMult",
};

/** Hydra's reserved keys (`_target_`, `_partial_`, ...): never renamed, never validated as options. */
export function isReservedKey(key: string): boolean {
  return /^_[a-z]+_$/.test(key);
}

/** `clip_ratio` → `clipRatio`, `T_max` → `tMax`; reserved `_target_`-style keys unchanged. */
export function toCamelCase(key: string): string {
  if (isReservedKey(key)) return key;
  const special = CAMEL_EXCEPTIONS[key];
  if (special !== undefined) return special;
  return key.replace(/_+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** `clipRatio` → `clip_ratio` (for messages and for writing options back as YAML). */
export function toSnakeCase(key: string): string {
  if (isReservedKey(key)) return key;
  for (const [snake, camel] of Object.entries(CAMEL_EXCEPTIONS)) if (camel === key) return snake;
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * Copy of `obj` with camelCase keys. Nested plain mappings are converted too (unless
 * `deep: false`); class instances, functions and lists of them are passed through as they are
 * (an instantiated `reward_fn` keeps its own fields). Reserved keys (`_target_`) are dropped,
 * since a factory never needs them. Two keys that map to the same name (`clip_ratio` and
 * `clipRatio`) are an error.
 */
export function camelizeKeys<T = Record<string, unknown>>(obj: Record<string, unknown>, options: { deep?: boolean; path?: string } = {}): T {
  const deep = options.deep ?? true;
  const out: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (isReservedKey(k)) continue;
    const ck = toCamelCase(k);
    if (ck in origin) {
      throw new ConfigError(`keys "${origin[ck]}" and "${k}" both mean option "${ck}"; keep one.`, options.path);
    }
    origin[ck] = k;
    out[ck] = deep ? camelizeValue(v, joinPath(options.path, k)) : v;
  }
  return out as T;
}

function camelizeValue(v: unknown, path: string): unknown {
  if (Array.isArray(v)) return v.map((x, i) => camelizeValue(x, `${path}[${i}]`));
  if (isConfigObject(v)) return camelizeKeys(v, { deep: true, path });
  return v;
}

function joinPath(path: string | undefined, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** OmegaConf's "mandatory value missing" marker. */
export const MISSING = "???";

/** Throws a ConfigError listing every key of `keys` that is absent, or still `???`, in `obj`. */
export function requireKeys(obj: Record<string, unknown>, keys: readonly string[], path = ""): void {
  const missing = keys.filter((k) => obj[k] === undefined || obj[k] === MISSING);
  if (missing.length) {
    const names = missing.map((k) => joinPath(path, k)).join(", ");
    throw new ConfigError(`missing required key(s) ${names}; set them in the YAML or on the command line (${joinPath(path, missing[0])}=...).`, path);
  }
}

/**
 * Throws a ConfigError for the first key of `obj` not in `allowed` (reserved `_target_`-style
 * keys are always allowed), suggesting the closest allowed one: a typo such as `clip_ration`
 * fails loudly instead of being silently ignored.
 */
export function checkUnknownKeys(obj: Record<string, unknown>, allowed: readonly string[], path = ""): void {
  const allowedSet = new Set(allowed);
  for (const k of Object.keys(obj)) {
    if (isReservedKey(k) || allowedSet.has(k)) continue;
    throw new ConfigError(
      `unknown key "${k}".${didYouMean(k, allowed)} Allowed keys here: ${[...allowed].sort().join(", ")}.`,
      joinPath(path, k),
    );
  }
}

/** `value` if it is one of `allowed`, else a ConfigError listing them. */
export function checkEnum<T extends string | null>(value: unknown, allowed: readonly T[], path: string): T {
  if ((allowed as readonly unknown[]).includes(value)) return value as T;
  const shown = allowed.map((a) => (a === null ? "null" : a)).join(", ");
  throw new ConfigError(`${JSON.stringify(value)} is not one of ${shown}.${typeof value === "string" ? didYouMean(value, allowed.filter((a): a is T & string => a !== null)) : ""}`, path);
}

/** `value` if it is an integer ≥ 1, else a ConfigError. */
export function checkPositiveInt(value: unknown, path: string): number {
  if (typeof value === "number" && Number.isInteger(value) && value >= 1) return value;
  throw new ConfigError(`must be a positive integer, got ${JSON.stringify(value)}.`, path);
}

/** `value` if it is a finite number within [min, max] (bounds optional), else a ConfigError. */
export function checkNumber(value: unknown, path: string, range: { min?: number; max?: number } = {}): number {
  const ok = typeof value === "number" && Number.isFinite(value) && (range.min === undefined || value >= range.min) && (range.max === undefined || value <= range.max);
  if (ok) return value as number;
  const bounds = [range.min !== undefined ? `≥ ${range.min}` : "", range.max !== undefined ? `≤ ${range.max}` : ""].filter(Boolean).join(" and ");
  throw new ConfigError(`must be a finite number${bounds ? ` ${bounds}` : ""}, got ${JSON.stringify(value)}.`, path);
}

/** `value` if it is a boolean, else a ConfigError (YAML `true`/`false`, not strings). */
export function checkBoolean(value: unknown, path: string): boolean {
  if (typeof value === "boolean") return value;
  throw new ConfigError(`must be true or false, got ${JSON.stringify(value)}.`, path);
}

/**
 * Throws unless `numerator` is a multiple of `denominator`, e.g. a rollout batch of
 * batch_size × num_group_samples samples split into num_inner_batch mini-batches.
 * The message names both keys and the nearest valid values.
 */
export function checkDivisible(numerator: number, denominator: number, numeratorKey: string, denominatorKey: string): void {
  if (Number.isInteger(numerator) && Number.isInteger(denominator) && denominator > 0 && numerator % denominator === 0) return;
  const lower = denominator > 0 ? Math.floor(numerator / denominator) * denominator : NaN;
  const hint = denominator > 0 ? ` Use a ${numeratorKey} of ${lower > 0 ? `${lower} or ` : ""}${lower + denominator}, or change ${denominatorKey}.` : "";
  throw new ConfigError(`${numeratorKey} = ${numerator} is not divisible by ${denominatorKey} = ${denominator}.${hint}`, numeratorKey);
}
