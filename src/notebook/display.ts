/**
 * Table and HTML display for tslab notebooks. `showTable(df)` is the notebook's
 * `display(df)`: an escaped, sortable HTML table plus a plain-text rendering for viewers
 * without HTML (and for scripts, where it prints).
 */
import { randomBytes } from "node:crypto";
import { dfToHtml, formatCell, toGrid, type TableInput, type TableOptions } from "./html_table.ts";
import { displayBundle } from "./kernel.ts";

/** Shows raw HTML (with a text/plain alternative) as one notebook output. */
export function showHtml(html: string, text = "<HTML>"): void {
  displayBundle({ "text/html": html, "text/plain": text });
}

/** Fixed-width text table of the first `maxRows` rows (the text/plain side of showTable). */
export function tableToText(input: TableInput, options: TableOptions = {}): string {
  const grid = toGrid(input);
  const shown = grid.rows.slice(0, options.maxRows ?? 20);
  const cells = shown.map((r) => r.map((v) => formatCell(v, options.precision ?? 4)));
  const widths = grid.columns.map((c, j) => Math.max(c.length, ...cells.map((r) => r[j].length)));
  const line = (vals: string[]) => vals.map((v, j) => v.padStart(widths[j])).join("  ");
  const more = grid.rows.length > shown.length ? `\n... ${grid.rows.length - shown.length} more rows` : "";
  return [options.caption ?? "", line(grid.columns), ...cells.map(line)].filter((l) => l !== "").join("\n") + more;
}

/**
 * Displays a danfo DataFrame or an array of row objects as a sortable HTML table.
 * Options: `precision` (decimals, default 4), `caption`, `maxRows` (default 60), `index`.
 */
export function showTable(input: TableInput, options: TableOptions = {}): void {
  const id = options.id ?? `cg-table-${randomBytes(6).toString("hex")}`;
  displayBundle({ "text/html": dfToHtml(input, { ...options, id }), "text/plain": tableToText(input, options) });
}
