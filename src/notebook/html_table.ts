/**
 * DataFrame → HTML table, the notebook's equivalent of pandas' `DataFrame._repr_html_`.
 * danfo has no HTML export, so this renders either a danfo DataFrame (anything with
 * `columns` and a 2-D `values`) or an array of plain row objects into an escaped table with
 * right-aligned, fixed-precision numbers and click-to-sort headers (a few lines of inline JS
 * that Jupyter runs for trusted notebooks; without JS the table still reads fine, e.g. on GitHub).
 */
import { TableInputError } from "../crystal/errors.ts";

/** The part of a danfo `DataFrame` this module reads (duck-typed so danfo stays optional). */
export interface DataFrameLike {
  readonly columns: readonly string[];
  readonly values: readonly unknown[];
  readonly index?: readonly (string | number)[];
}

/** A danfo DataFrame or an array of row objects (`[{ formula: "NaCl", volume: 44.6 }, ...]`). */
export type TableInput = DataFrameLike | readonly Record<string, unknown>[];

export interface TableOptions {
  /** Decimal places of non-integer numbers (pandas' `display.precision`); default 4. */
  precision?: number;
  /** Caption shown above the table. */
  caption?: string;
  /** Rows shown before the middle is elided (head and tail are kept); default 60. */
  maxRows?: number;
  /** Show the index column (row number, or the DataFrame's index); default true. */
  index?: boolean;
  /** DOM id of the table; the default is derived from the content, so output is deterministic. */
  id?: string;
}

/** Rectangular view of the input: header names, index labels and cell values. */
export interface Grid {
  columns: string[];
  index: (string | number)[];
  rows: unknown[][];
}

const DEFAULT_PRECISION = 4;
const DEFAULT_MAX_ROWS = 60;

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/**
 * Text of one numeric cell: integers as is, other numbers with `precision` decimals, and
 * scientific notation where fixed decimals would hide the value (|x| ≥ 1e6 or tiny non-zero).
 * `fixed` formats integers with decimals too, so a float column reads "90.000" next to
 * "89.998" rather than "90" (as pandas does).
 */
export function formatNumber(x: number, precision = DEFAULT_PRECISION, fixed = false): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const ax = Math.abs(x);
  if (Number.isInteger(x) && ax < 1e15 && (!fixed || ax < 1e6)) return fixed ? x.toFixed(precision) : String(x);
  if (ax >= 1e6 || ax < 0.5 * 10 ** -precision) return x === 0 ? x.toFixed(precision) : x.toExponential(Math.max(precision - 1, 1));
  return x.toFixed(precision);
}

/** Text of any cell value; objects use their own toString when they define one (e.g. Structure). */
export function formatCell(value: unknown, precision = DEFAULT_PRECISION): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return formatNumber(value, precision);
  if (typeof value === "string") return value;
  if (typeof value === "bigint" || typeof value === "boolean") return String(value);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    const items = Array.from(value as ArrayLike<unknown>, (v) => formatCell(v, precision));
    return `[${items.join(", ")}]`;
  }
  const own = (value as { toString?: () => string }).toString;
  if (typeof own === "function" && own !== Object.prototype.toString) return own.call(value);
  return JSON.stringify(value);
}

function isDataFrameLike(input: unknown): input is DataFrameLike {
  return !Array.isArray(input) && typeof input === "object" && input !== null && "columns" in input && "values" in input;
}

/** Normalises a DataFrame or row array into a Grid; throws TableInputError on anything else. */
export function toGrid(input: TableInput): Grid {
  if (isDataFrameLike(input)) {
    const rows = input.values.map((r, i) => {
      if (!Array.isArray(r))
        throw new TableInputError(`DataFrame row ${i} is not an array (got ${typeof r}): pass a 2-D DataFrame, not a Series.`);
      return r as unknown[];
    });
    return { columns: [...input.columns], index: input.index ? [...input.index] : rows.map((_, i) => i), rows };
  }
  if (!Array.isArray(input))
    throw new TableInputError(`Table input must be a danfo DataFrame or an array of row objects, got ${typeof input}.`);
  const columns: string[] = [];
  const seen = new Set<string>();
  input.forEach((row, i) => {
    if (typeof row !== "object" || row === null || Array.isArray(row))
      throw new TableInputError(`Row ${i} of the table input is not a plain object: pass rows like { formula: "NaCl", volume: 44.6 }.`);
    for (const k of Object.keys(row)) if (!seen.has(k)) (seen.add(k), columns.push(k));
  });
  return { columns, index: input.map((_, i) => i), rows: input.map((row) => columns.map((c) => row[c])) };
}

/** Column kind: "int" (all integers), "float" (numbers, some fractional) or "text". */
type ColumnKind = "int" | "float" | "text";

/** Numeric columns (every non-empty cell a number) are right-aligned; float ones get fixed decimals. */
function columnKinds(grid: Grid): ColumnKind[] {
  return grid.columns.map((_, j) => {
    const present = grid.rows.map((r) => r[j]).filter((v) => v !== null && v !== undefined);
    if (present.length === 0 || !present.every((v) => typeof v === "number")) return "text";
    return present.every((v) => Number.isInteger(v) || !Number.isFinite(v)) ? "int" : "float";
  });
}

/** Row positions to show: all of them, or head + tail around an elision marker (-1). */
export function visibleRows(n: number, maxRows: number): number[] {
  if (n <= maxRows) return Array.from({ length: n }, (_, i) => i);
  const head = Math.ceil(maxRows / 2);
  const tail = Math.floor(maxRows / 2);
  return [...Array.from({ length: head }, (_, i) => i), -1, ...Array.from({ length: tail }, (_, i) => n - tail + i)];
}

