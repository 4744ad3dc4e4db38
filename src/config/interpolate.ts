/**
 * OmegaConf-style interpolation of a composed config:
 *
 *   output_dir: ${paths.log_dir}/runs/${now:%Y-%m-%d}   # absolute key + resolver, string result
 *   scheduler: ${scheduler}                             # whole value: keeps the type (a mapping)
 *   batch: ${..data.batch_size}                         # relative: one dot = this mapping, two = its parent
 *   root: ${oc.env:PROJECT_ROOT,.}                      # environment variable with default
 *   ckpt: ${hub:mp_20_ldm_base}                         # bundled checkpoint directory (hub.ts)
 *
 * A value that is exactly one `${...}` takes the referenced value's type; text around an
 * interpolation makes a string. References are followed through other interpolations;
 * a cycle or a missing key is a ConfigError naming the key that holds the interpolation.
 * Resolvers: `oc.env`, `oc.select`, `hub`, `now` (strftime subset), `hydra` (runtime.cwd,
 * runtime.choices.GROUP, job.name, runtime.output_dir = hydra.run.dir), plus any added with
 * `registerResolver`.
 */
import { ConfigError } from "./errors.ts";
import { resolveHub } from "./hub.ts";
import { formatParts, hasInterpolation, parseArgScalar, parseInterpolation, splitResolverCall, type InterpPart } from "./interp_syntax.ts";
import { MISSING } from "./schema.ts";
import { didYouMean } from "./suggest.ts";
import { cloneConfig, formatKeyPath, isConfigObject, listKeyPaths, parseKeyPath, type ConfigObject, type ConfigValue } from "./tree.ts";

/** What a resolver sees besides its arguments. */
export interface ResolverContext {
  /** Dotted path of the value being interpolated. */
  key: string;
  /** The resolved value at an absolute dotted path, or undefined when there is none. */
  select(path: string): ConfigValue | undefined;
  /** Group → selected option (`experiment` → `mp_20/rl_dng`), as `hydra:runtime.choices`. */
  choices: Readonly<Record<string, string | null>>;
  /** Name of the primary config (`train_rl`). */
  configName: string;
  /** One timestamp per composition, so every `${now:...}` in a run agrees. */
  now: Date;
}

/** A resolver: typed arguments in, config value out. */
export type Resolver = (args: ConfigValue[], ctx: ResolverContext) => ConfigValue;

const resolvers = new Map<string, Resolver>();

/** Register a resolver usable as `${name:arg1,arg2}`; an existing name needs `replace: true`. */
export function registerResolver(name: string, fn: Resolver, options: { replace?: boolean } = {}): void {
  if (!/^[A-Za-z_][\w.]*$/.test(name)) throw new ConfigError(`resolver name "${name}" must look like an identifier (dots allowed).`);
  if (resolvers.has(name) && !options.replace) {
    throw new ConfigError(`resolver "${name}" is already registered; pass { replace: true } to replace it.`);
  }
  resolvers.set(name, fn);
}

/** Names of the registered resolvers. */
export function listResolvers(): string[] {
  return [...resolvers.keys()].sort();
}

/** Options of `resolveInterpolations`. */
export interface InterpolateOptions {
  choices?: Record<string, string | null>;
  configName?: string;
  now?: Date;
}

/** A fully interpolated deep copy of `root`. */
export function resolveInterpolations(root: ConfigObject, options: InterpolateOptions = {}): ConfigObject {
  return new Interpolator(root, options).resolveAll();
}

/** Strings that need evaluation: interpolations, or escapes to unescape. */
function isInterpolated(s: string): boolean {
  return hasInterpolation(s) || s.includes("\\${");
}

class Interpolator {
  private readonly memo = new Map<string, ConfigValue>();
  private readonly active: string[] = [];
  private readonly ctxBase: Omit<ResolverContext, "key">;

  constructor(
    private readonly root: ConfigObject,
    options: InterpolateOptions,
  ) {
    this.ctxBase = {
      select: (path) => this.lookup(parseKeyPath(path)),
      choices: options.choices ?? {},
      configName: options.configName ?? "",
      now: options.now ?? new Date(),
    };
  }

  resolveAll(): ConfigObject {
    return this.resolveValue(this.root, []) as ConfigObject;
  }

