/**
 * Recursive instantiation of a composed config, like `hydra.utils.instantiate`:
 *
 *   const rl = await instantiate(cfg.rl_module, { extraKwargs: { ldm_ckpt_path: dir } });
 *   const makeOptimizer = await instantiate(cfg.rl_module.optimizer);   // _partial_: true
 *   const opt = makeOptimizer({ params: denoiser });
 *
 * - A mapping with `_target_` becomes the registered factory's result; its values are
 *   instantiated first (depth first), unless it says `_recursive_: false`.
 * - `_partial_: true` (or `partial: true` for the top node) returns a function that takes
 *   the remaining kwargs and calls the factory with the bound ones plus those.
 * - `_args_: [...]` is passed to the factory as its positional list.
 * - Mappings without `_target_` and lists are rebuilt with their children instantiated.
 * Kwargs keep YAML's snake_case keys; factories map them with `camelizeKeys` (schema.ts).
 * A `???` (mandatory, unset) value is a ConfigError naming its key.
 */
import { CrystalError } from "../crystal/errors.ts";
import { ConfigError } from "./errors.ts";
import { defaultRegistry, type Kwargs, type TargetRegistry } from "./registry.ts";
import { isReservedKey, MISSING } from "./schema.ts";
import { isConfigObject } from "./tree.ts";

/** Options of `instantiate`. */
export interface InstantiateOptions {
  /** Where `_target_` names are looked up (default: the shared registry). */
  registry?: TargetRegistry;
  /** Treat the top node as `_partial_: true`. */
  partial?: boolean;
  /** Kwargs added to (and overriding) the top node's, e.g. objects built in code. */
  extraKwargs?: Kwargs;
  /** Config path of `cfg`, for error messages (e.g. "rl_module"). */
  path?: string;
}

/** A `_partial_` target: call it with the kwargs still missing. */
export type PartialTarget<T = unknown> = (kwargs?: Kwargs) => T;

/** Instantiate `cfg` (see the module comment). */
export async function instantiate<T = unknown>(cfg: unknown, options: InstantiateOptions = {}): Promise<T> {
  const registry = options.registry ?? defaultRegistry;
  const path = options.path ?? "";
  if (isConfigObject(cfg) && typeof cfg._target_ === "string") {
    return (await build(cfg, registry, path, options.partial ?? false, options.extraKwargs ?? {})) as T;
  }
  if (isConfigObject(cfg) && cfg._target_ !== undefined) {
    throw new ConfigError(`_target_ must be a name string, got ${JSON.stringify(cfg._target_)}.`, joinKey(path, "_target_"));
  }
  if (options.partial) throw new ConfigError(`partial: true needs a config with a _target_.`, path);
  const walked = await walk(cfg, registry, path);
  if (isConfigObject(walked) && options.extraKwargs) return { ...walked, ...options.extraKwargs } as T;
  return walked as T;
}

/** Children of lists and plain mappings, instantiated; scalars as they are. */
async function walk(value: unknown, registry: TargetRegistry, path: string): Promise<unknown> {
  if (value === MISSING) throw new ConfigError(`mandatory value (???) is not set; set it in the config or on the command line.`, path);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const [i, v] of value.entries()) out.push(await walk(v, registry, `${path}[${i}]`));
    return out;
  }
  if (!isConfigObject(value)) return value;
  if (value._target_ !== undefined) return instantiate(value, { registry, path });
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = await walk(v, registry, joinKey(path, k));
  return out;
}

async function build(cfg: Record<string, unknown>, registry: TargetRegistry, path: string, forcePartial: boolean, extra: Kwargs): Promise<unknown> {
  const target = cfg._target_ as string;
  const factory = await registry.resolve(target, joinKey(path, "_target_"));
  const recursive = cfg._recursive_ !== false;
  const kwargs: Kwargs = {};
  for (const [k, v] of Object.entries(cfg)) {
    if (isReservedKey(k)) continue;
    if (v === MISSING) throw new ConfigError(`mandatory value (???) for ${target} is not set.`, joinKey(path, k));
    kwargs[k] = recursive ? await walk(v, registry, joinKey(path, k)) : v;
  }
  Object.assign(kwargs, extra);
  const args = cfg._args_ === undefined ? [] : cfg._args_;
  if (!Array.isArray(args)) throw new ConfigError(`_args_ must be a list.`, joinKey(path, "_args_"));
  const call = (kw: Kwargs) => runFactory(() => factory(kw, args), target, path);
  if (forcePartial || cfg._partial_ === true) return ((more: Kwargs = {}) => call({ ...kwargs, ...more })) satisfies PartialTarget;
  return await call(kwargs);
}

/**
 * Run a factory. Library errors (typed, already naming the bad value) pass through; other
 * errors (a TypeError in user code) are wrapped so the message names the `_target_` and key.
 */
function runFactory(fn: () => unknown, target: string, path: string): unknown {
  const wrap = (e: unknown): never => {
    if (e instanceof CrystalError) throw e;
    const message = e instanceof Error ? e.message : String(e);
    throw new ConfigError(`building _target_ "${target}" failed: ${message}`, path || target, undefined, { cause: e });
  };
  try {
    const out = fn();
    return out instanceof Promise ? out.catch(wrap) : out;
  } catch (e) {
    return wrap(e);
  }
}

function joinKey(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
