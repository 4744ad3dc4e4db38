import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseCifBlocks } from "../../../src/crystal/io/cif_syntax.ts";
import { CifParseError } from "../../../src/crystal/errors.ts";

const TEXT = `#\\#CIF_1.1
data_first
_Author_Name 'O'Brien, P.'
_title "a 'quoted' title"
_atom_site.fract_x 0.5
_note
;line one
line two
;
save_frame
_inside_frame 1
save_
loop_
 _a _b
 1 'x y'   # comment between values
 2 ;no-text-field-here
 3 "q"
global_
data_second
_z ?
`;

test("blocks, quoting rules, text fields, dotted tags, loops and save frames", () => {
  const [a, b] = parseCifBlocks(TEXT.replace("2 ;no-text-field-here", "2 x"));
  assert.is(a.name, "first");
  assert.is(a.items.get("_author_name")!.values[0], "O'Brien, P.");
  assert.is(a.items.get("_title")!.values[0], "a 'quoted' title");
  assert.is(a.items.get("_atom_site_fract_x")!.values[0], "0.5");
  assert.is(a.items.get("_note")!.values[0], "line one\nline two");
  assert.is(a.items.has("_inside_frame"), false);
  assert.equal(a.items.get("_a")!.values, ["1", "2", "3"]);
  assert.equal(a.items.get("_b")!.values, ["x y", "x", "q"]);
  assert.equal(a.items.get("_b")!.lines, [15, 16, 17]);
  assert.is(a.items.get("_a")!.loop, 0);
  assert.is(a.items.get("_title")!.loop, -1);
  assert.is(b.name, "second");
  assert.is(b.line, 19);
  assert.equal(b.items.get("_z")!.values, ["?"]);
});

test("a ';' that does not start a line is an ordinary value character", () => {
  const [a] = parseCifBlocks(TEXT);
  assert.equal(a.items.get("_b")!.values, ["x y", ";no-text-field-here", "q"]);
});

test("CRLF line endings parse like LF", () => {
  const [a] = parseCifBlocks(TEXT.replace(/\n/g, "\r\n"));
  assert.is(a.items.get("_note")!.values[0], "line one\nline two");
  assert.equal(a.items.get("_b")!.lines, [15, 16, 17]);
});

test("syntax errors carry source and line", () => {
  const cases: [string, RegExp][] = [
    ["data_x\n_a 1\n_A 2\n", /s\.cif: line 3: tag _A appears twice/],
    ["data_x\n_a 1 2\n", /line 2: value '2' has no tag/],
    ["data_x\nloop_\n1 2\n", /line 2: loop_ has no tags/],
    ["data_x\nloop_\n_a\n_b\n1 2 3\n", /line 2: truncated loop: 3 values for 2 columns \(_a, _b\)/],
    ["data_x\nsave_f\n_a 1\n", /line 2: save frame save_f is not closed/],
  ];
  for (const [text, pattern] of cases)
    assert.throws(() => parseCifBlocks(text, { source: "s.cif" }), (e: unknown) => e instanceof CifParseError && pattern.test((e as Error).message), String(pattern));
});

test.run();
