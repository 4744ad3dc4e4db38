/**
 * Data set loading: the CDVAE/Chemeleon2 CSV splits (mp_20, perov_5, carbon_24, or any folder
 * of `<split>.csv[.gz]` files with `material_id` and `cif` columns) → structures + properties.
 *
 *   const { records } = await loadDataset("mp_20", "train");
 *   records[0].structure.composition.reducedFormula;       // "Fe3Ni"
 *   records[0].properties.formation_energy_per_atom;       // 0.0254...
 *   for await (const r of iterateDataset("perov_5", "val", { limit: 100 })) ...
 *
 * Files are streamed (node:zlib for .gz, then the RFC 4180 parser in csv.ts, which handles the
 * multi-line quoted CIF fields), so a 45k-row file never sits in memory as text. Where both
 * `train.csv` and `train.csv.gz` exist the plain .csv wins: that is how a user swaps in the full
 * MP-20 split next to the bundled subset (see datasets/mp_20/SOURCE.md).
 *
 * Every column except `material_id` and `cif` lands in `properties`: numbers parsed
 * (`formation_energy_per_atom`, `spacegroup.number`, `heat_all`, ...), Python list literals
 * such as MP-20's `elements` ("['Fe', 'Ni']") turned into string arrays, empty cells as null,
 * and the unnamed first column (the row index of the original CDVAE file) as `index`.
 * A row whose CIF cannot be read is never dropped silently: by default loading stops with a
 * DatasetError naming the file, row and material_id; `onBadRow: "skip"` collects such rows.
 */
import { createReadStream, existsSync, readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createGunzip } from "node:zlib";
import { DatasetError } from "../crystal/errors.ts";
import { parseCif } from "../crystal/io/cif.ts";
import type { Structure } from "../crystal/structure.ts";
import { CsvParser } from "./csv.ts";
import { ProgressBar, type ProgressState } from "./progress.ts";

/** Folder of the bundled data sets (`<package>/datasets`). */
export const DATASETS_DIR = fileURLToPath(new URL("../../datasets/", import.meta.url));

/** A property value: a parsed number, a string, a list of strings (Python list literal) or null (empty cell). */
export type PropertyValue = number | string | string[] | null;

/** One data set row. */
export interface DatasetRecord {
  materialId: string;
  structure: Structure;
  /** Every other column, numbers parsed. */
  properties: Record<string, PropertyValue>;
  /** 1-based data row number in the file (the header is row 0). */
  row: number;
}

/** A row that could not be turned into a record. */
export interface BadRow {
  row: number;
  materialId: string;
  /** The DatasetError naming file, row and material_id; its `cause` is the original error. */
  error: DatasetError;
}

/** Progress as reported to `onProgress`: rows done, bytes read of the file on disk. */
export interface DatasetProgress extends ProgressState {
  bytesRead: number;
  totalBytes: number;
}

export interface DatasetOptions {
  /** Folder holding `<name>/<split>.csv[.gz]` (default {@link DATASETS_DIR}). */
  root?: string;
  /** Stop after this many records. */
  limit?: number;
  /** Called at most every 100 ms, and once at the end. */
  onProgress?: (p: DatasetProgress) => void;
  /**
   * What to do with a row whose CIF (or shape) is bad: "throw" (default) stops with a
   * DatasetError; "skip" leaves it out and reports it in `badRows` (loadDataset) — or pass a
   * function to receive each one while streaming.
   */
  onBadRow?: "throw" | "skip" | ((bad: BadRow) => void);
  /** Draw a progress bar on stderr: true forces it, false hides it (default: only on a TTY outside CI). */
  progress?: boolean;
}

/** What {@link loadDataset} returns. */
export interface LoadedDataset {
  name: string;
  split: string;
  path: string;
  records: DatasetRecord[];
  badRows: BadRow[];
}

/** Data sets available under `root`: folders holding at least one `<split>.csv[.gz]`. */
export function listDatasets(root: string = DATASETS_DIR): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((d) => statSync(join(root, d)).isDirectory() && listSplits(d, root).length > 0)
    .sort();
}

/** Splits of a data set: the stems of its `.csv` / `.csv.gz` files. */
export function listSplits(name: string, root: string = DATASETS_DIR): string[] {
  const dir = join(root, name);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  const stems = readdirSync(dir)
    .map((f) => /^(.+)\.csv(\.gz)?$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined);
  return [...new Set(stems)].sort();
}

