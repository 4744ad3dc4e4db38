/**
 * Energy above hull on the bundled MP-20 reference: build the PhaseDiagram (formation
 * energies, elements at 0 eV/atom) and answer 1000 queries of 1–5 elements, against
 *   - pymatgen 2022.11 (Debian /usr/bin/python3), one PhaseDiagram per chemical system built
 *     on demand and cached — the fastest exact pymatgen route here (PatchedPhaseDiagram
 *     took ~12 s to build plus ~90 ms per query on the same data);
 *   - the same hull LPs solved by the `highs` wasm solver, to justify our own simplex;
 * all measured in this run. Values are cross-checked (max |Δ e_above_hull|).
 *
 *   node --import tsx bench/hull.ts
 *
 * Last line: {"ours_s", "highs_s", "pymatgen_s", "pymatgen_over_ours", "highs_over_ours", ...}.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import * as highsModule from "highs";
import { PhaseDiagram, type PDEntry } from "../src/crystal/phase_diagram.ts";
import { mulberry32 } from "../test/crystal/matcher_pairs.ts";

const PYTHON = "/usr/bin/python3";
const FIXTURE = "test/fixtures/crystal/hull_mp20.json";
const N_QUERIES = 1000;

interface Row {
  id: string;
  formula: string;
  energyPerAtom: number;
}
interface Query {
  formula: string;
  energyPerAtom: number;
}

/** Python side: reads {entries, queries} on stdin; builds per-system diagrams lazily; timed. */
const PY_SNIPPET = `
import json, sys, time, warnings
warnings.filterwarnings("ignore")
from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
from pymatgen.core import Composition
data = json.load(sys.stdin)
t0 = time.perf_counter()
entries = []
for e in data["entries"]:
    c = Composition(e["formula"])
    entries.append(PDEntry(c, e["energyPerAtom"] * c.num_atoms))
cache = {}
def diagram(elements):
    key = tuple(sorted(elements))
    if key not in cache:
        sub = [e for e in entries if {x.symbol for x in e.composition.elements} <= set(key)]
        sub += [PDEntry(Composition(el), 0.0) for el in key]
        cache[key] = PhaseDiagram(sub)
    return cache[key]
out = []
for q in data["queries"]:
    c = Composition(q["formula"])
    pd = diagram([x.symbol for x in c.elements])
    out.append(pd.get_decomp_and_e_above_hull(PDEntry(c, q["energyPerAtom"] * c.num_atoms), allow_negative=True)[1])
print(json.dumps({"seconds": time.perf_counter() - t0, "e_above_hull": out}))
`;

/** Queries in the entries' chemical systems, widened with random extra elements up to 5. */
function makeQueries(rows: Row[], elements: string[]): Query[] {
  const rand = mulberry32(7);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const systemOf = (formula: string) => [...new Set(formula.match(/[A-Z][a-z]?/g) ?? [])];
  return Array.from({ length: N_QUERIES }, () => {
    const row = pick(rows);
    const system = systemOf(row.formula);
    const want = 1 + Math.floor(rand() * 5);
    while (system.length < want) {
      const el = pick(elements);
      if (!system.includes(el)) system.push(el);
    }
    const formula = system.map((el) => `${el}${1 + Math.floor(rand() * 8)}`).join("");
    return { formula, energyPerAtom: row.energyPerAtom + (rand() - 0.5) * 0.4 };
  });
}

function timeOurs(rows: Row[], queries: Query[]): { seconds: number; values: number[] } {
  const t0 = performance.now();
  const pd = new PhaseDiagram(rows.map((r) => ({ composition: r.formula, energyPerAtom: r.energyPerAtom, id: r.id })), {
    elementalZero: true,
  });
  const values = queries.map((q) => pd.getEAboveHull(q.formula, q.energyPerAtom));
  return { seconds: (performance.now() - t0) / 1000, values };
}

