/**
 * Writing a resolved config next to a run's outputs (`outputs/<run>/config.yaml`), so a run
 * can be reproduced: `composeConfig({ configDir: "outputs/<run>", configName: "config" })`
 * reads it back. Written atomically (temporary file, then rename): a crash never leaves a
 * half-written config.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { ConfigError } from "./errors.ts";
import { isConfigObject, type ConfigObject } from "./tree.ts";

/** Options of `saveResolvedConfig`. */
export interface SaveConfigOptions {
  /** File name inside `dir` (default `config.yaml`). */
  fileName?: string;
  /** Lines written as a leading `#` comment (e.g. the command line that made the run). */
  header?: string[];
}

/** YAML text of a config (block style, keys in insertion order, no aliases). */
export function configToYaml(cfg: ConfigObject): string {
  return stringify(cfg, { aliasDuplicateObjects: false, lineWidth: 0 });
}

/** Write `cfg` as YAML to `dir/config.yaml` atomically; returns the file path. */
export function saveResolvedConfig(cfg: ConfigObject, dir: string, options: SaveConfigOptions = {}): string {
  if (!isConfigObject(cfg)) throw new ConfigError(`saveResolvedConfig needs a config mapping, got ${Array.isArray(cfg) ? "a list" : typeof cfg}.`);
  checkSerializable(cfg, "");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, options.fileName ?? "config.yaml");
  const header = (options.header ?? []).map((l) => `# ${l}\n`).join("");
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  writeFileSync(tmp, header + configToYaml(cfg));
  renameSync(tmp, path);
  return path;
}

/** Only plain data round-trips through YAML (±.inf and .nan do); an instantiated object is a mistake. */
function checkSerializable(v: unknown, key: string): void {
  if (v === null || typeof v === "string" || typeof v === "boolean" || typeof v === "number") return;
  if (Array.isArray(v)) return v.forEach((x, i) => checkSerializable(x, `${key}[${i}]`));
  if (isConfigObject(v)) return Object.entries(v).forEach(([k, x]) => checkSerializable(x, key ? `${key}.${k}` : k));
  throw new ConfigError(`a ${typeof v === "object" ? (v as object).constructor?.name ?? "object" : typeof v} is not config data; save the composed config, not instantiated objects.`, key);
}