/** Path of a split file (.csv preferred over .csv.gz); DatasetError listing what exists otherwise. */
export function resolveDatasetFile(name: string, split: string, root: string = DATASETS_DIR): string {
  const available = listDatasets(root);
  if (!available.includes(name))
    throw new DatasetError(
      `Unknown data set ${JSON.stringify(name)} in ${root}. Available: ${available.join(", ") || "(none)"}. ` +
        `To add one, create ${join(root, name)}/<split>.csv(.gz) with material_id and cif columns.`,
    );
  for (const ext of [".csv", ".csv.gz"]) {
    const p = join(root, name, split + ext);
    if (existsSync(p)) return p;
  }
  throw new DatasetError(
    `Data set ${name} has no split ${JSON.stringify(split)}. Available splits: ${listSplits(name, root).join(", ")}.`,
  );
}

/** Loads a whole split into memory. See the module doc for columns and bad-row handling. */
export async function loadDataset(name: string, split: string, options: DatasetOptions = {}): Promise<LoadedDataset> {
  const path = resolveDatasetFile(name, split, options.root);
  const sink = withBadRowSink(options);
  const records = await collect(iterateDatasetFile(path, sink, `${name}/${split}`));
  return { name, split, path, records, badRows: sink.badRows };
}

/** Loads any `.csv` / `.csv.gz` file with `material_id` and `cif` columns. */
export async function loadDatasetFile(path: string, options: DatasetOptions = {}): Promise<{ path: string; records: DatasetRecord[]; badRows: BadRow[] }> {
  const sink = withBadRowSink(options);
  const records = await collect(iterateDatasetFile(path, sink));
  return { path, records, badRows: sink.badRows };
}

/** Streams the records of a split, one at a time (constant memory apart from what you keep). */
export async function* iterateDataset(name: string, split: string, options: DatasetOptions = {}): AsyncGenerator<DatasetRecord> {
  yield* iterateDatasetFile(resolveDatasetFile(name, split, options.root), options, `${name}/${split}`);
}

/** Streams the records of one CSV file. */
export async function* iterateDatasetFile(path: string, options: DatasetOptions = {}, label = basename(path)): AsyncGenerator<DatasetRecord> {
  if (!existsSync(path)) throw new DatasetError(`Data set file ${path} does not exist.`);
  const limit = options.limit ?? Infinity;
  const tracker = new ProgressTracker(path, label, options);
  let header: string[] | undefined;
  let count = 0;
  let row = 0;
  if (limit <= 0) return;
  for await (const fields of readCsvRecords(path, tracker)) {
    if (!header) {
      header = checkHeader(fields, path);
      continue;
    }
    row++;
    const record = toRecordOrBad(fields, header, row, path, options);
    if (!record) continue;
    yield record;
    tracker.rowDone(++count);
    if (count >= limit) break;
  }
  tracker.finish(count);
}

/** Histogram of site counts: `counts[i]` structures have `numAtoms[i]` sites (ascending). */
export interface NumAtomsDistribution {
  numAtoms: number[];
  counts: number[];
  /** counts / total: the distribution Chemeleon2 samples atom counts from. */
  probabilities: number[];
  total: number;
}

/** Distribution of the number of sites per structure, for sampling atom counts later. */
export function numAtomsDistribution(records: Iterable<DatasetRecord | Structure>): NumAtomsDistribution {
  const hist = new Map<number, number>();
  for (const r of records) {
    const n = "structure" in r ? r.structure.length : r.length;
    hist.set(n, (hist.get(n) ?? 0) + 1);
  }
  const numAtoms = [...hist.keys()].sort((a, b) => a - b);
  const counts = numAtoms.map((n) => hist.get(n)!);
  const total = counts.reduce((a, b) => a + b, 0);
  return { numAtoms, counts, probabilities: counts.map((c) => c / total), total };
}

/** Non-finite spellings written by pandas / numpy. */
const SPECIAL_NUMBERS: Readonly<Record<string, number>> = { nan: NaN, NaN: NaN, inf: Infinity, "-inf": -Infinity, Infinity, "-Infinity": -Infinity };

