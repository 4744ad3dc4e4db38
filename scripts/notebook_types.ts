/**
 * Type declarations of the library for notebooks. tslab type-checks every cell with its own
 * TypeScript 5.0 and Node10 module resolution: it cannot resolve our package's self-reference
 * ("exports") nor compile our sources (`.ts` import extensions). It does read declaration
 * files, so we emit the library's .d.ts with the project's TypeScript and place them where
 * Node10 resolution and tslab's automatic type roots find them from the notebook folder:
 * `notebooks/node_modules/@types/crystal-grpo/` (git-ignored, generated, never hand-edited).
 * At run time `import ... from "crystal-grpo"` resolves by package self-reference and runs
 * the TypeScript sources through the tsx hook.
 *
 * Regenerated only when a file under src/ is newer than the last generation (≈4 s when stale).
 * Usage: node --import tsx scripts/notebook_types.ts [--force]
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRequire } from "node:module";
import ts from "typescript";

/** Project root (the folder with package.json), from this file's location. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** Where the generated declarations go. */
export const TYPES_DIR = join(PROJECT_ROOT, "notebooks", "node_modules", "@types", "crystal-grpo");
const STAMP = ".generated-from";

/** Newest modification time (ms) of any file under `dir`. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** True when the declarations are missing or older than the sources. */
export function notebookTypesStale(root = PROJECT_ROOT): boolean {
  const stamp = join(TYPES_DIR, STAMP);
  if (!existsSync(stamp)) return true;
  return Number(readFileSync(stamp, "utf8")) < newestMtime(join(root, "src"));
}

/** Emits src/index.ts's declarations into `outDir` with the project's compiler options. */
function emitDeclarations(root: string, outDir: string): string[] {
  const cfg = ts.readConfigFile(join(root, "tsconfig.json"), ts.sys.readFile);
  if (cfg.error) throw new Error(`tsconfig.json: ${ts.flattenDiagnosticMessageText(cfg.error.messageText, "\n")}`);
  const parsed = ts.parseJsonConfigFileContent(cfg.config, ts.sys, root);
  const options: ts.CompilerOptions = {
    ...parsed.options, noEmit: false, declaration: true, emitDeclarationOnly: true, declarationDir: outDir,
    rootDir: join(root, "src"), incremental: false, composite: false, tsBuildInfoFile: undefined,
  };
  const program = ts.createProgram([join(root, "src", "index.ts")], options);
  const result = program.emit();
  // Type errors in the library do not stop declaration emit; `npm run typecheck` reports them.
  return result.diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
}

/** All .d.ts files under `dir`. */
function declarationFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? declarationFiles(join(dir, e.name)) : e.name.endsWith(".d.ts") ? [join(dir, e.name)] : [],
  );
}

/**
 * Parses the emitted declarations with tslab's own TypeScript (5.0): syntax newer than that
 * (e.g. import attributes in a .d.ts) would make tslab silently mis-type the library, so it is
 * reported here instead. Returns "file: message" lines.
 */
export function tslabSyntaxProblems(dir: string): string[] {
  const tsl = createRequire(import.meta.url)("@tslab/typescript-for-tslab") as typeof ts;
  const program = tsl.createProgram(declarationFiles(dir), { noResolve: true, noLib: true, types: [] });
  return program.getSyntacticDiagnostics().map((d) => `${d.file?.fileName ?? "?"}: ${tsl.flattenDiagnosticMessageText(d.messageText, "\n")}`);
}

/**
 * Regenerates the notebook declarations when stale (or always with `force`); the new tree is
 * built in a temp folder and swapped in by rename, so a running kernel never sees half a tree.
 * Returns true when it regenerated.
 */
export function ensureNotebookTypes(options: { force?: boolean; root?: string } = {}): boolean {
  const root = options.root ?? PROJECT_ROOT;
  if (!options.force && !notebookTypesStale(root)) return false;
  const started = newestMtime(join(root, "src"));
  const tmp = `${TYPES_DIR}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const problems = emitDeclarations(root, tmp);
  if (problems.length) console.error(`notebook types: ${problems.length} emit diagnostics, first: ${problems[0]}`);
  for (const p of tslabSyntaxProblems(tmp)) console.error(`notebook types: tslab's TypeScript 5.0 cannot parse ${p}`);
  writeFileSync(join(tmp, "package.json"), JSON.stringify({ name: "@types/crystal-grpo", private: true, types: "index.d.ts" }, null, 2) + "\n");
  writeFileSync(join(tmp, STAMP), String(started));
  const old = `${TYPES_DIR}.${process.pid}.old`;
  if (existsSync(TYPES_DIR)) renameSync(TYPES_DIR, old);
  renameSync(tmp, TYPES_DIR);
  rmSync(old, { recursive: true, force: true });
  return true;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const t0 = Date.now();
  const regenerated = ensureNotebookTypes({ force: process.argv.includes("--force") });
  console.log(regenerated ? `notebook types regenerated in ${TYPES_DIR} (${Date.now() - t0} ms)` : "notebook types up to date");
}
