/**
 * scripts/make_notebooks.ts: Markdown sources become nbformat 4.5 notebooks with stable cell
 * ids; only ```ts fences are code cells; unchanged code cells keep their outputs; every
 * committed notebook with a source is in sync with it.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { buildNotebook, listSources, parseNotebookSource, SOURCE_DIR } from "../../scripts/make_notebooks.ts";
import { PROJECT_ROOT } from "../../scripts/notebook_types.ts";

type Cell = { cell_type: string; id: string; source: string[]; outputs?: unknown[]; execution_count?: number | null };
type Nb = { cells: Cell[]; nbformat: number; nbformat_minor: number; metadata: { kernelspec: { name: string } } };

const SOURCE = [
  "# Title",
  "",
  "Text with a yaml example:",
  "```yaml",
  "a: 1",
  "```",
  "```ts",
  "const x = 1;",
  "",
  "console.log(x);",
  "```",
  "More text.",
  "<!-- cell -->",
  "Second markdown cell.",
].join("\n");

test("parseNotebookSource: ts fences are code cells, other fences stay Markdown, <!-- cell --> splits", () => {
  const cells = parseNotebookSource(SOURCE);
  assert.equal(cells.map((c) => c.kind), ["markdown", "code", "markdown", "markdown"]);
  assert.match(cells[0].source, "```yaml\na: 1\n```");
  assert.is(cells[1].source, "const x = 1;\n\nconsole.log(x);");
  assert.is(cells[3].source, "Second markdown cell.");
  assert.throws(() => parseNotebookSource("```ts\nconst open = 1;\n", "x.md"), /x.md: a ```ts code block is never closed/);
});

test("buildNotebook: nbformat 4.5, tslab kernelspec, stable ids, outputs kept only for unchanged code", () => {
  const cells = parseNotebookSource(SOURCE);
  const nb = buildNotebook("demo", cells) as Nb;
  assert.is(nb.nbformat, 4);
  assert.is(nb.nbformat_minor, 5);
  assert.is(nb.metadata.kernelspec.name, "tslab");
  assert.equal((buildNotebook("demo", cells) as Nb).cells.map((c) => c.id), nb.cells.map((c) => c.id));
  assert.is(new Set(nb.cells.map((c) => c.id)).size, nb.cells.length);
  const code = nb.cells[1];
  const executed = new Map([[code.id, { ...code, outputs: [{ output_type: "stream", name: "stdout", text: "1\n" }], execution_count: 1 }]]);
  const kept = (buildNotebook("demo", cells, executed as never) as Nb).cells[1];
  assert.is(kept.execution_count, 1);
  assert.is(kept.outputs!.length, 1);
  const edited = parseNotebookSource(SOURCE.replace("const x = 1;", "const x = 2;"));
  const dropped = (buildNotebook("demo", edited, executed as never) as Nb).cells[1];
  assert.equal(dropped.outputs, []);
  assert.is(dropped.execution_count, null);
});

test("every committed notebook with a source matches it (regenerate with scripts/make_notebooks.ts)", () => {
  const names = listSources();
  assert.ok(names.length >= 6, `sources in ${SOURCE_DIR}`);
  for (const name of names) {
    const path = join(PROJECT_ROOT, "notebooks", `${name}.ipynb`);
    assert.ok(existsSync(path), `${path} is missing`);
    const saved = JSON.parse(readFileSync(path, "utf8")) as Nb;
    const fresh = parseNotebookSource(readFileSync(join(SOURCE_DIR, `${name}.md`), "utf8"));
    assert.equal(saved.cells.map((c) => c.source.join("")), fresh.map((c) => c.source), `${name}.ipynb is out of date`);
  }
});

test.run();
