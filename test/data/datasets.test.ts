import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DatasetError } from "../../src/crystal/errors.ts";
import { CsvParser, parseCsv } from "../../src/data/csv.ts";
import {
  DATASETS_DIR,
  iterateDataset,
  listDatasets,
  listSplits,
  loadDataset,
  numAtomsDistribution,
  parsePropertyValue,
  type DatasetProgress,
} from "../../src/data/datasets.ts";
import { ProgressBar, formatDuration, formatProgressLine } from "../../src/data/progress.ts";

const noBar = { progress: false } as const;

/** Raw rows of a bundled split, via the CSV parser under test (header first). */
function rawRows(name: string, split: string): string[][] {
  return parseCsv(gunzipSync(readFileSync(join(DATASETS_DIR, name, `${split}.csv.gz`))).toString("utf8"));
}

test("CSV: quoted multi-line fields, doubled quotes, CRLF, blank lines", () => {
  const text = 'a,b,c\r\n1,"x\ny, ""q""",3\n\n"",,"z"\r\n4,5,6';
  assert.equal(parseCsv(text), [["a", "b", "c"], ["1", 'x\ny, "q"', "3"], ["", "", "z"], ["4", "5", "6"]]);
});

test("CSV: chunk boundaries anywhere give the same records", () => {
  const text = 'h1,h2\n"a""b\r\nc",d\r\ne,"f"\n';
  const whole = parseCsv(text);
  for (let size = 1; size <= 5; size++) {
    const p = new CsvParser();
    const rows: string[][] = [];
    for (let i = 0; i < text.length; i += size) rows.push(...p.push(text.slice(i, i + size)));
    rows.push(...p.end());
    assert.equal(rows, whole, `chunk size ${size}`);
  }
});

