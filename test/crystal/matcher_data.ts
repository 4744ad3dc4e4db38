/**
 * MP-20 rows for the matcher tests, benchmark and parity script, read with a small private
 * reader (the bundled CSVs hold pymatgen-written P1 CIFs), so these checks do not depend on the
 * data-set module. Reads `datasets/mp_20/<split>.csv.gz` from the project, falling back on the
 * team's shared copy.
 */
import { existsSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { Lattice } from "../../src/crystal/lattice.ts";
import { Structure } from "../../src/crystal/structure.ts";

export interface Mp20Row {
  materialId: string;
  structure: Structure;
}

const ROOTS = ["datasets/mp_20", "/work/shared/datasets/mp_20"];

export function loadMp20(split: "train" | "val" | "test"): Mp20Row[] {
  const root = ROOTS.find((r) => existsSync(`${r}/${split}.csv.gz`));
  if (!root) throw new Error(`MP-20 ${split}.csv.gz not found under ${ROOTS.join(" or ")}`);
  const rows = parseCsv(gunzipSync(readFileSync(`${root}/${split}.csv.gz`)).toString("utf8"));
  const header = rows[0];
  const idCol = header.indexOf("material_id");
  const cifCol = header.indexOf("cif");
  return rows
    .slice(1)
    .filter((r) => r.length === header.length)
    .map((r) => ({ materialId: r[idCol], structure: parseP1Cif(r[cifCol], r[idCol]) }));
}

/** RFC-4180 CSV: quoted fields may hold commas, newlines and doubled quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") row.push(field), (field = "");
    else if (ch === "\n") row.push(field), rows.push(row), (row = []), (field = "");
    else if (ch !== "\r") field += ch;
  }
  if (field || row.length) row.push(field), rows.push(row);
  return rows;
}

/** A pymatgen-written P1 CIF: cell parameters and one atom_site loop. */
function parseP1Cif(cif: string, id: string): Structure {
  const num = (tag: string) => {
    const m = new RegExp(`${tag}\\s+([-0-9.eE+]+)`).exec(cif);
    if (!m) throw new Error(`${id}: missing ${tag}`);
    return Number(m[1]);
  };
  const lattice = Lattice.fromParameters(
    num("_cell_length_a"),
    num("_cell_length_b"),
    num("_cell_length_c"),
    num("_cell_angle_alpha"),
    num("_cell_angle_beta"),
    num("_cell_angle_gamma"),
  );
  const lines = cif.split("\n");
  const start = lines.findIndex((l) => l.trim() === "_atom_site_occupancy");
  const species: string[] = [];
  const frac: number[][] = [];
  for (const line of lines.slice(start + 1)) {
    const t = line.trim().split(/\s+/);
    if (t.length < 7) break;
    species.push(t[0]);
    frac.push([Number(t[3]), Number(t[4]), Number(t[5])]);
  }
  return new Structure(lattice, species, frac, { properties: { material_id: id } });
}
