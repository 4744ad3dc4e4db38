/**
 * Data set loading throughput at full MP-20 size: a 45,231-row .csv.gz made by cycling the
 * bundled MP-20 train rows (fresh material_ids), loaded with `loadDataset`, against a reference
 * measured in the same run: gunzip + CSV parsing alone (no CIF parsing, no structures).
 *
 *   node --import tsx bench/datasets.ts
 *
 * Last line: {"rows": 45231, "full_s": ..., "csv_only_s": ..., "ratio_full_over_csv": ...}.
 */
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGunzip, gunzipSync, gzipSync } from "node:zlib";
import { CsvParser, parseCsv } from "../src/data/csv.ts";
import { DATASETS_DIR, loadDataset } from "../src/data/datasets.ts";

const ROWS = 45_231;

function quote(f: string): string {
  return /[",\r\n]/.test(f) ? `"${f.replaceAll('"', '""')}"` : f;
}

/** Writes <root>/mp_20_full/train.csv.gz with ROWS rows; returns the root. */
function makeFullSizeFile(): string {
  const rows = parseCsv(gunzipSync(readFileSync(join(DATASETS_DIR, "mp_20", "train.csv.gz"))).toString("utf8"));
  const [header, ...data] = rows;
  const lines = [header.map(quote).join(",")];
  for (let i = 0; i < ROWS; i++) {
    const r = [...data[i % data.length]];
    r[1] = `mp-bench-${i}`;
    lines.push(r.map(quote).join(","));
  }
  const root = mkdtempSync(join(tmpdir(), "bench-datasets-"));
  mkdirSync(join(root, "mp_20_full"));
  writeFileSync(join(root, "mp_20_full", "train.csv.gz"), gzipSync(lines.join("\n") + "\n"));
  return root;
}

async function csvOnlySeconds(path: string): Promise<number> {
  const t0 = performance.now();
  const parser = new CsvParser(path);
  let n = 0;
  const text = createReadStream(path).pipe(createGunzip());
  text.setEncoding("utf8");
  for await (const chunk of text as AsyncIterable<string>) n += parser.push(chunk).length;
  n += parser.end().length;
  if (n !== ROWS + 1) throw new Error(`expected ${ROWS + 1} records, got ${n}`);
  return (performance.now() - t0) / 1000;
}

async function main(): Promise<void> {
  const root = makeFullSizeFile();
  try {
    const path = join(root, "mp_20_full", "train.csv.gz");
    await loadDataset("mp_20_full", "train", { root, limit: 2000, progress: false }); // warm-up (JIT)
    const csvOnly = await csvOnlySeconds(path);
    const t0 = performance.now();
    const d = await loadDataset("mp_20_full", "train", { root });
    const full = (performance.now() - t0) / 1000;
    if (d.records.length !== ROWS) throw new Error(`expected ${ROWS} records, got ${d.records.length}`);
    console.log(`${ROWS} rows: full load ${full.toFixed(2)} s (${Math.round(ROWS / full)} rows/s); gunzip + CSV only ${csvOnly.toFixed(2)} s`);
    console.log(JSON.stringify({ rows: ROWS, full_s: +full.toFixed(3), csv_only_s: +csvOnly.toFixed(3), ratio_full_over_csv: +(full / csvOnly).toFixed(2) }));
  } finally {
    rmSync(root, { recursive: true });
  }
}

await main();
