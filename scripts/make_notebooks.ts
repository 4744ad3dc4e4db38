/**
 * Builds notebooks/*.ipynb from their sources in scripts/notebook_sources/*.md, so a notebook
 * is edited as one readable Markdown file instead of escaped JSON.
 *
 * Source format (renders as ordinary Markdown on GitHub):
 *   - every fenced block opened with ```ts (or ```typescript) is one code cell;
 *   - the Markdown between two code cells is one Markdown cell; a line `<!-- cell -->` splits it
 *     into several. Other fences (```text, ```yaml) stay inside the Markdown cell.
 *
 * Output: nbformat 4.5 with the project's tslab kernelspec and stable cell ids (a hash of the
 * notebook name, the cell's position and kind), written atomically. A cell whose id and source
 * are unchanged keeps its saved outputs, so editing prose does not throw away executed figures;
 * execute the notebook afterwards (`npm run notebooks -- notebooks/<name>.ipynb`) to refresh.
 *
 * Usage: node --import tsx scripts/make_notebooks.ts [name ...]   (default: every source)
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
import { PROJECT_ROOT } from "./notebook_types.ts";

export const SOURCE_DIR = join(PROJECT_ROOT, "scripts", "notebook_sources");
const NOTEBOOK_DIR = join(PROJECT_ROOT, "notebooks");

/** One parsed cell of a source file. */
export interface SourceCell {
  kind: "markdown" | "code";
  source: string;
}

interface NotebookCell {
  cell_type: "markdown" | "code";
  id: string;
  metadata: Record<string, unknown>;
  source: string[];
  outputs?: unknown[];
  execution_count?: number | null;
}

/** The kernelspec and language info every notebook of the lab carries (same as 00_crystals). */
export const NOTEBOOK_METADATA = {
  kernelspec: { display_name: "TypeScript (crystal-grpo)", language: "typescript", name: "tslab" },
  language_info: {
    codemirror_mode: { mode: "typescript", name: "javascript", typescript: true },
    file_extension: ".ts",
    mimetype: "text/typescript",
    name: "typescript",
    version: "3.7.2",
  },
};

const CODE_FENCE = /^```(ts|typescript)\s*$/;
const SPLIT = /^<!--\s*cell\s*-->\s*$/;

/** Splits a source file into Markdown and code cells (blank edges trimmed, empty cells dropped). */
export function parseNotebookSource(text: string, file = "source"): SourceCell[] {
  const cells: SourceCell[] = [];
  let kind = "markdown" as SourceCell["kind"];
  let buf: string[] = [];
  let otherFence = false;
  const flush = () => {
    const source = buf.join("\n").replace(/^\s*\n/, "").trimEnd();
    if (source.trim()) cells.push({ kind, source });
    buf = [];
  };
  text.split("\n").forEach((line) => {
    if (kind === "code") {
      if (/^```\s*$/.test(line)) {
        flush();
        kind = "markdown";
      } else buf.push(line);
      return;
    }
    if (!otherFence && CODE_FENCE.test(line)) {
      flush();
      kind = "code";
    } else if (!otherFence && SPLIT.test(line)) flush();
    else {
      if (/^```/.test(line)) otherFence = !otherFence;
      buf.push(line);
    }
  });
  if (kind === "code") throw new Error(`${file}: a \`\`\`ts code block is never closed.`);
  flush();
  return cells;
}

/** Stable 8-hex-digit cell id. */
function cellId(name: string, index: number, kind: string): string {
  return createHash("sha1").update(`${name}:${index}:${kind}`).digest("hex").slice(0, 8);
}

/** nbformat keeps sources as lines with their newlines. */
function toLines(source: string): string[] {
  const lines = source.split("\n");
  return lines.map((l, i) => (i < lines.length - 1 ? `${l}\n` : l));
}

/** Saved cells of an existing notebook by id (for output reuse). */
function previousCells(path: string): Map<string, NotebookCell> {
  if (!existsSync(path)) return new Map();
  const nb = JSON.parse(readFileSync(path, "utf8")) as { cells: NotebookCell[] };
  return new Map(nb.cells.map((c) => [c.id, c]));
}

/** The notebook JSON of `name` from its cells, reusing outputs of unchanged code cells. */
export function buildNotebook(name: string, cells: SourceCell[], previous: Map<string, NotebookCell> = new Map()): object {
  const out: NotebookCell[] = cells.map((c, i) => {
    const id = cellId(name, i, c.kind);
    const source = toLines(c.source);
    if (c.kind === "markdown") return { cell_type: "markdown", id, metadata: {}, source };
    const old = previous.get(id);
    const same = old?.cell_type === "code" && old.source.join("") === c.source;
    return { cell_type: "code", id, metadata: {}, source, execution_count: same ? (old.execution_count ?? null) : null, outputs: same ? (old.outputs ?? []) : [] };
  });
  return { cells: out, metadata: NOTEBOOK_METADATA, nbformat: 4, nbformat_minor: 5 };
}

/** Writes notebooks/<name>.ipynb from scripts/notebook_sources/<name>.md (atomically). */
export function makeNotebook(name: string): string {
  const src = join(SOURCE_DIR, `${name}.md`);
  if (!existsSync(src)) throw new Error(`no notebook source ${src}; sources: ${listSources().join(", ")}`);
  const dest = join(NOTEBOOK_DIR, `${name}.ipynb`);
  const nb = buildNotebook(name, parseNotebookSource(readFileSync(src, "utf8"), src), previousCells(dest));
  const tmp = `${dest}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(nb, null, 1)}\n`);
  renameSync(tmp, dest);
  return dest;
}

/** Names of all notebook sources (file names without .md), sorted. */
export function listSources(): string[] {
  return readdirSync(SOURCE_DIR).filter((f) => f.endsWith(".md")).map((f) => basename(f, ".md")).sort();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const names = process.argv.slice(2).map((a) => basename(a).replace(/\.(md|ipynb)$/, ""));
  for (const name of names.length ? names : listSources()) console.log(`wrote ${makeNotebook(name)}`);
}