  /** Resolved copy of `value`, which lives at `path` in the raw tree. */
  private resolveValue(value: ConfigValue, path: string[]): ConfigValue {
    if (Array.isArray(value)) return value.map((v, i) => this.resolveValue(v, [...path, String(i)]));
    if (isConfigObject(value)) {
      const out: ConfigObject = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.resolveValue(v, [...path, k]);
      return out;
    }
    if (typeof value === "string" && isInterpolated(value)) return this.resolveString(value, path);
    return value;
  }

  /** Evaluate one interpolated string (memoised per path, with cycle detection). */
  private resolveString(value: string, path: string[]): ConfigValue {
    const id = path.join("\u0000");
    if (this.memo.has(id)) return cloneConfig(this.memo.get(id)!);
    const key = formatKeyPath(path);
    if (this.active.includes(id)) {
      const chain = [...this.active.slice(this.active.indexOf(id)), id].map((p) => formatKeyPath(p.split("\u0000")));
      throw new ConfigError(`interpolation cycle: ${chain.join(" → ")}. Break the loop by giving one of these keys a plain value.`, key);
    }
    this.active.push(id);
    try {
      const parts = parseInterpolation(value, key);
      const result = this.evalParts(parts, path);
      this.memo.set(id, result);
      return cloneConfig(result);
    } finally {
      this.active.pop();
    }
  }

  /** A part list: one interpolation alone keeps its type; anything else concatenates to a string. */
  private evalParts(parts: InterpPart[], path: string[]): ConfigValue {
    if (parts.length === 1 && parts[0].kind === "interp") return this.evalInterp(parts[0].body, path);
    return parts.map((p) => (p.kind === "text" ? p.text : this.asText(this.evalInterp(p.body, path), p.body, path))).join("");
  }

  private asText(v: ConfigValue, body: InterpPart[], path: string[]): string {
    if (v !== null && typeof v === "object") {
      throw new ConfigError(`"\${${formatParts(body)}}" is a mapping or list and cannot be embedded in a string.`, formatKeyPath(path));
    }
    return String(v);
  }

  private evalInterp(body: InterpPart[], path: string[]): ConfigValue {
    const call = splitResolverCall(body);
    if (call) return this.callResolver(call.name, call.args, body, path);
    const ref = this.evalParts(body, path);
    if (typeof ref !== "string") throw new ConfigError(`"\${${formatParts(body)}}" is not a key reference.`, formatKeyPath(path));
    const target = this.absoluteTarget(ref.trim(), path);
    const value = this.lookup(target);
    if (value === undefined) {
      const candidates = listKeyPaths(this.root);
      throw new ConfigError(
        `interpolation "\${${formatParts(body)}}" refers to missing key "${formatKeyPath(target)}".${didYouMean(formatKeyPath(target), candidates)}`,
        formatKeyPath(path),
      );
    }
    if (value === MISSING) {
      throw new ConfigError(`interpolation "\${${ref}}" refers to "${formatKeyPath(target)}", which is mandatory (???) and not set; set it on the command line.`, formatKeyPath(path));
    }
    return value;
  }

  /** `a.b` is absolute; `.x` starts at the mapping holding this value, each extra dot one level up. */
  private absoluteTarget(ref: string, path: string[]): string[] {
    const dots = /^\.*/.exec(ref)![0].length;
    if (dots === 0) return parseKeyPath(ref);
    const base = path.slice(0, Math.max(0, path.length - dots));
    if (path.length - dots < 0) {
      throw new ConfigError(`relative interpolation "\${${ref}}" climbs above the config root.`, formatKeyPath(path));
    }
    return [...base, ...parseKeyPath(ref.slice(dots))];
  }

