import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, readdirSync } from "node:fs";
import { parseCif, parseCifAll, parseCifNumber } from "../../../src/crystal/io/cif.ts";
import { CifParseError } from "../../../src/crystal/errors.ts";
import type { Structure } from "../../../src/crystal/structure.ts";
import { readMp20 } from "./mp20_rows.ts";

const FIX = "test/fixtures/crystal/io";

/** A P-1 CIF exercising the grammar: comments, quotes, a text field, uncertainties, label-only species. */
const P_1 = `# leading comment
data_syntax_check
_publ_section_title
;
A text field with 'quotes', "double quotes", data_ and loop_ inside
;
_journal_name_full "Don't Panic"   # trailing comment
_cell_length_a 5.431(2)
_cell_length_b 6.0
_cell_length_c 7.0
_cell_angle_alpha 90
_cell_angle_beta 100.0(1)
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'P -1'
loop_
_space_group_symop_operation_xyz
'x, y, z'
"-x, -y, -z"
loop_
_atom_site_label
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_attached_hydrogens
Si1 0.1(1) 0.2 0.3 0
Ca2 0.0 0.0 0.0 0
Cl3 0.5 0.0 0.5 .
`;

function cif(cell: string, sites: string, extra = ""): string {
  return `data_x\n${cell}\n${extra}\nloop_\n_atom_site_type_symbol\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n_atom_site_occupancy\n${sites}\n`;
}
const CUBIC5 = "_cell_length_a 5\n_cell_length_b 5\n_cell_length_c 5\n_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90";

