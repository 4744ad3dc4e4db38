/**
 * Hydra-style composition of a YAML config tree into one plain object.
 *
 *   const cfg = composeConfig({ configName: "train_rl", overrides: ["experiment=mp_20/rl_dng", "trainer.max_steps=20"] });
 *   cfg.rl_module.rl_configs.num_group_samples;   // 64 (from the experiment file)
 *
 * Order, as Hydra 1.1+: each config's `defaults:` list is expanded depth first; `_self_`
 * (the config's own keys) goes where it is listed, or last when it is not listed, so a config
 * overrides what its defaults bring. An experiment file (`# @package _global_`) merges at the
 * root, and its `override /group: option` entries change another group's selection (the
 * composition is repeated until the selections settle). Command-line group selections
 * (`experiment=...`, `data=...`) beat config overrides; then `key=value` overrides are
 * applied; then `${...}` interpolations are resolved (interpolate.ts).
 *
 * Differences from Hydra, on purpose: there is no Hydra runtime, so a `hydra` group whose
 * folder does not exist is skipped (Chemeleon2 lists `- hydra: default`), and `${hydra:...}`
 * is answered from the composition (see interpolate.ts). A config may list
 * `custom_modules: [path/to/my_reward.ts]`; those files are imported by `loadCustomModules`,
 * never by composition, and call `registerTarget` themselves (registry.ts).
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { configPath, isGroup, readConfigFile, requireOptionFile, type ConfigFile, type DefaultsEntry } from "./config_files.ts";
import { ConfigError } from "./errors.ts";
import { resolveInterpolations } from "./interpolate.ts";
import { applyOverrides, parseOverride, type Override } from "./overrides.ts";
import { defaultRegistry } from "./registry.ts";
import { didYouMean } from "./suggest.ts";
import { getAt, mergeConfig, parseKeyPath, setAt, type ConfigObject, type ConfigValue } from "./tree.ts";

/** The package's own config tree (`<package>/configs`), used when no `configDir` is given. */
export const CONFIGS_DIR = fileURLToPath(new URL("../../configs/", import.meta.url));

/** Options of `composeConfig`. */
export interface ComposeOptions {
  /** Root of the config tree (default: the package's `configs/`); relative paths are taken from the working directory. */
  configDir?: string;
  /** Primary config file name without `.yaml` (`train_rl`). */
  configName: string;
  /** Hydra-style overrides (`experiment=mp_20/rl_dng`, `a.b=1`, `+a.c=2`, `~a.d`). */
  overrides?: readonly string[];
  /** Time for `${now:...}` (default: now). */
  now?: Date;
  /** Set false to skip interpolation (inspect the raw composition). Default true. */
  resolve?: boolean;
}

/** The composed config plus how it was made. */
export interface ComposedConfig {
  config: ConfigObject;
  /** Selected option of every group met (`experiment` → `mp_20/rl_dng`, or null). */
  choices: Record<string, string | null>;
  /** Files merged, in merge order. */
  files: string[];
}

/** Compose, override and interpolate: the plain config object (keeps `_target_`/`_partial_`). */
export function composeConfig(options: ComposeOptions): ConfigObject {
  return composeConfigDetailed(options).config;
}

/** `composeConfig` that also reports group choices and the files merged. */
export function composeConfigDetailed(options: ComposeOptions): ComposedConfig {
  const configDir = resolve(options.configDir ?? CONFIGS_DIR);
  if (!existsSync(configDir) || !statSync(configDir).isDirectory()) {
    throw new ConfigError(`config directory ${configDir} does not exist; pass configDir (--config-path) pointing at a folder of YAML configs.`);
  }
  const configName = options.configName.replace(/\.yaml$/, "");
  const primary = readConfigFile(requirePrimary(configDir, configName), "");
  const { groupOverrides, keyOverrides } = splitOverrides(configDir, options.overrides ?? []);
  const plan = planComposition(configDir, primary, groupOverrides);
  const merged = mergeItems(plan.items);
  applyOverrides(merged, keyOverrides);
  const config = options.resolve === false ? merged : resolveInterpolations(merged, { choices: plan.choices, configName, now: options.now });
  return { config, choices: plan.choices, files: plan.items.map((i) => i.file) };
}

function requirePrimary(configDir: string, name: string): string {
  const path = configPath(configDir, "", name);
  if (existsSync(path)) return path;
  const names = readdirSync(configDir).filter((f) => f.endsWith(".yaml")).map((f) => f.slice(0, -5));
  throw new ConfigError(`no primary config "${name}" in ${configDir}.${didYouMean(name, names)} Available: ${names.join(", ") || "(none)"}.`, undefined, path);
}

/** A group override from the command line: select, add or remove a group's option. */
interface GroupOverride {
  kind: "set" | "add" | "delete";
  group: string;
  option: string | null;
  raw: string;
}