  /**
   * Resolved value at `segments`. Steps through interpolated intermediate values, so
   * `${a.b}` works when `a` is itself `${other}`.
   */
  private lookup(segments: string[]): ConfigValue | undefined {
    let cur: ConfigValue = this.root;
    let resolved = false;
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i];
      let next: ConfigValue | undefined;
      if (Array.isArray(cur)) next = /^\d+$/.test(s) ? cur[Number(s)] : undefined;
      else if (isConfigObject(cur)) next = Object.prototype.hasOwnProperty.call(cur, s) ? cur[s] : undefined;
      if (next === undefined) return undefined;
      cur = next;
      // An interpolation met on the way is resolved in place of the raw string; below it the
      // value is already final.
      if (!resolved && typeof cur === "string" && isInterpolated(cur)) {
        cur = this.resolveString(cur, segments.slice(0, i + 1));
        resolved = true;
      }
    }
    return resolved ? cloneConfig(cur) : this.resolveValue(cur, segments);
  }

  private callResolver(name: string, args: InterpPart[][], body: InterpPart[], path: string[]): ConfigValue {
    const fn = resolvers.get(name);
    const key = formatKeyPath(path);
    if (!fn) {
      throw new ConfigError(`unknown resolver "${name}" in "\${${formatParts(body)}}".${didYouMean(name, resolvers.keys())} Known: ${listResolvers().join(", ")}.`, key);
    }
    const values = args.map((a) => (a.some((p) => p.kind === "interp") ? this.evalArg(a, path) : parseArgScalar(formatParts(a))));
    try {
      return fn(values, { ...this.ctxBase, key });
    } catch (e) {
      if (e instanceof ConfigError && e.key === undefined) throw new ConfigError(e.message, key);
      throw e;
    }
  }

  /** An argument containing interpolations; surrounding whitespace is ignored. */
  private evalArg(arg: InterpPart[], path: string[]): ConfigValue {
    const trimmed = arg.filter((p) => p.kind === "interp" || p.text.trim() !== "");
    return this.evalParts(trimmed.length === 1 ? trimmed : arg, path);
  }
}

// ---------------------------------------------------------------- built-in resolvers

function argString(v: ConfigValue | undefined, what: string): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  throw new ConfigError(`${what} must be a string, got ${JSON.stringify(v)}.`);
}

registerResolver("oc.env", ([name, ...rest]) => {
  const varName = argString(name, "oc.env's variable name");
  const value = process.env[varName];
  if (value !== undefined) return value;
  if (rest.length > 0) return rest[0];
  throw new ConfigError(`environment variable ${varName} is not set; export it, or give a default: \${oc.env:${varName},DEFAULT}.`);
});

registerResolver("oc.select", ([path, ...rest], ctx) => {
  const value = ctx.select(argString(path, "oc.select's key"));
  return value === undefined ? (rest.length > 0 ? rest[0] : null) : value;
});

registerResolver("hub", ([name]) => resolveHub(argString(name, "hub's checkpoint name")));

registerResolver("now", ([format], ctx) => formatDate(ctx.now, format === undefined ? "%Y-%m-%d_%H-%M-%S" : argString(format, "now's format")));

registerResolver("hydra", ([path], ctx) => hydraRuntime(argString(path, "hydra's key"), ctx));

/** strftime for the fields run directories use: %Y %m %d %H %M %S %f %%. Local time, like Python. */
export function formatDate(d: Date, format: string): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  const fields: Record<string, string> = {
    Y: String(d.getFullYear()),
    m: pad(d.getMonth() + 1),
    d: pad(d.getDate()),
    H: pad(d.getHours()),
    M: pad(d.getMinutes()),
    S: pad(d.getSeconds()),
    f: pad(d.getMilliseconds() * 1000, 6),
    "%": "%",
  };
  return format.replace(/%(.)/g, (all, c: string) => {
    if (fields[c] === undefined) throw new ConfigError(`now: unsupported format field "${all}"; use %Y %m %d %H %M %S %f.`);
    return fields[c];
  });
}

/** The few `hydra:` keys configs use, computed from the composition instead of a Hydra runtime. */
function hydraRuntime(path: string, ctx: ResolverContext): ConfigValue {
  if (path === "runtime.cwd") return process.cwd();
  if (path === "job.name") return ctx.configName;
  if (path.startsWith("runtime.choices.")) {
    const group = path.slice("runtime.choices.".length);
    return ctx.choices[group] ?? null;
  }
  if (path === "runtime.output_dir") {
    const dir = ctx.select("hydra.run.dir");
    if (typeof dir === "string") return dir;
    throw new ConfigError(`\${hydra:runtime.output_dir} needs hydra.run.dir in the config (or set paths.output_dir directly).`);
  }
  throw new ConfigError(`\${hydra:${path}} is not supported; use runtime.cwd, runtime.output_dir, runtime.choices.GROUP or job.name.`);
}