function cellHtml(value: unknown, kind: ColumnKind, precision: number): string {
  // data-v keeps the full-precision number so sorting is numeric, not by the rounded text.
  if (typeof value === "number")
    return `<td class="num" data-v="${Number.isNaN(value) ? "" : value}">${escapeHtml(formatNumber(value, precision, kind === "float"))}</td>`;
  const text = escapeHtml(formatCell(value, precision));
  return kind === "text" ? `<td>${text}</td>` : `<td class="num">${text}</td>`;
}

function bodyHtml(grid: Grid, kinds: ColumnKind[], opts: Required<Omit<TableOptions, "caption" | "id">>): string {
  const width = grid.columns.length + (opts.index ? 1 : 0);
  return visibleRows(grid.rows.length, opts.maxRows)
    .map((i) => {
      if (i < 0) return `<tr class="elided"><td colspan="${width}">⋮</td></tr>`;
      const idx = opts.index ? `<th class="idx">${escapeHtml(String(grid.index[i] ?? i))}</th>` : "";
      return `<tr>${idx}${grid.rows[i].map((v, j) => cellHtml(v, kinds[j], opts.precision)).join("")}</tr>`;
    })
    .join("\n");
}

/** 32-bit FNV-1a hash, used only to derive a stable default table id. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

const STYLE = (id: string) =>
  `<style>#${id}{border-collapse:collapse;font-size:12px;font-variant-numeric:tabular-nums}` +
  `#${id} th,#${id} td{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left;white-space:nowrap}` +
  `#${id} td.num{text-align:right}#${id} thead th{cursor:pointer;user-select:none;border-bottom:2px solid #888}` +
  `#${id} thead th[data-dir=asc]::after{content:" ▲"}#${id} thead th[data-dir=desc]::after{content:" ▼"}` +
  `#${id} th.idx{color:#666;font-weight:normal}#${id} caption{caption-side:top;text-align:left;font-weight:bold;padding:4px 0}` +
  `#${id} tr.elided td{text-align:center;color:#888}</style>`;

/** Click a header to sort by it (numbers by data-v, text by locale); click again to reverse. */
const SORT_SCRIPT = (id: string) =>
  `<script>(function(){var t=document.getElementById("${id}");if(!t||t.dataset.sortable)return;t.dataset.sortable="1";` +
  `var hs=t.tHead.rows[0].cells;Array.prototype.forEach.call(hs,function(h,i){h.addEventListener("click",function(){` +
  `var b=t.tBodies[0],rs=Array.prototype.filter.call(b.rows,function(r){return !r.classList.contains("elided")});` +
  `var asc=h.dataset.dir!=="asc";Array.prototype.forEach.call(hs,function(o){delete o.dataset.dir});h.dataset.dir=asc?"asc":"desc";` +
  `var key=function(r){var c=r.cells[i];return c.dataset.v!==undefined?c.dataset.v:c.textContent};` +
  `rs.sort(function(a,c){var x=key(a),y=key(c),nx=parseFloat(x),ny=parseFloat(y);` +
  `var d=(!isNaN(nx)&&!isNaN(ny)&&String(nx)!=="NaN")?nx-ny:String(x).localeCompare(String(y));return asc?d:-d});` +
  `rs.forEach(function(r){b.appendChild(r)})})})})();</script>`;

/**
 * Renders a DataFrame or row array as a self-contained HTML table (style + table + sort script).
 * Pure: the same input and options give the same string.
 * @throws TableInputError when the input is neither a DataFrame nor an array of row objects,
 *   or when `precision`/`maxRows` are not non-negative integers.
 */
export function dfToHtml(input: TableInput, options: TableOptions = {}): string {
  const precision = options.precision ?? DEFAULT_PRECISION;
  const maxRows = options.maxRows ?? DEFAULT_MAX_ROWS;
  if (!Number.isInteger(precision) || precision < 0 || precision > 20)
    throw new TableInputError(`Table option precision must be an integer in [0, 20], got ${precision}.`);
  if (!Number.isInteger(maxRows) || maxRows < 1)
    throw new TableInputError(`Table option maxRows must be a positive integer, got ${maxRows}.`);
  const opts = { precision, maxRows, index: options.index ?? true };
  const grid = toGrid(input);
  const kinds = columnKinds(grid);
  const head =
    (opts.index ? `<th class="idx"></th>` : "") +
    grid.columns.map((c, j) => `<th${kinds[j] === "text" ? "" : ' class="num"'}>${escapeHtml(c)}</th>`).join("");
  const body = bodyHtml(grid, kinds, opts);
  const caption = options.caption ? `<caption>${escapeHtml(options.caption)}</caption>` : "";
  const id = options.id ?? `cg-table-${fnv1a(caption + head + body)}`;
  if (!/^[A-Za-z][\w-]*$/.test(id))
    throw new TableInputError(`Table id "${id}" is not a valid HTML id: use letters, digits, "-" and "_", starting with a letter.`);
  const shape = `<div style="font-size:11px;color:#666">${grid.rows.length} rows × ${grid.columns.length} columns</div>`;
  // The wrapper scrolls wide tables instead of letting them overflow the notebook column.
  const table = `<div style="overflow-x:auto;max-width:100%"><table id="${id}" class="cg-table">${caption}<thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
  return `${STYLE(id)}\n${table}\n${shape}\n${SORT_SCRIPT(id)}`;
}
