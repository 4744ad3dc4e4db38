import { test } from "uvu";
import * as assert from "uvu/assert";
import { TableInputError } from "../../src/crystal/errors.ts";
import { dfToHtml, escapeHtml, formatCell, formatNumber, visibleRows } from "../../src/notebook/html_table.ts";
import { tableToText } from "../../src/notebook/display.ts";

test("escapeHtml escapes markup and quotes", () => {
  assert.is(escapeHtml(`<b a="x">Tom & 'Jerry'</b>`), "&lt;b a=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/b&gt;");
});

test("dfToHtml escapes cell values, column names and caption (no injected markup survives)", () => {
  const html = dfToHtml([{ "<col>": "<script>alert(1)</script>", n: 1 }], { caption: "a < b & c" });
  assert.not.match(html, "<script>alert(1)</script>");
  assert.match(html, "&lt;script&gt;alert(1)&lt;/script&gt;");
  assert.match(html, "<th>&lt;col&gt;</th>");
  assert.match(html, "<caption>a &lt; b &amp; c</caption>");
});

test("formatNumber: fixed decimals, integers as is, scientific for huge and tiny, NaN/inf", () => {
  assert.is(formatNumber(3.14159265, 4), "3.1416");
  assert.is(formatNumber(-0.5, 2), "-0.50");
  assert.is(formatNumber(42), "42");
  assert.is(formatNumber(42, 3, true), "42.000");
  assert.is(formatNumber(1.5e7 + 0.5, 3), "1.50e+7");
  assert.is(formatNumber(15000000), "15000000");
  assert.is(formatNumber(2.5e-9, 4), "2.500e-9");
  assert.is(formatNumber(0, 3, true), "0.000");
  assert.is(formatNumber(NaN), "NaN");
  assert.is(formatNumber(-Infinity), "-inf");
});

test("float columns format every value with the same decimals; int columns stay integers", () => {
  const html = dfToHtml([{ angle: 90, n: 4 }, { angle: 89.99812, n: 16 }], { precision: 3 });
  assert.match(html, ">90.000</td>");
  assert.match(html, ">89.998</td>");
  assert.match(html, ">16</td>");
  assert.not.match(html, ">16.000<");
  // Full precision is kept for sorting.
  assert.match(html, 'data-v="89.99812"');
});

test("dfToHtml reads a danfo-like DataFrame (columns, values, index) and right-aligns numbers", () => {
  const df = { columns: ["formula", "e_hull"], values: [["NaCl", 0], ["KCl", 0.0123456]], index: ["a", "b"] };
  const html = dfToHtml(df, { precision: 2 });
  assert.match(html, '<th class="idx">b</th><td>KCl</td><td class="num" data-v="0.0123456">0.01</td>');
  assert.match(html, '<th class="num">e_hull</th>');
  assert.match(html, "2 rows × 2 columns");
});

test("dfToHtml is deterministic and embeds a sort script bound to its own table id", () => {
  const rows = [{ x: 1 }, { x: 2 }];
  const a = dfToHtml(rows);
  assert.is(a, dfToHtml(rows));
  const id = /<table id="([^"]+)"/.exec(a)![1];
  assert.match(a, `document.getElementById("${id}")`);
  assert.match(dfToHtml(rows, { id: "mytable" }), '<table id="mytable"');
});

test("maxRows keeps head and tail around an elision row", () => {
  assert.equal(visibleRows(5, 10), [0, 1, 2, 3, 4]);
  assert.equal(visibleRows(10, 4), [0, 1, -1, 8, 9]);
  const rows = Array.from({ length: 100 }, (_, i) => ({ i }));
  const html = dfToHtml(rows, { maxRows: 6 });
  assert.is((html.match(/<tr>/g) ?? []).length, 1 + 6); // header + 6 data rows
  assert.match(html, 'class="elided"');
  assert.match(html, ">99</td>");
  assert.match(html, "100 rows × 1 columns");
});

test("formatCell: null empty, arrays bracketed, objects via toString or JSON", () => {
  assert.is(formatCell(null), "");
  assert.is(formatCell([1, 2.5], 1), "[1, 2.5]");
  assert.is(formatCell({ toString: () => "Structure NaCl" }), "Structure NaCl");
  assert.is(formatCell({ a: 1 }), '{"a":1}');
});

test("bad input and options raise TableInputError naming the problem", () => {
  assert.throws(() => dfToHtml(42 as never), (e: unknown) => e instanceof TableInputError && /DataFrame or an array/.test((e as Error).message));
  assert.throws(() => dfToHtml([1, 2] as never), (e: unknown) => e instanceof TableInputError && /Row 0/.test((e as Error).message));
  const isTableError = (e: unknown) => e instanceof TableInputError;
  assert.throws(() => dfToHtml([{ a: 1 }], { precision: -1 }), isTableError);
  assert.throws(() => dfToHtml([{ a: 1 }], { maxRows: 0 }), isTableError);
  assert.throws(() => dfToHtml([{ a: 1 }], { id: "1 bad" }), isTableError);
});

test("tableToText renders aligned plain text", () => {
  const text = tableToText([{ formula: "NaCl", v: 1.5 }, { formula: "K", v: 10.25 }], { precision: 2 });
  assert.equal(text.split("\n"), ["formula      v", "   NaCl   1.50", "      K  10.25"]);
});

test.run();
