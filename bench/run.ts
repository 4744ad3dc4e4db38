/**
 * `npm run bench [name ...]`: runs the benchmarks one after another, each in its own process
 * (each prints ours next to a reference measured in the same run and ends with a JSON line),
 * then prints a summary of those JSON lines. Names: the files in bench/ without `.ts`.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";

const DEFAULT_ORDER = ["cif", "datasets", "hull", "matcher", "reward", "engine"];
const available = readdirSync("bench")
  .filter((f) => f.endsWith(".ts") && f !== "run.ts")
  .map((f) => f.slice(0, -3));
const requested = process.argv.slice(2);
const unknown = requested.filter((n) => !available.includes(n));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(", ")}; available: ${available.join(", ")}`);
  process.exit(2);
}
const names = requested.length ? requested : DEFAULT_ORDER.filter((n) => available.includes(n));
const summary: Record<string, unknown> = {};
for (const name of names) {
  console.log(`\n=== bench/${name}.ts ===`);
  const res = spawnSync(process.execPath, ["--import", "tsx", `bench/${name}.ts`], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  process.stdout.write(res.stdout ?? "");
  const last = (res.stdout ?? "").trim().split("\n").pop() ?? "";
  try {
    summary[name] = JSON.parse(last);
  } catch {
    summary[name] = { error: `exit ${res.status}; last line was not JSON` };
  }
}
console.log("\n=== summary ===");
console.log(JSON.stringify(summary, null, 2));
