"""Executes Jupyter notebooks headlessly through the real tslab kernel (nbclient).

Usage (normally via `npm run notebooks`, which sets JUPYTER_PATH to the repo's kernel spec):
    JUPYTER_PATH=$PWD/jupyter /usr/bin/python3 scripts/run_notebooks.py [--no-save] [--timeout S] NB...

Each notebook runs top to bottom with its own folder as working directory. On the first
failing cell it prints the notebook, the cell number, its source and the kernel's error text
(tslab reports type errors on stderr, not as an `error` output), and goes on with the next
notebook. Passing notebooks are saved in place with their outputs (atomically); a failing
one is left untouched, so a broken run never replaces good committed outputs. The last line
is `notebooks: N passed, M failed`; the exit status is 1 if any failed.
"""
import argparse
import os
import sys
import tempfile
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError


def cell_error_text(cell):
    """stderr streams and error outputs of a cell: where tslab puts compile and runtime errors."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            parts.append(out.get("text", ""))
        elif out.get("output_type") == "error":
            parts.append(f"{out.get('ename', '')}: {out.get('evalue', '')}\n" + "\n".join(out.get("traceback", [])))
    return "".join(parts).strip()


def save_atomically(nb, path):
    fd, tmp = tempfile.mkstemp(prefix=".nbrun-", suffix=".ipynb", dir=os.path.dirname(os.path.abspath(path)))
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        nbformat.write(nb, f)
    # mkstemp creates 0600; keep the notebook's own permissions (0644 for a new file).
    os.chmod(tmp, os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o644)
    os.replace(tmp, path)


def run_one(path, timeout, save):
    nb = nbformat.read(path, as_version=4)
    kernel = nb.metadata.get("kernelspec", {}).get("name", "tslab")
    failed = {}

    def on_cell_error(cell, cell_index, execute_reply):
        failed.setdefault("index", cell_index)

    client = NotebookClient(
        nb, kernel_name=kernel, timeout=timeout, record_timing=False,
        # The kernel launcher may first refresh the library's type declarations; on a loaded
        # machine that alone can pass nbclient's default 60 s start-up limit.
        startup_timeout=300,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}},
        on_cell_error=on_cell_error,
    )
    t0 = time.time()
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
        idx = failed.get("index")
        cell = nb.cells[idx] if idx is not None else None
        print(f"FAIL {path} ({time.time() - t0:.1f}s)")
        if cell is not None:
            print(f"--- cell {idx} source ---\n{cell.source}\n--- error ---\n{cell_error_text(cell) or str(err)[-3000:]}")
        else:
            print(f"--- error ---\n{str(err)[-3000:]}")
        return False
    if save:
        save_atomically(nb, path)
    print(f"ok   {path} ({time.time() - t0:.1f}s)")
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("notebooks", nargs="+")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    ap.add_argument("--no-save", action="store_true", help="do not write outputs back")
    args = ap.parse_args()
    passed = failed = 0
    for path in args.notebooks:
        if run_one(path, args.timeout, not args.no_save):
            passed += 1
        else:
            failed += 1
    print(f"notebooks: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
