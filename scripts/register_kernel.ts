/**
 * `npm run kernel:install`: registers the project's tslab kernel (name "tslab") with the
 * user's Jupyter (`jupyter kernelspec install --user`), so JupyterLab, classic Notebook and
 * VS Code list it without a global `npm install -g tslab`. The committed spec in
 * jupyter/kernels/tslab uses {resource_dir}-relative paths (valid only where it lies);
 * the installed copy gets absolute paths to this checkout instead.
 * Without installing, any Jupyter finds the spec with JUPYTER_PATH=$PWD/jupyter.
 *
 * Usage: node --import tsx scripts/register_kernel.ts [--print]
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureNotebookTypes, PROJECT_ROOT } from "./notebook_types.ts";

interface KernelSpec {
  argv: string[];
  display_name: string;
  language: string;
  env?: Record<string, string>;
}

/** The committed spec with {resource_dir}/../../.. replaced by this checkout's absolute path. */
export function absoluteKernelSpec(root = PROJECT_ROOT): KernelSpec {
  const spec = JSON.parse(readFileSync(join(root, "jupyter", "kernels", "tslab", "kernel.json"), "utf8")) as KernelSpec;
  const argv = spec.argv.map((a) => a.replace("{resource_dir}/../../..", root));
  // `--import tsx` resolves from the notebook's folder; an absolute URL works from anywhere.
  const tsx = import.meta.resolve("tsx");
  return { ...spec, argv, env: { ...spec.env, NODE_OPTIONS: `--import ${tsx}` } };
}

function main(): void {
  const spec = absoluteKernelSpec();
  if (process.argv.includes("--print")) {
    console.log(JSON.stringify(spec, null, 2));
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "tslab-kernel-"));
  const specDir = join(dir, "tslab");
  try {
    mkdirSync(specDir);
    writeFileSync(join(specDir, "kernel.json"), JSON.stringify(spec, null, 2) + "\n");
    const res = spawnSync("jupyter", ["kernelspec", "install", "--user", "--name", "tslab", specDir], { stdio: "inherit" });
    if (res.error || res.status !== 0) {
      console.error("kernel:install: `jupyter kernelspec install` failed. Install Jupyter (Debian: sudo apt-get install jupyter-client jupyter-notebook) and retry.");
      process.exit(1);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  ensureNotebookTypes();
  console.log(`kernel:install: registered kernel "tslab" → ${spec.argv.slice(0, 2).join(" ")}`);
}

main();
