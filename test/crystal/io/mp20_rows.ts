/**
 * Test/bench helper: reads MP-20 split rows (material_id + cif) from the gzipped CSV with
 * node:zlib and a small RFC-4180 reader (quoted fields may hold newlines and "" escapes).
 */
import { existsSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

export interface Mp20Row {
  materialId: string;
  cif: string;
  /** The `spacegroup.number` column (Materials Project, symprec 0.1). */
  spaceGroupNumber: number;
}

/** Path of an MP-20 split: the project copy if present, else the shared one. */
export function mp20Path(split: "train" | "val" | "test"): string {
  const local = `datasets/mp_20/${split}.csv.gz`;
  return existsSync(local) ? local : `/work/shared/datasets/mp_20/${split}.csv.gz`;
}

/** Splits CSV text into rows of fields. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  while (i < text.length) {
    let field = "";
    if (text[i] === '"') {
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) throw new Error("CSV: unterminated quoted field");
        field += text.slice(i, q);
        if (text[q + 1] === '"') {
          field += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
    } else {
      let j = i;
      while (j < text.length && text[j] !== "," && text[j] !== "\n" && text[j] !== "\r") j++;
      field = text.slice(i, j);
      i = j;
    }
    row.push(field);
    if (text[i] === ",") i++;
    else {
      if (text[i] === "\r") i++;
      if (text[i] === "\n") i++;
      rows.push(row);
      row = [];
    }
  }
  return rows;
}

/** material_id and cif of every row of an MP-20 split. */
export function readMp20(split: "train" | "val" | "test"): Mp20Row[] {
  const [header, ...rows] = parseCsv(gunzipSync(readFileSync(mp20Path(split))).toString("utf8"));
  const id = header.indexOf("material_id");
  const cif = header.indexOf("cif");
  const sg = header.indexOf("spacegroup.number");
  return rows.filter((r) => r.length === header.length).map((r) => ({ materialId: r[id], cif: r[cif], spaceGroupNumber: Number(r[sg]) }));
}
