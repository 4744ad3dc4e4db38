/**
 * Test runner: runs every `test/**\/*.test.ts` file (uvu suites) in its own Node process
 * (isolates tfjs backends and global state), sums uvu's per-file counts and ends with the
 * plain `N passed, N failed` line that CI reads. Usage: node --import tsx test/run.ts [filter]
 */
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

function findTests(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) return name === "fixtures" ? [] : findTests(p);
      return name.endsWith(".test.ts") ? [p] : [];
    })
    .sort();
}

const filter = process.argv[2];
const files = findTests("test").filter((f) => !filter || f.includes(filter));
let passed = 0;
let failed = 0;
const failures: string[] = [];
for (const file of files) {
  const t0 = Date.now();
  const res = spawnSync(process.execPath, ["--import", "tsx", file], { encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0" } });
  const out = `${res.stdout ?? ""}${res.stderr ?? ""}`;
  const p = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? 0);
  // A crash before uvu prints its summary counts as one failure of that file.
  const f = res.status === 0 && total > 0 ? total - p : Math.max(1, total - p);
  passed += p;
  failed += f;
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  console.log(`${f ? "FAIL" : "ok  "} ${relative(".", file)} (${p}/${Math.max(total, p + f)}, ${secs}s)`);
  if (f) {
    failures.push(file);
    console.log(out.split("\n").slice(-60).join("\n"));
  }
}
if (failures.length) console.log(`\nFailed files:\n  ${failures.join("\n  ")}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
