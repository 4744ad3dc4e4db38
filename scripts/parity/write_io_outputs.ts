/**
 * Parity helper for make_io_fixtures.py: parses the first N MP-20 test CIFs with OUR reader and
 * writes what OUR writers produce (pymatgen dict, P1 CIF, symmetrized CIF, POSCAR) to
 * test/fixtures/crystal/io/ours_outputs.json, so the Python side can load them in pymatgen.
 * Usage: node --import tsx scripts/parity/write_io_outputs.ts [N=20]
 */
import { renameSync, writeFileSync } from "node:fs";
import { readMp20 } from "../../test/crystal/io/mp20_rows.ts";
import { parseCif } from "../../src/crystal/io/cif.ts";
import { structureToCif } from "../../src/crystal/io/cif_writer.ts";
import { structureToPoscar } from "../../src/crystal/io/poscar.ts";
import { structureToPymatgenDict } from "../../src/crystal/io/pymatgen_dict.ts";

const n = Number(process.argv[2] ?? 20);
const rows = readMp20("test").slice(0, n);
const out = rows.map((r) => {
  const s = parseCif(r.cif, { source: r.materialId });
  return {
    material_id: r.materialId,
    dict: structureToPymatgenDict(s),
    cif: structureToCif(s),
    cif_symprec: structureToCif(s, { symprec: 0.1 }),
    poscar: structureToPoscar(s),
  };
});
const path = "test/fixtures/crystal/io/ours_outputs.json";
writeFileSync(`${path}.tmp`, JSON.stringify(out));
renameSync(`${path}.tmp`, path);
console.log(`wrote ${out.length} structures to ${path}`);