/** The same LPs through highs (CPLEX LP text), candidates picked like PhaseDiagram does. */
async function timeHighs(rows: Row[], queries: Query[]): Promise<{ seconds: number; values: number[] }> {
  const highs = await highsLoader()();
  const pd = new PhaseDiagram(rows.map((r) => ({ composition: r.formula, energyPerAtom: r.energyPerAtom, id: r.id })), {
    elementalZero: true,
  });
  const t0 = performance.now();
  const values = queries.map((q) => {
    const target = fractionsOf(q.formula);
    const cands = pd.entries.filter((e) => [...e.fractions.keys()].every((el) => target.has(el)));
    const result = highs.solve(lpText(cands, target), { output_flag: false });
    if (result.Status !== "Optimal") throw new Error(`highs: ${result.Status} for ${q.formula}`);
    return q.energyPerAtom - result.ObjectiveValue;
  });
  return { seconds: (performance.now() - t0) / 1000, values };
}

interface HighsLike {
  solve(lp: string, options: Record<string, unknown>): { Status: string; ObjectiveValue: number };
}

/** highs ships CJS types for an ESM build: take the loader from whichever default layer holds it. */
function highsLoader(): () => Promise<HighsLike> {
  const mod = highsModule as unknown as { default: unknown };
  const inner = mod.default as { default?: unknown };
  return (typeof inner === "function" ? inner : inner.default) as () => Promise<HighsLike>;
}

function fractionsOf(formula: string): Map<string, number> {
  const amounts = [...formula.matchAll(/([A-Z][a-z]?)(\d+)/g)].map((m) => [m[1], Number(m[2])] as const);
  const total = amounts.reduce((s, [, n]) => s + n, 0);
  return new Map(amounts.map(([el, n]) => [el, n / total]));
}

function lpText(cands: readonly PDEntry[], target: Map<string, number>): string {
  const obj = cands.map((e, i) => `${e.energyPerAtom >= 0 ? "+" : "-"} ${Math.abs(e.energyPerAtom)} x${i}`).join(" ");
  const rows = [...target].map(([el, v]) => {
    const terms = cands.flatMap((e, i) => (e.fractions.has(el) ? [`+ ${e.fractions.get(el)} x${i}`] : []));
    return ` c_${el}: ${terms.join(" ")} = ${v}`;
  });
  return `Minimize\n obj: ${obj}\nSubject To\n${rows.join("\n")}\nEnd`;
}

function timePymatgen(rows: Row[], queries: Query[]): { seconds: number; values: number[] } | null {
  if (!existsSync(PYTHON)) return null;
  const res = spawnSync(PYTHON, ["-c", PY_SNIPPET], {
    input: JSON.stringify({ entries: rows, queries }),
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  if (res.status !== 0) {
    console.log(`pymatgen reference unavailable: ${res.stderr.split("\n").slice(-3).join(" ")}`);
    return null;
  }
  const out = JSON.parse(res.stdout.trim().split("\n").pop()!);
  return { seconds: out.seconds, values: out.e_above_hull };
}

function maxDiff(a: number[], b: number[]): number {
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
}

async function main(): Promise<void> {
  const rows: Row[] = JSON.parse(readFileSync(FIXTURE, "utf8")).entries;
  const elements = [...new Set(rows.flatMap((r) => r.formula.match(/[A-Z][a-z]?/g) ?? []))];
  const queries = makeQueries(rows, elements);
  timeOurs(rows, queries.slice(0, 50)); // warm-up: JIT, module init
  const ours = [0, 1, 2].map(() => timeOurs(rows, queries)).sort((a, b) => a.seconds - b.seconds)[1];
  const viaHighs = await timeHighs(rows, queries);
  const py = timePymatgen(rows, queries);
  console.log(`MP-20 subset: ${rows.length} entries, ${queries.length} queries of 1-5 elements`);
  console.log(`ours (build + queries, median of 3): ${ours.seconds.toFixed(3)} s`);
  console.log(`highs LP (queries only):            ${viaHighs.seconds.toFixed(3)} s, max |Δ| ${maxDiff(ours.values, viaHighs.values).toExponential(2)}`);
  if (py) console.log(`pymatgen (build + queries):         ${py.seconds.toFixed(3)} s, max |Δ| ${maxDiff(ours.values, py.values).toExponential(2)}`);
  console.log(
    JSON.stringify({
      ours_s: ours.seconds,
      highs_s: viaHighs.seconds,
      pymatgen_s: py?.seconds ?? null,
      pymatgen_over_ours: py ? py.seconds / ours.seconds : null,
      highs_over_ours: viaHighs.seconds / ours.seconds,
      max_abs_diff_pymatgen: py ? maxDiff(ours.values, py.values) : null,
    }),
  );
}

await main();