function throwsCif(text: string, pattern: RegExp, options = {}): void {
  try {
    parseCif(text, { source: "bad.cif", ...options });
  } catch (e) {
    assert.instance(e, CifParseError);
    assert.match((e as Error).message, /^bad\.cif: /);
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a CifParseError matching ${pattern}`);
}

test("parseCifNumber drops standard uncertainties and maps ?/. to undefined", () => {
  assert.is(parseCifNumber("5.431(2)"), 5.431);
  assert.is(parseCifNumber("-1.5e-3"), -0.0015);
  assert.is(parseCifNumber("?"), undefined);
  assert.is(parseCifNumber("."), undefined);
  assert.ok(Number.isNaN(parseCifNumber("0x10")!));
  assert.ok(Number.isNaN(parseCifNumber("1.2.3")!));
});

test("grammar: text field, quotes, comments, uncertainties, symops, label-only species, inversion images", () => {
  const s = parseCif(P_1);
  // Si and Cl get an inverted image (Cl at (0.5,0,0.5) maps onto itself after wrapping); Ca sits on the centre.
  assert.equal([...s.species], ["Si", "Si", "Ca", "Cl"]);
  assert.ok(Math.abs(s.lattice.a - 5.431) < 1e-12);
  assert.ok(Math.abs(s.lattice.beta - 100) < 1e-9);
  const img = s.fracCoords[1];
  assert.ok(Math.abs(img[0] - 0.9) < 1e-12 && Math.abs(img[1] - 0.8) < 1e-12 && Math.abs(img[2] - 0.7) < 1e-12);
  assert.equal(s.properties.occupancies, undefined);
});

test("oxidation states in type symbols are stripped", () => {
  const s = parseCif(cif(CUBIC5, "Fe2+ Fe1 0 0 0 1\nO2- O1 0.5 0.5 0.5 1\nFe3+ Fe2 0.5 0 0 1"));
  assert.equal([...s.species], ["Fe", "O", "Fe"]);
});

test("MP-20 test split: every CIF parses to pymatgen's structure, site by site", () => {
  const ref = JSON.parse(readFileSync(`${FIX}/mp20_test_pymatgen.json`, "utf8")) as { material_id: string; matrix: number[][]; species: string[]; frac_coords: number[][] }[];
  const rows = readMp20("test");
  assert.is(rows.length, ref.length);
  let sites = 0;
  rows.forEach((row, i) => {
    const s = parseCif(row.cif, { source: row.materialId });
    const r = ref[i];
    assert.is(r.material_id, row.materialId);
    assert.equal([...s.species], r.species, row.materialId);
    s.lattice.matrix.forEach((v, a) => v.forEach((x, b) => assert.ok(Math.abs(x - r.matrix[a][b]) < 1e-8, `${row.materialId} matrix`)));
    s.fracCoords.forEach((f, k) => f.forEach((x, c) => assert.ok(Math.abs(x - r.frac_coords[k][c]) < 1e-8, `${row.materialId} site ${k}`)));
    sites += s.length;
  });
  assert.ok(sites > 1000);
});

/** Sorted "El x y z" keys, for comparing site sets independent of order. */
function siteKeys(species: readonly string[], frac: readonly (readonly number[])[]): string[] {
  return species.map((el, i) => `${el} ${frac[i].map((x) => (((x % 1) + 1) % 1).toFixed(5).replace("1.00000", "0.00000")).join(" ")}`).sort();
}

test("symmetrized CIFs (pymatgen CifWriter, symprec) expand to the same sites as pymatgen", () => {
  const ref = JSON.parse(readFileSync(`${FIX}/symmetrized_pymatgen.json`, "utf8")) as Record<string, { matrix: number[][]; species: string[]; frac_coords: number[][] }>;
  const files = readdirSync(`${FIX}/symmetrized`).filter((f) => f.endsWith(".cif"));
  assert.is(files.length, 4);
  for (const file of files) {
    const name = file.replace(/\.cif$/, "");
    const s: Structure = parseCif(readFileSync(`${FIX}/symmetrized/${file}`, "utf8"), { source: file });
    const r = ref[name];
    assert.is(s.length, r.species.length, name);
    assert.equal(siteKeys(s.species, s.fracCoords), siteKeys(r.species, r.frac_coords), name);
    s.lattice.matrix.forEach((v, a) => v.forEach((x, b) => assert.ok(Math.abs(x - r.matrix[a][b]) < 1e-8, name)));
  }
});

test("parseCifAll reads every data block; parseCif the first", () => {
  const rows = readMp20("test").slice(0, 3);
  const all = parseCifAll(rows.map((r) => r.cif).join("\n"));
  assert.is(all.length, 3);
  all.forEach((s, i) => assert.equal([...s.species], [...parseCif(rows[i].cif).species]));
  assert.equal([...parseCif(rows.map((r) => r.cif).join("\n")).species], [...all[0].species]);
});

test("metadata-only blocks (a journal's publication block) are skipped", () => {
  const row = readMp20("test")[0];
  const text = `data_global\n_journal_name_full 'Some Journal'\n_publ_contact_author_name 'A. Author'\n${row.cif}`;
  assert.equal([...parseCif(text).species], [...parseCif(row.cif).species]);
  assert.is(parseCifAll(text).length, 1);
  throwsCif("data_global\n_journal_name_full 'Some Journal'\n", /missing _cell_length_a/);
});

test("partial occupancy is an error unless occupancyTolerance allows it, then reported", () => {
  const text = cif(CUBIC5, "Fe Fe1 0 0 0 1\nO O1 0.5 0.5 0.5 0.95");
  throwsCif(text, /line 17: site O1 \(O\) is partially occupied \(occupancy 0\.95\)/);
  const s = parseCif(text, { occupancyTolerance: 0.05 });
  assert.equal(s.properties.occupancies, [1, 0.95]);
  throwsCif(text, /partially occupied/, { occupancyTolerance: 0.01 });
});

test("errors: truncated loop", () => {
  throwsCif(cif(CUBIC5, "Fe Fe1 0 0 0 1\nO O1 0.5 0.5 0.5"), /line 9: truncated loop: 11 values for 6 columns/);
});

test("errors: atom-site columns of different lengths", () => {
  throwsCif(`data_x\n${CUBIC5}\n_atom_site_type_symbol Fe\nloop_\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n0 0 0\n0.5 0.5 0.5\n`, /_atom_site_type_symbol has 1 values but _atom_site_fract_x has 2/);
});

test("errors: missing cell parameter", () => {
  throwsCif(cif(CUBIC5.replace("_cell_angle_beta 90\n", ""), "Fe Fe1 0 0 0 1"), /missing _cell_angle_beta/);
});

test("errors: unknown element symbol", () => {
  throwsCif(cif(CUBIC5, "Fe Fe1 0 0 0 1\nXx Xx1 0.5 0.5 0.5 1"), /line 17: unknown element symbol in _atom_site_type_symbol 'Xx'/);
  throwsCif(`data_x\n${CUBIC5}\nloop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nQ1 0 0 0\n`, /_atom_site_label 'Q1'/);
});

test("errors: unparseable coordinate", () => {
  throwsCif(cif(CUBIC5, "Fe Fe1 0 0 0 1\nO O1 0.5 abc 0.5 1"), /line 17: site O1: fractional y coordinate 'abc' is not a number/);
  throwsCif(cif(CUBIC5, "Fe Fe1 0 ? 0 1"), /fractional y coordinate '\?'/);
});

test("errors: zero or negative volume cell, non-positive length", () => {
  const angles = (x: number) => CUBIC5.replace(/alpha 90/, `alpha ${x}`).replace(/beta 90/, `beta ${x}`).replace(/gamma 90/, `gamma ${x}`);
  throwsCif(cif(angles(120), "Fe Fe1 0 0 0 1"), /zero or negative cell volume/);
  throwsCif(cif(angles(150), "Fe Fe1 0 0 0 1"), /zero or negative cell volume/);
  throwsCif(cif(CUBIC5.replace("_cell_length_b 5", "_cell_length_b -5"), "Fe Fe1 0 0 0 1"), /cell lengths must be > 0/);
});

test("errors: overlapping atoms, directly and after symmetry expansion", () => {
  throwsCif(cif(CUBIC5, "Fe Fe1 0 0 0 1\nO O1 0.01 0 0 1"), /atoms overlap: site O1 \(O\) .* 0\.0500 Å from site Fe1 \(Fe\)/);
  // The inversion image of (0.001, 0, 0) lies 0.01 Å away: not a rounding duplicate (> siteTolerance) but an overlap.
  const inv = "loop_\n_symmetry_equiv_pos_as_xyz\nx,y,z\n-x,-y,-z";
  throwsCif(cif(CUBIC5, "Fe Fe1 0.001 0 0 1", inv), /atoms overlap: site Fe1 \(Fe\) under operation '-x, -y, -z' lies 0\.0100 Å/);
  // Within siteTolerance the image is the same site (merged).
  assert.is(parseCif(cif(CUBIC5, "Fe Fe1 0.00001 0 0 1", inv)).length, 1);
  // Overlap across the periodic boundary.
  throwsCif(cif(CUBIC5, "Fe Fe1 0.999 0 0 1\nO O1 0.001 0 0 1"), /0\.0100 Å/);
});

test("errors: empty input, no data block, tag before data_", () => {
  throwsCif("", /the CIF text is empty/);
  throwsCif("  \n# only a comment\n", /no data block found/);
  throwsCif("_cell_length_a 5\n", /line 1: '_cell_length_a' appears before the first data_ block/);
});

test("errors: unclosed quote and text field, tag without value", () => {
  throwsCif("data_x\n_title 'open\n", /line 2: quoted value .* not closed/);
  throwsCif("data_x\n_title\n;never closed\n", /line 3: text field/);
  throwsCif(`data_x\n_cell_length_a\n_cell_length_b 5\n`, /line 2: tag _cell_length_a has no value/);
});

test("errors: a named space group without symmetry operations", () => {
  throwsCif(cif(CUBIC5, "Fe Fe1 0 0 0 1", "_symmetry_space_group_name_H-M 'F m -3 m'"), /'F m -3 m' but the block lists no symmetry operations/);
  assert.is(parseCif(cif(CUBIC5, "Fe Fe1 0 0 0 1", "_symmetry_space_group_name_H-M 'P 1'")).length, 1);
});

test("errors: malformed symmetry operation names the line", () => {
  throwsCif(cif(CUBIC5, "Fe Fe1 0 0 0 1", "loop_\n_symmetry_equiv_pos_as_xyz\n'x,y,q'"), /line 10: symmetry operation: .*x,y,q/);
});

test.run();