/** Tell group selections (`experiment=x`: the key is a folder of configDir) from key overrides. */
function splitOverrides(configDir: string, raw: readonly string[]): { groupOverrides: GroupOverride[]; keyOverrides: Override[] } {
  const groupOverrides: GroupOverride[] = [];
  const keyOverrides: Override[] = [];
  for (const arg of raw) {
    const o = parseOverride(arg);
    if (o.key.includes(".") || o.key.includes("[") || !isGroup(configDir, o.key)) {
      keyOverrides.push(o);
      continue;
    }
    if (o.value !== undefined && o.value !== null && typeof o.value !== "string") {
      throw new ConfigError(`"${arg}": ${o.key} is a config group; its value must be an option name such as ${o.key}=NAME or null.`, o.key);
    }
    const kind = o.kind === "force" ? "set" : o.kind;
    groupOverrides.push({ kind, group: o.key, option: kind === "delete" ? null : ((o.value ?? null) as string | null), raw: arg });
  }
  return { groupOverrides, keyOverrides };
}

/** One YAML body to merge at a package (dotted path; "" = root). */
interface MergeItem {
  body: ConfigObject;
  pkg: string;
  file: string;
}

interface Expansion {
  configDir: string;
  /** Final selections: command line first, then `override` entries of configs. */
  selections: Map<string, string | null>;
  /** `override` entries met in this pass. */
  collected: Map<string, { option: string | null; file: string }>;
  /** Groups that have a (non-override) entry somewhere in the tree. */
  seen: Set<string>;
  items: MergeItem[];
  choices: Record<string, string | null>;
}

/**
 * Expand the defaults tree until config `override` entries stop changing the selections
 * (an experiment's `override /data: x` is met after `data` was already expanded once).
 */
function planComposition(configDir: string, primary: ConfigFile, cli: GroupOverride[]): Expansion {
  const cliSelections = new Map(cli.filter((o) => o.kind !== "add").map((o) => [o.group, o.option] as const));
  const added: DefaultsEntry[] = cli.filter((o) => o.kind === "add").map((o) => ({ kind: "group", group: o.group, option: o.option, override: false, optional: false }));
  let fromConfigs = new Map<string, string | null>();
  for (let pass = 0; pass < 8; pass++) {
    const state: Expansion = { configDir, selections: new Map([...fromConfigs, ...cliSelections]), collected: new Map(), seen: new Set(), items: [], choices: {} };
    expandFile(state, { ...primary, defaults: [...withSelf(primary.defaults), ...added] }, "", "", 0);
    const next = new Map([...state.collected].map(([g, v]) => [g, v.option] as const));
    if (sameSelections(next, fromConfigs)) {
      checkOverridesUsed(state, cli, primary.path);
      return state;
    }
    fromConfigs = next;
  }
  throw new ConfigError(`the defaults lists keep changing each other's selections (override entries in a loop); check the "override" lines of the experiment files.`, undefined, primary.path);
}

function sameSelections(a: Map<string, string | null>, b: Map<string, string | null>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.has(k) && b.get(k) === v);
}

/** `_self_` is implicitly last when a defaults list does not name it (Hydra 1.1 behaviour). */
function withSelf(entries: DefaultsEntry[]): DefaultsEntry[] {
  return entries.some((e) => e.kind === "self") ? entries : [...entries, { kind: "self" }];
}

function expandFile(state: Expansion, file: ConfigFile, pkg: string, group: string, depth: number): void {
  if (depth > 32) throw new ConfigError(`defaults lists nest deeper than 32 levels; a config probably includes itself.`, undefined, file.path);
  for (const entry of withSelf(file.defaults)) {
    if (entry.kind === "self") state.items.push({ body: file.body, pkg, file: file.path });
    else if (entry.kind === "config") {
      const path = join(dirname(file.path), `${entry.name}.yaml`);
      if (!existsSync(path)) throw new ConfigError(`defaults entry "${entry.name}": no file ${path}.`, "defaults", file.path);
      const child = readConfigFile(path, group);
      expandFile(state, child, packageOf(child.packageHeader, group, pkg), group, depth + 1);
    } else if (entry.override) state.collected.set(entry.group, { option: entry.option, file: file.path });
    else expandGroup(state, entry, file.path, depth);
  }
}

