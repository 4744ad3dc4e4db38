/**
 * Reading one config file of a Hydra-style config tree: the YAML body, its `# @package`
 * header and its `defaults:` list, parsed into entries. Composition (which files, in which
 * order, at which package) is loader.ts's job.
 *
 * Layout: `<configDir>/<name>.yaml` are primary configs (`train_rl`); `<configDir>/<group>/
 * <option>.yaml` are options of a config group (`experiment/mp_20/rl_dng.yaml` is option
 * `mp_20/rl_dng` of group `experiment`; groups nest: `vae_module/encoder/transformer.yaml`).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parseDocument } from "yaml";
import { ConfigError } from "./errors.ts";
import { didYouMean } from "./suggest.ts";
import { isConfigObject, type ConfigObject } from "./tree.ts";

/** One entry of a `defaults:` list. */
export type DefaultsEntry =
  | { kind: "self" }
  /** `- group: option`, `- override /group: option`, `- optional group@pkg: option`. */
  | { kind: "group"; group: string; option: string | null; override: boolean; optional: boolean; pkg?: string }
  /** `- other_config`: a config next to this one, merged at this config's package. */
  | { kind: "config"; name: string };

/** A parsed config file. */
export interface ConfigFile {
  path: string;
  /** The mapping without its `defaults` key. */
  body: ConfigObject;
  defaults: DefaultsEntry[];
  /** `# @package` header value (`_global_`, `_group_`, `a.b`), if any. */
  packageHeader?: string;
}

/** Read and parse `path` (which must exist). `group` is the file's group ("" for primary configs). */
export function readConfigFile(path: string, group: string): ConfigFile {
  const text = readFileSync(path, "utf8");
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    throw new ConfigError(`invalid YAML: ${doc.errors[0].message}`, undefined, path);
  }
  const value = doc.toJS({ maxAliasCount: 1000 }) as unknown;
  if (value !== null && value !== undefined && !isConfigObject(value)) {
    throw new ConfigError(`a config file must hold a mapping (key: value lines) at the top level.`, undefined, path);
  }
  const body: ConfigObject = { ...((value ?? {}) as ConfigObject) };
  const rawDefaults = body.defaults;
  delete body.defaults;
  return { path, body, defaults: parseDefaultsList(rawDefaults, group, path), packageHeader: packageHeader(text) };
}

/** The `# @package X` line among the leading comments (Hydra only reads it there). */
function packageHeader(text: string): string | undefined {
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t === "") continue;
    if (!t.startsWith("#")) return undefined;
    const m = /^#\s*@package\s+(\S+)\s*$/.exec(t);
    if (m) return m[1];
  }
  return undefined;
}

/** Parse a `defaults:` value; group names are made absolute (relative ones join `group`). */
export function parseDefaultsList(raw: unknown, group: string, file: string): DefaultsEntry[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new ConfigError(`"defaults" must be a list (- group: option lines).`, "defaults", file);
  return raw.map((item, i) => parseDefaultsEntry(item, group, file, `defaults[${i}]`));
}

function parseDefaultsEntry(item: unknown, group: string, file: string, key: string): DefaultsEntry {
  if (item === "_self_") return { kind: "self" };
  if (typeof item === "string") return { kind: "config", name: item };
  if (!isConfigObject(item) || Object.keys(item).length !== 1) {
    throw new ConfigError(`each defaults entry is "_self_", a config name, or one "group: option" pair; got ${JSON.stringify(item)}.`, key, file);
  }
  const [rawKey, option] = Object.entries(item)[0];
  if (option !== null && typeof option !== "string") {
    throw new ConfigError(`the option of "${rawKey}" must be a config name or null; lists of options are not supported.`, key, file);
  }
  const words = rawKey.trim().split(/\s+/);
  const override = words.includes("override");
  const optional = words.includes("optional");
  const name = words.filter((w) => w !== "override" && w !== "optional");
  if (name.length !== 1) throw new ConfigError(`cannot read defaults entry "${rawKey}"; write [override|optional] group[@package]: option.`, key, file);
  const [groupName, pkg] = name[0].split("@");
  const absolute = groupName.startsWith("/") ? groupName.slice(1) : group ? `${group}/${groupName}` : groupName;
  return { kind: "group", group: absolute, option, override, optional, ...(pkg ? { pkg } : {}) };
}

/** Path of option `option` of `group`, or of a primary config when `group` is "". */
export function configPath(configDir: string, group: string, option: string): string {
  return join(configDir, group, `${option}.yaml`);
}

/** True if `configDir/group` is a folder (a config group). */
export function isGroup(configDir: string, group: string): boolean {
  const dir = join(configDir, group);
  return group !== "" && existsSync(dir) && statSync(dir).isDirectory();
}

/** Every option of a group (`mp_20/rl_dng`, ...), sorted; nested folders give slash names. */
export function listGroupOptions(configDir: string, group: string): string[] {
  const root = join(configDir, group);
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const p = join(dir, e.name);
      if (e.isDirectory()) return walk(p);
      return e.name.endsWith(".yaml") ? [relative(root, p).slice(0, -".yaml".length).split("\\").join("/")] : [];
    });
  return existsSync(root) ? walk(root).sort() : [];
}

/** The file of `group=option`, or a ConfigError listing the group's options. */
export function requireOptionFile(configDir: string, group: string, option: string, context: string): string {
  const path = configPath(configDir, group, option);
  if (existsSync(path)) return path;
  const options = listGroupOptions(configDir, group);
  const listing = options.length ? ` Available: ${options.join(", ")}.` : ` (${join(configDir, group)} has no .yaml files.)`;
  throw new ConfigError(`no config "${option}" in group "${group}" (${context}).${didYouMean(option, options)}${listing}`, group, path);
}
