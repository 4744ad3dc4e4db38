/**
 * `npm run notebooks`: executes every notebooks/*.ipynb (or the notebooks named on the
 * command line) top to bottom through the project's tslab kernel, saving outputs in place.
 * Execution uses Debian's python3-nbclient (via /usr/bin/python3, or $NOTEBOOK_PYTHON) and
 * the repo's kernel spec (jupyter/kernels/tslab, found through JUPYTER_PATH), so nothing has
 * to be installed per user. See scripts/run_notebooks.py for the output format.
 *
 * Usage: node --import tsx scripts/notebooks.ts [--no-save] [--timeout S] [notebooks/x.ipynb ...]
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { delimiter, join } from "node:path";
import { pathToFileURL } from "node:url";
import { ensureNotebookTypes, PROJECT_ROOT } from "./notebook_types.ts";

export const NOTEBOOK_DIR = join(PROJECT_ROOT, "notebooks");
const APT_HINT = "sudo apt-get install python3-nbclient python3-nbformat python3-jupyter-client";

/** Python used to drive the kernel: $NOTEBOOK_PYTHON, else Debian's /usr/bin/python3. */
export function notebookPython(): string {
  return process.env.NOTEBOOK_PYTHON ?? "/usr/bin/python3";
}

/** Why notebooks cannot run here (missing python or nbclient), or null when they can. */
export function notebookRunnerProblem(): string | null {
  const py = notebookPython();
  if (!existsSync(py)) return `${py} not found: install Python 3 (${APT_HINT}) or set NOTEBOOK_PYTHON.`;
  const res = spawnSync(py, ["-c", "import nbclient, nbformat, jupyter_client"], { encoding: "utf8" });
  if (res.status !== 0) return `${py} cannot import nbclient/nbformat/jupyter_client: ${APT_HINT}`;
  return null;
}

/** All committed notebooks, in name order (00_, 01_, ...). */
export function listNotebooks(): string[] {
  if (!existsSync(NOTEBOOK_DIR)) return [];
  return readdirSync(NOTEBOOK_DIR).filter((f) => f.endsWith(".ipynb")).sort().map((f) => join(NOTEBOOK_DIR, f));
}

/** Environment with the repo's kernel spec first on JUPYTER_PATH. */
export function kernelEnv(): NodeJS.ProcessEnv {
  const jp = [join(PROJECT_ROOT, "jupyter"), process.env.JUPYTER_PATH].filter(Boolean).join(delimiter);
  return { ...process.env, JUPYTER_PATH: jp };
}

/**
 * Runs run_notebooks.py on `args` (flags and notebook paths). `inherit` streams its output to
 * this process (the CLI); otherwise it is captured (tests).
 */
export function runNotebooks(args: string[], inherit = false): SpawnSyncReturns<string> {
  ensureNotebookTypes();
  return spawnSync(notebookPython(), [join(PROJECT_ROOT, "scripts", "run_notebooks.py"), ...args], {
    cwd: PROJECT_ROOT,
    env: kernelEnv(),
    encoding: "utf8",
    stdio: inherit ? "inherit" : "pipe",
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const problem = notebookRunnerProblem();
  if (problem) {
    console.error(`notebooks: cannot execute notebooks: ${problem}`);
    process.exit(2);
  }
  const args = process.argv.slice(2);
  const named = args.filter((a) => a.endsWith(".ipynb"));
  const files = named.length ? [] : listNotebooks();
  if (!named.length && !files.length) {
    console.log("notebooks: 0 passed, 0 failed (no notebooks/*.ipynb)");
    process.exit(0);
  }
  process.exit(runNotebooks([...args, ...files], true).status ?? 1);
}
