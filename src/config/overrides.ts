/**
 * Hydra-style command-line overrides:
 *
 *   trainer.max_steps=20        set an existing key (a typo is an error naming the nearest keys)
 *   +rl_module.foo=1            add a key that does not exist yet
 *   ++rl_module.foo=1           set, adding the key if needed
 *   ~logger                     delete a key (`~key=value` only if it currently equals value)
 *   experiment=mp_20/rl_dng     select a config group option (told apart by loader.ts)
 *
 * Values are YAML: `20` is a number, `true`/`false`/`null` typed, `[1,2]` a list, `'a b'`
 * a string, `${paths.data_dir}/x` an interpolation resolved after composition; `key=` sets
 * the empty string, as in Hydra.
 */
import { parseDocument } from "yaml";
import { ConfigError } from "./errors.ts";
import { closestMatches } from "./suggest.ts";
import { deleteAt, getAt, hasAt, listKeyPaths, parseKeyPath, setAt, type ConfigObject, type ConfigValue } from "./tree.ts";

/** `set` key=v, `add` +key=v, `force` ++key=v, `delete` ~key[=v]. */
export type OverrideKind = "set" | "add" | "force" | "delete";

/** One parsed override. `value` is undefined only for a bare `~key`. */
export interface Override {
  kind: OverrideKind;
  key: string;
  value?: ConfigValue;
  /** The argument as written, for error messages and the saved run record. */
  raw: string;
}

const KEY_RE = /^[A-Za-z0-9_\-/.@[\]]+$/;

/** Parse one override argument; malformed ones throw a ConfigError showing the accepted forms. */
export function parseOverride(arg: string): Override {
  const m = /^(~|\+\+|\+)?([^=]*)(?:=(.*))?$/s.exec(arg)!;
  const prefix = m[1] ?? "";
  const key = m[2];
  const hasValue = m[3] !== undefined;
  if (!KEY_RE.test(key) || (!hasValue && prefix !== "~")) {
    throw new ConfigError(
      `"${arg}" is not an override. Write key=value (trainer.max_steps=20), +key=value to add a key, ` +
        `++key=value to add or set, ~key to delete, or group=option (experiment=mp_20/rl_dng).`,
    );
  }
  const kind: OverrideKind = prefix === "~" ? "delete" : prefix === "++" ? "force" : prefix === "+" ? "add" : "set";
  return hasValue ? { kind, key, value: parseOverrideValue(m[3]), raw: arg } : { kind, key, raw: arg };
}

/**
 * An override's value text as YAML (`key=` → ""). Text that YAML rejects or warns about
 * (`%Y-%m` reads as a directive) stays a plain string, as Hydra keeps it.
 */
export function parseOverrideValue(text: string): ConfigValue {
  if (text === "") return "";
  const doc = parseDocument(text, { logLevel: "silent" });
  if (doc.errors.length || doc.warnings.length) return text;
  const v = doc.toJS() as unknown;
  return v === undefined ? null : (v as ConfigValue);
}

/** Parsed command line of a train/sample script. */
export interface CliArgs {
  /** Override arguments as written, in order (pass to `composeConfig({ overrides })`). */
  overrides: string[];
  /** The same, parsed. */
  parsed: Override[];
  /** `--config-name NAME` / `-cn NAME`. */
  configName?: string;
  /** `--config-path DIR` / `--config-dir DIR` / `-cp DIR`. */
  configDir?: string;
  /** `--help` / `-h`. */
  help: boolean;
  /** `--cfg job` (or `--cfg`): print the composed config and exit. */
  printConfig: boolean;
}

const VALUE_FLAGS: Record<string, "configName" | "configDir"> = {
  "--config-name": "configName",
  "-cn": "configName",
  "--config-path": "configDir",
  "--config-dir": "configDir",
  "-cp": "configDir",
  "-cd": "configDir",
};