/** Converts one cell: number, Python list of strings, null for empty, else the string itself. */
export function parsePropertyValue(text: string): PropertyValue {
  if (text === "") return null;
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return Number(text);
  if (text in SPECIAL_NUMBERS) return SPECIAL_NUMBERS[text];
  const list = /^\[\s*((?:'[^']*'\s*,\s*)*'[^']*')?\s*,?\s*\]$/.exec(text);
  if (list) return [...(list[1] ?? "").matchAll(/'([^']*)'/g)].map((m) => m[1]);
  return text;
}

// --- internals ---

/** Decompressed text chunks of a .csv or .csv.gz file, parsed into CSV records. */
async function* readCsvRecords(path: string, tracker: ProgressTracker): AsyncGenerator<string[]> {
  const file = createReadStream(path);
  const text = path.endsWith(".gz") ? file.pipe(createGunzip()) : file;
  file.on("error", (e) => text.destroy(e));
  text.setEncoding("utf8"); // a StringDecoder: multi-byte characters split across chunks stay intact
  const parser = new CsvParser(path);
  try {
    for await (const chunk of text as AsyncIterable<string>) {
      tracker.bytesRead = file.bytesRead;
      for (const record of parser.push(chunk)) yield record;
    }
  } catch (e) {
    if (e instanceof DatasetError) throw e;
    throw new DatasetError(`${path}: cannot read the file (${(e as Error).message}). Is it a valid ${path.endsWith(".gz") ? "gzip" : "text"} file?`);
  } finally {
    text.destroy();
    file.destroy();
  }
  for (const record of parser.end()) yield record;
}

function checkHeader(fields: string[], path: string): string[] {
  const header = fields.map((h, i) => (h === "" && i === 0 ? "index" : h.trim()));
  const missing = ["material_id", "cif"].filter((c) => !header.includes(c));
  if (missing.length)
    throw new DatasetError(`${path}: missing column(s) ${missing.join(", ")}; the header has ${header.join(", ")}.`);
  return header;
}

/** A record, or undefined for a bad row that the options say to skip. */
function toRecordOrBad(fields: string[], header: string[], row: number, path: string, options: DatasetOptions): DatasetRecord | undefined {
  const materialId = fields[header.indexOf("material_id")] ?? "?";
  try {
    return toRecord(fields, header, row, path);
  } catch (e) {
    const error = new DatasetError(`${path}: row ${row} (material_id ${materialId}): ${(e as Error).message}`);
    error.cause = e;
    const policy = options.onBadRow ?? "throw";
    if (policy === "throw") throw error;
    if (typeof policy === "function") policy({ row, materialId, error });
    return undefined;
  }
}

function toRecord(fields: string[], header: string[], row: number, path: string): DatasetRecord {
  if (fields.length !== header.length)
    throw new DatasetError(`has ${fields.length} fields but the header has ${header.length}`);
  let materialId = "";
  let cif = "";
  const properties: Record<string, PropertyValue> = {};
  header.forEach((col, i) => {
    if (col === "material_id") materialId = fields[i];
    else if (col === "cif") cif = fields[i];
    else properties[col] = parsePropertyValue(fields[i]);
  });
  const structure = parseCif(cif, { source: `${basename(path)} row ${row} (${materialId})` });
  return { materialId, structure, properties, row };
}

/** loadDataset's "skip" collects into a list; a function policy is passed through. */
function withBadRowSink(options: DatasetOptions): DatasetOptions & { badRows: BadRow[] } {
  const badRows: BadRow[] = [];
  const policy = options.onBadRow;
  const onBadRow = policy === "skip" ? (b: BadRow) => badRows.push(b) : policy;
  return { ...options, onBadRow, badRows };
}

async function collect(it: AsyncGenerator<DatasetRecord>): Promise<DatasetRecord[]> {
  const records: DatasetRecord[] = [];
  for await (const r of it) records.push(r);
  return records;
}

/** Feeds the optional progress bar and `onProgress` callback (both throttled to 10 Hz). */
class ProgressTracker {
  bytesRead = 0;
  private readonly totalBytes: number;
  private readonly bar: ProgressBar;
  private lastReport = -Infinity;

  constructor(path: string, label: string, private readonly options: DatasetOptions) {
    this.totalBytes = statSync(path).size;
    this.bar = new ProgressBar({ label, enabled: options.progress });
  }

  rowDone(rows: number): void {
    const now = performance.now();
    if (now - this.lastReport < 100) return;
    this.lastReport = now;
    const s = this.bar.update(rows, this.fraction());
    this.options.onProgress?.({ ...s, bytesRead: this.bytesRead, totalBytes: this.totalBytes });
  }

  finish(rows: number): void {
    this.bytesRead = Math.max(this.bytesRead, this.totalBytes);
    this.bar.finish(rows);
    this.options.onProgress?.({ ...this.bar.state(rows, 1), bytesRead: this.bytesRead, totalBytes: this.totalBytes });
  }

  private fraction(): number | undefined {
    return this.totalBytes > 0 ? this.bytesRead / this.totalBytes : undefined;
  }
}