function expandGroup(state: Expansion, entry: Extract<DefaultsEntry, { kind: "group" }>, from: string, depth: number): void {
  state.seen.add(entry.group);
  const option = state.selections.has(entry.group) ? state.selections.get(entry.group)! : entry.option;
  state.choices[entry.group] = option;
  if (option === null) return;
  // No Hydra runtime here: Chemeleon2's `- hydra: default` is skipped unless the tree has that folder.
  if (entry.group === "hydra" && !isGroup(state.configDir, "hydra")) return;
  const path = configPath(state.configDir, entry.group, option);
  if (!existsSync(path)) {
    if (entry.optional) return;
    requireOptionFile(state.configDir, entry.group, option, `selected in ${from}`);
  }
  const child = readConfigFile(path, entry.group);
  const pkg = packageOf(entry.pkg ?? child.packageHeader, entry.group, entry.group.split("/").join("."));
  expandFile(state, child, pkg, entry.group, depth + 1);
}

/**
 * Package of a config: `_global_` → root, `_group_` → the group path with dots, anything else
 * as written; no header → `fallback` (the group path for group options, the including
 * config's package for plain `- other_config` entries).
 */
function packageOf(header: string | undefined, group: string, fallback: string): string {
  const groupPkg = group.split("/").join(".");
  if (header === undefined) return fallback;
  if (header === "_global_") return "";
  if (header.startsWith("_global_.")) return header.slice("_global_.".length);
  if (header === "_group_") return groupPkg;
  if (header.startsWith("_group_.")) return `${groupPkg}.${header.slice("_group_.".length)}`;
  return header;
}

/** Every command-line group selection and config `override` must name a group the tree uses. */
function checkOverridesUsed(state: Expansion, cli: GroupOverride[], primaryPath: string): void {
  for (const o of cli) {
    if (o.kind !== "add" && !state.seen.has(o.group)) {
      throw new ConfigError(`"${o.raw}": group "${o.group}" is not in the defaults list; write +${o.raw.replace(/^[~+]+/, "")} to add it.`, o.group, primaryPath);
    }
  }
  for (const [group, { file }] of state.collected) {
    // Chemeleon2's experiments say `override /hydra: default`; without a hydra folder that is a no-op.
    if (group === "hydra" && !isGroup(state.configDir, "hydra")) continue;
    if (!state.seen.has(group)) {
      throw new ConfigError(`"override /${group}" names a group that no defaults list uses; add "- ${group}: OPTION" to the primary config or drop the override.`, "defaults", file);
    }
  }
}

/** Merge the bodies in order, each at its package. */
function mergeItems(items: MergeItem[]): ConfigObject {
  let root: ConfigObject = {};
  for (const item of items) {
    if (item.pkg === "") {
      root = mergeConfig(root, item.body) as ConfigObject;
      continue;
    }
    const segments = parseKeyPath(item.pkg);
    setAt(root, segments, mergeConfig(getAt(root, segments), item.body));
  }
  return root;
}

/**
 * Import the files listed under `custom_modules:` (paths relative to `baseDir`, default the
 * working directory). Each file registers its own `_target_` names with `registerTarget`
 * when imported; nothing else is loaded, and only files named in the config. Returns the
 * absolute paths imported.
 */
export async function loadCustomModules(config: ConfigObject, options: { baseDir?: string } = {}): Promise<string[]> {
  const list: ConfigValue | undefined = config.custom_modules;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list) || !list.every((p) => typeof p === "string")) {
    throw new ConfigError(`custom_modules must be a list of file paths ([path/to/my_reward.ts]).`, "custom_modules");
  }
  const loaded: string[] = [];
  for (const [i, p] of (list as string[]).entries()) {
    const abs = isAbsolute(p) ? p : resolve(options.baseDir ?? process.cwd(), p);
    if (!/\.(ts|mts|js|mjs)$/.test(abs)) throw new ConfigError(`${p} is not a .ts/.js module.`, `custom_modules[${i}]`);
    if (!existsSync(abs)) throw new ConfigError(`custom module ${abs} does not exist; paths are relative to ${options.baseDir ?? process.cwd()}.`, `custom_modules[${i}]`);
    const before = defaultRegistry.names().length;
    await import(pathToFileURL(abs).href);
    if (!importedBefore.has(abs) && defaultRegistry.names().length === before) warnRegisteredNothing(abs);
    importedBefore.add(abs);
    loaded.push(abs);
  }
  return loaded;
}

/** Custom modules imported in this process (a second import is a no-op and registers nothing). */
const importedBefore = new Set<string>();

/**
 * Why a custom module can run and still register nothing: tsx loads a `.ts` file that lives
 * outside a package with `"type": "module"` as CommonJS, so its imports of crystal-grpo load a
 * second copy of the library, and its registerTarget/registerReward calls fill that copy's registry.
 */
function warnRegisteredNothing(abs: string): void {
  const hint = abs.endsWith(".ts") ? ` If it calls registerTarget or registerReward, it ran against a second copy of crystal-grpo: a .ts file outside a package with "type": "module" is loaded as CommonJS. Rename it to .mts, or put a package.json with {"type": "module"} next to it.` : "";
  console.warn(`custom module ${abs} registered no new _target_ name.${hint}`);
}
