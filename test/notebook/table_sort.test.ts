/**
 * The inline sort script of dfToHtml, run in headless Chromium: clicking a header sorts the
 * rows numerically by full-precision value (not by the rounded text), clicking again reverses.
 * Skipped with a notice when Chromium is missing.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chromiumPath, hasChromium } from "../../src/notebook/browser.ts";
import { dfToHtml } from "../../src/notebook/html_table.ts";

const rows = [
  { formula: "NaCl", e_hull: 0.00004 },
  { formula: "KCl", e_hull: 10 },
  { formula: "LiF", e_hull: 0.00001 },
  { formula: "CsI", e_hull: 2 },
];

test("clicking a header sorts numerically, clicking again reverses", async () => {
  if (!hasChromium()) {
    console.log("NOTICE: no Chromium (apt-get install chromium): skipping the table sort test");
    return;
  }
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: ["--no-sandbox", "--disable-gpu"] });
  try {
    const page = await browser.newPage();
    // The two tiny values both round to "0.000": only data-v can order them.
    await page.setContent(`<html><body>${dfToHtml(rows, { id: "t", precision: 3 })}</body></html>`);
    const formulas = () => page.$$eval("#t tbody tr td:first-of-type", (tds) => tds.map((td) => td.textContent));
    await page.click("#t thead th:nth-child(3)");
    assert.equal(await formulas(), ["LiF", "NaCl", "CsI", "KCl"]);
    await page.click("#t thead th:nth-child(3)");
    assert.equal(await formulas(), ["KCl", "CsI", "NaCl", "LiF"]);
    await page.click("#t thead th:nth-child(2)");
    assert.equal(await formulas(), ["CsI", "KCl", "LiF", "NaCl"]);
  } finally {
    await browser.close();
  }
});

test.run();
