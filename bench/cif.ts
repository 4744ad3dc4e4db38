/**
 * CIF parsing throughput: every MP-20 train CIF through `parseCif`, against pymatgen's
 * `Structure.from_str(cif, fmt="cif")` on the same rows, measured in the same run.
 *
 *   node --import tsx bench/cif.ts
 *
 * The reference runs only when /usr/bin/python3 imports pymatgen; otherwise it says so.
 * Last line: {"ours_per_s": ..., "pymatgen_per_s": ... | null, "ratio": ... | null}.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { parseCif } from "../src/crystal/io/cif.ts";
import { readMp20 } from "../test/crystal/io/mp20_rows.ts";

const PYTHON = "/usr/bin/python3";

/** Python side: reads the CIF list as JSON on stdin, parses them all once untimed, then timed passes. */
const PY_SNIPPET = `
import json, sys, time, warnings
warnings.filterwarnings("ignore")
from pymatgen.core import Structure
cifs = json.load(sys.stdin)
for c in cifs[:50]:
    Structure.from_str(c, fmt="cif")
n, t0 = 0, time.perf_counter()
while True:
    for c in cifs:
        Structure.from_str(c, fmt="cif")
    n += len(cifs)
    if time.perf_counter() - t0 > 2.0:
        break
print(json.dumps({"per_s": n / (time.perf_counter() - t0)}))
`;

/** Structures per second for `parseCif` over `cifs`, after a warm-up pass, over at least `minSeconds`. */
function timeOurs(cifs: string[], minSeconds: number): number {
  for (const c of cifs) parseCif(c);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minSeconds * 1000) {
    for (const c of cifs) parseCif(c);
    n += cifs.length;
  }
  return n / ((performance.now() - t0) / 1000);
}

function timePymatgen(cifs: string[]): number | string {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const probe = spawnSync(PYTHON, ["-c", "import pymatgen.core"], { encoding: "utf8" });
  if (probe.status !== 0) return `pymatgen not importable by ${PYTHON}`;
  const res = spawnSync(PYTHON, ["-c", PY_SNIPPET], { input: JSON.stringify(cifs), encoding: "utf8", maxBuffer: 1 << 26 });
  if (res.status !== 0) return `pymatgen run failed: ${res.stderr.trim().split("\n").pop()}`;
  return (JSON.parse(res.stdout.trim().split("\n").pop()!) as { per_s: number }).per_s;
}

const cifs = readMp20("train").map((r) => r.cif);
console.log(`MP-20 train CIFs: ${cifs.length}`);
const ours = timeOurs(cifs, 2);
console.log(`crystal-grpo parseCif: ${ours.toFixed(0)} structures/s`);
const ref = timePymatgen(cifs);
if (typeof ref === "number") {
  console.log(`pymatgen Structure.from_str(fmt="cif"): ${ref.toFixed(0)} structures/s`);
  console.log(`ratio (ours / pymatgen): ${(ours / ref).toFixed(1)}x`);
} else console.log(`pymatgen reference skipped: ${ref}`);
const pym = typeof ref === "number" ? ref : null;
console.log(JSON.stringify({ ours_per_s: +ours.toFixed(1), pymatgen_per_s: pym === null ? null : +pym.toFixed(1), ratio: pym === null ? null : +(ours / pym).toFixed(2) }));