/**
 * Split `process.argv.slice(2)` into Hydra-style overrides and the few flags scripts accept.
 * A lone `--` (npm's separator) is skipped; any other unknown `-flag` is a ConfigError.
 */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  const out: CliArgs = { overrides: [], parsed: [], help: false, printConfig: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") continue;
    if (arg === "--help" || arg === "-h") out.help = true;
    else if (arg === "--cfg" || arg.startsWith("--cfg=")) {
      out.printConfig = true;
      if (arg === "--cfg" && ["job", "all", "hydra"].includes(argv[i + 1] ?? "")) i++;
    } else if (arg.startsWith("-") && !arg.startsWith("--") && !(arg in VALUE_FLAGS)) {
      throw new ConfigError(`unknown option "${arg}"; accepted: --config-name/-cn, --config-path/-cp, --cfg job, --help, and key=value overrides.`);
    } else if (arg.startsWith("--")) {
      const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
      const field = VALUE_FLAGS[flag];
      if (!field) throw new ConfigError(`unknown option "${flag}"; accepted: --config-name, --config-path, --cfg job, --help, and key=value overrides.`);
      const value = inline ?? argv[++i];
      if (value === undefined || value === "") throw new ConfigError(`option ${flag} needs a value (${flag} NAME).`);
      out[field] = value;
    } else if (arg in VALUE_FLAGS) {
      const value = argv[++i];
      if (value === undefined) throw new ConfigError(`option ${arg} needs a value (${arg} NAME).`);
      out[VALUE_FLAGS[arg]] = value;
    } else {
      out.parsed.push(parseOverride(arg));
      out.overrides.push(arg);
    }
  }
  return out;
}

/** Nearest existing key paths for a mistyped `key` (by full path and by last segment). */
export function nearestKeys(cfg: ConfigObject, key: string, limit = 3): string[] {
  const paths = listKeyPaths(cfg).filter((p) => !p.startsWith("defaults"));
  const byPath = closestMatches(key, paths, limit);
  const last = key.split(".").pop() ?? key;
  const byLeaf = closestMatches(last, paths.map((p) => p.split(".").pop() ?? p), limit).flatMap((leaf) => paths.filter((p) => p === leaf || p.endsWith(`.${leaf}`)));
  return [...new Set([...byPath, ...byLeaf])].slice(0, limit);
}

/** Apply key overrides (not group selections) to `cfg` in place, in order. */
export function applyOverrides(cfg: ConfigObject, overrides: readonly Override[]): void {
  for (const o of overrides) applyOverride(cfg, o);
}

function applyOverride(cfg: ConfigObject, o: Override): void {
  const segments = parseKeyPath(o.key);
  const exists = hasAt(cfg, segments);
  if (o.kind === "set" && !exists) {
    const near = nearestKeys(cfg, o.key);
    const hint = near.length ? ` Nearest existing keys: ${near.join(", ")}.` : "";
    throw new ConfigError(`override "${o.raw}" sets a key that is not in the config.${hint} To add a new key write +${o.raw}.`, o.key);
  }
  if (o.kind === "add" && exists) {
    throw new ConfigError(`override "${o.raw}" adds a key that already exists; drop the "+" (or use ++ to add-or-set).`, o.key);
  }
  if (o.kind === "delete") {
    if (!exists) throw new ConfigError(`override "${o.raw}" deletes a key that is not in the config.${didYouMeanKeys(cfg, o.key)}`, o.key);
    if (o.value !== undefined && JSON.stringify(getAt(cfg, segments)) !== JSON.stringify(o.value)) {
      throw new ConfigError(`override "${o.raw}": the key's value is ${JSON.stringify(getAt(cfg, segments))}, not ${JSON.stringify(o.value)}; nothing deleted.`, o.key);
    }
    deleteAt(cfg, segments);
    return;
  }
  setAt(cfg, segments, o.value ?? null);
}

function didYouMeanKeys(cfg: ConfigObject, key: string): string {
  const near = nearestKeys(cfg, key);
  return near.length ? ` Nearest existing keys: ${near.join(", ")}.` : "";
}