test("CSV: malformed input is a DatasetError with the line", () => {
  const isCsvError = (re: RegExp) => (e: unknown) => e instanceof DatasetError && re.test((e as Error).message);
  assert.throws(() => parseCsv('a,b\n1,"open\n2,3', "f.csv"), isCsvError(/f\.csv: line 3: .*closing " is missing/));
  assert.throws(() => parseCsv('a,b\n1,x"y\n', "f.csv"), isCsvError(/line 2: .*quote inside an unquoted field/));
  assert.throws(() => parseCsv('a,b\n"1"x,2\n', "f.csv"), isCsvError(/after the closing quote/));
});

test("CSV parser reads every bundled MP-20 row with 9 fields and a whole CIF", () => {
  for (const split of ["train", "val", "test"]) {
    const rows = rawRows("mp_20", split);
    assert.equal(rows[0], ["", "material_id", "formation_energy_per_atom", "band_gap", "pretty_formula", "e_above_hull", "elements", "cif", "spacegroup.number"]);
    assert.is(rows.length - 1, { train: 1090, val: 123, test: 142 }[split]);
    for (const r of rows.slice(1)) {
      assert.is(r.length, 9);
      assert.ok(r[7].startsWith("# generated using pymatgen") && r[7].includes("_atom_site_occupancy"), r[1]);
    }
  }
});

test("property values: numbers, Python string lists, empty cells", () => {
  assert.is(parsePropertyValue("0.0254833024999987"), 0.0254833024999987);
  assert.is(parsePropertyValue("-1e-3"), -0.001);
  assert.is(parsePropertyValue("225"), 225);
  assert.equal(parsePropertyValue("['Fe', 'Ni']"), ["Fe", "Ni"]);
  assert.equal(parsePropertyValue("[]"), []);
  assert.ok(Number.isNaN(parsePropertyValue("nan") as number));
  assert.is(parsePropertyValue(""), null);
  assert.is(parsePropertyValue("Fe3Ni"), "Fe3Ni");
  assert.is(parsePropertyValue("mp-1"), "mp-1");
});

test("loadDataset mp_20/val: records with structures and typed properties", async () => {
  const d = await loadDataset("mp_20", "val", noBar);
  assert.is(d.records.length, 123);
  assert.equal(d.badRows, []);
  const rows = rawRows("mp_20", "val");
  const first = d.records[0];
  assert.is(first.materialId, rows[1][1]);
  assert.is(first.row, 1);
  assert.equal(Object.keys(first.properties), ["index", "formation_energy_per_atom", "band_gap", "pretty_formula", "e_above_hull", "elements", "spacegroup.number"]);
  assert.is(first.properties.formation_energy_per_atom, Number(rows[1][2]));
  assert.is(first.properties["spacegroup.number"], Number(rows[1][8]));
  assert.ok(Array.isArray(first.properties.elements));
});

test("every MP-20 structure has pymatgen's species counts and Materials Project's pretty_formula", async () => {
  const fixture = JSON.parse(readFileSync(new URL("../fixtures/crystal/reduced_formula_pymatgen.json", import.meta.url), "utf8")) as {
    cases: { source?: string; counts?: [string, number][] }[];
  };
  const expected = new Map(fixture.cases.filter((c) => c.source?.startsWith("mp_20/")).map((c) => [c.source!, c.counts!]));
  let checked = 0;
  for (const split of ["train", "val", "test"]) {
    for await (const r of iterateDataset("mp_20", split, noBar)) {
      const comp = r.structure.composition;
      assert.equal([...comp.amounts], expected.get(`mp_20/${split}.csv.gz:${r.materialId}`), r.materialId);
      assert.is(comp.reducedFormula, r.properties.pretty_formula, r.materialId);
      checked++;
    }
  }
  assert.is(checked, 1355);
});

test("perov_5 and carbon_24 columns; limit stops early", async () => {
  const perov = await loadDataset("perov_5", "test", { ...noBar, limit: 50 });
  assert.is(perov.records.length, 50);
  assert.equal(Object.keys(perov.records[0].properties), ["index", "formula", "heat_all", "heat_ref", "dir_gap", "ind_gap"]);
  assert.ok(perov.records.every((r) => r.structure.length === 5 && typeof r.properties.heat_ref === "number"));
  const carbon = await loadDataset("carbon_24", "val", { ...noBar, limit: 20 });
  assert.ok(carbon.records.every((r) => r.structure.composition.chemicalSystem === "C" && typeof r.properties.energy_per_atom === "number"));
});

test("onProgress reports rows, bytes and a final fraction of 1", async () => {
  const seen: DatasetProgress[] = [];
  await loadDataset("mp_20", "test", { ...noBar, onProgress: (p) => seen.push(p) });
  const last = seen.at(-1)!;
  assert.is(last.done, 142);
  assert.is(last.fraction, 1);
  assert.is(last.bytesRead, last.totalBytes);
  assert.ok(last.totalBytes > 0);
});

test("unknown data set or split: DatasetError listing what exists", async () => {
  assert.equal(listDatasets().filter((d) => ["mp_20", "perov_5", "carbon_24"].includes(d)).sort(), ["carbon_24", "mp_20", "perov_5"]);
  assert.equal(listSplits("perov_5"), ["test", "val"]);
  await loadDataset("mp_21", "train").then(
    () => assert.unreachable("no error"),
    (e) => assert.ok(e instanceof DatasetError && /Unknown data set "mp_21".*carbon_24, mp_20, perov_5/.test(e.message), String(e)),
  );
  await loadDataset("perov_5", "train").then(
    () => assert.unreachable("no error"),
    (e) => assert.ok(e instanceof DatasetError && /no split "train".*test, val/.test(e.message), String(e)),
  );
});

/** A temporary data set root with one good row and one row whose CIF is broken. */
function makeRoot(): { root: string; goodId: string } {
  const rows = rawRows("mp_20", "test");
  const quote = (f: string) => `"${f.replaceAll('"', '""')}"`;
  const good = rows[1].map(quote).join(",");
  const broken = [...rows[2]];
  broken[1] = "mp-broken";
  broken[7] = broken[7].replace(/_cell_length_a\s+\S+/, "_cell_length_a   not-a-number");
  const csv = [rows[0].map(quote).join(","), good, broken.map(quote).join(","), good].join("\r\n") + "\r\n";
  const root = mkdtempSync(join(tmpdir(), "datasets-"));
  mkdirSync(join(root, "mine"));
  writeFileSync(join(root, "mine", "all.csv"), csv);
  writeFileSync(join(root, "mine", "all.csv.gz"), gzipSync(rows.slice(0, 2).map((r) => r.map(quote).join(",")).join("\n")));
  return { root, goodId: rows[1][1] };
}

test("a bad row throws naming file, row and material_id; 'skip' collects it; plain .csv wins", async () => {
  const { root, goodId } = makeRoot();
  try {
    await loadDataset("mine", "all", { ...noBar, root }).then(
      () => assert.unreachable("no error"),
      (e) => assert.ok(e instanceof DatasetError && /all\.csv: row 2 \(material_id mp-broken\)/.test(e.message), String(e)),
    );
    const d = await loadDataset("mine", "all", { ...noBar, root, onBadRow: "skip" });
    assert.ok(d.path.endsWith("all.csv"), "plain .csv preferred over .csv.gz");
    assert.equal(d.records.map((r) => [r.row, r.materialId]), [[1, goodId], [3, goodId]]);
    assert.is(d.badRows.length, 1);
    assert.is(d.badRows[0].row, 2);
    assert.is(d.badRows[0].materialId, "mp-broken");
    assert.ok(d.badRows[0].error.cause instanceof Error);
    writeFileSync(join(root, "mine", "corrupt.csv.gz"), "this is not gzip data");
    await loadDataset("mine", "corrupt", { ...noBar, root }).then(
      () => assert.unreachable("no error"),
      (e) => assert.ok(e instanceof DatasetError && /corrupt\.csv\.gz: cannot read the file.*gzip/.test(e.message), String(e)),
    );
  } finally {
    rmSync(root, { recursive: true });
  }
});

test("numAtomsDistribution: histogram of site counts", async () => {
  const d = await loadDataset("carbon_24", "test", { ...noBar, limit: 200 });
  const dist = numAtomsDistribution(d.records);
  assert.is(dist.total, 200);
  assert.is(dist.counts.reduce((a, b) => a + b, 0), 200);
  assert.ok(Math.abs(dist.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  for (let i = 0; i < dist.numAtoms.length; i++)
    assert.is(dist.counts[i], d.records.filter((r) => r.structure.length === dist.numAtoms[i]).length);
  assert.equal(dist.numAtoms, [...dist.numAtoms].sort((a, b) => a - b));
});

test("progress bar: line format, silent off a TTY, draws on a TTY", () => {
  const line = formatProgressLine({ done: 500, fraction: 0.5, rate: 250, etaSeconds: 2, elapsedSeconds: 2 }, { label: "mp_20/train", width: 10 });
  assert.is(line, "mp_20/train  [#####·····]   50%  500 rows  250 rows/s  ETA 2s");
  assert.is(formatDuration(185), "3m05s");
  const written: string[] = [];
  const fake = (isTTY: boolean) => ({ isTTY, write: (s: string) => written.push(s) }) as unknown as NodeJS.WriteStream;
  const off = new ProgressBar({ stream: fake(false) });
  off.update(1, 0.1);
  off.finish(2);
  assert.is(written.length, 0);
  const on = new ProgressBar({ stream: fake(true), enabled: true });
  on.update(1, 0.1);
  on.finish(2);
  assert.ok(on.hasDrawn && written.some((s) => s.includes("100%")) && written.at(-1) === "\n");
});

test.run();
