/**
 * Executes every notebooks/*.ipynb top to bottom through the real tslab kernel (via
 * scripts/notebooks.ts → nbclient) and fails on any cell error; outputs are not written back.
 * Skipped with a notice when Debian's python3-nbclient is missing.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listNotebooks, notebookRunnerProblem, runNotebooks } from "../../scripts/notebooks.ts";
import { ensureNotebookTypes, PROJECT_ROOT, tslabSyntaxProblems, TYPES_DIR } from "../../scripts/notebook_types.ts";

test("notebook type declarations exist, export the library and parse with tslab's TypeScript 5.0", () => {
  ensureNotebookTypes();
  const index = readFileSync(join(TYPES_DIR, "index.d.ts"), "utf8");
  assert.match(index, "./notebook/display.ts");
  assert.match(index, "./crystal/structure.ts");
  assert.equal(tslabSyntaxProblems(TYPES_DIR), []);
  const bad = mkdtempSync(join(tmpdir(), "dts-"));
  try {
    writeFileSync(join(bad, "x.d.ts"), 'import t from "./a.json" with { type: "json" };\nexport declare const x: number;\n');
    assert.ok(tslabSyntaxProblems(bad).length > 0, "import attributes are newer than TS 5.0");
  } finally {
    rmSync(bad, { recursive: true, force: true });
  }
});

const problem = notebookRunnerProblem();
if (problem) console.log(`NOTICE: skipping notebook execution tests: ${problem}`);

test("every committed notebook executes without a cell error", () => {
  if (problem) return;
  const notebooks = listNotebooks();
  assert.ok(notebooks.length >= 1, "expected notebooks/*.ipynb");
  const res = runNotebooks(["--no-save", "--timeout", "300", ...notebooks]);
  const out = `${res.stdout}${res.stderr}`;
  assert.is(res.status, 0, out);
  assert.match(out, `notebooks: ${notebooks.length} passed, 0 failed`);
});

test("a cell with a type error fails the run and the runner prints its source and the error", () => {
  if (problem) return;
  const res = runNotebooks(["--no-save", "--timeout", "120", join(PROJECT_ROOT, "test", "fixtures", "notebook", "type_error.ipynb")]);
  const out = `${res.stdout}${res.stderr}`;
  assert.is(res.status, 1, out);
  assert.match(out, "--- cell 2 source ---\nconst wrong: string = ok;");
  assert.match(out, "Type 'number' is not assignable to type 'string'");
  assert.not.match(out, "never reached");
  assert.match(out, /notebooks: 0 passed, 1 failed\s*$/);
});

test.run();
