import { test } from "uvu";
import * as assert from "uvu/assert";
import { ELEMENTS, Element, getElement, isElementSymbol } from "../../src/crystal/elements.ts";
import { ElementError } from "../../src/crystal/errors.ts";

test("all 118 elements, indexed by atomic number", () => {
  assert.is(ELEMENTS.length, 118);
  ELEMENTS.forEach((e, i) => assert.is(e.Z, i + 1));
  assert.is(new Set(ELEMENTS.map((e) => e.symbol)).size, 118);
  assert.is(ELEMENTS[0].symbol, "H");
  assert.is(ELEMENTS[117].symbol, "Og");
});

test("lookup by symbol and by Z return the same object", () => {
  const fe = getElement("Fe");
  assert.ok(fe instanceof Element);
  assert.is(getElement(26), fe);
  assert.is(fe.name, "Iron");
  assert.is(fe.atomicMass, 55.845);
  assert.is(fe.X, 1.83); // pymatgen's Pauling value
  assert.equal(fe.commonOxidationStates, [2, 3]);
  assert.equal([fe.row, fe.group, fe.block], [4, 8, "d"]);
  assert.is(String(fe), "Fe");
});

test("values match pymatgen 2022.11 for a few spot checks", () => {
  const o = getElement("O");
  assert.is(o.X, 3.44);
  assert.is(o.atomicMass, 15.9994);
  assert.equal(o.commonOxidationStates, [-2]);
  assert.is(getElement("Li").covalentRadius, 1.28); // Cordero et al. 2008
  assert.is(getElement("C").covalentRadius, 0.73);
  const la = getElement("La");
  assert.equal([la.row, la.group, la.block], [6, 3, "f"]);
  assert.ok(la.isLanthanoid && !la.isActinoid);
  assert.equal(getElement("H").icsdOxidationStates, [1, -1]);
});

test("elements without Pauling electronegativity have X = NaN, like pymatgen", () => {
  for (const s of ["He", "Ne", "Ar"]) assert.ok(Number.isNaN(getElement(s).X), s);
  assert.ok(Number.isFinite(getElement("Kr").X), "Kr has X = 3.0 in pymatgen");
  assert.ok(getElement("Xe").isNobleGas);
  // Every element has a finite positive mass and a known block.
  for (const e of ELEMENTS) {
    assert.ok(e.atomicMass > 0 && Number.isFinite(e.atomicMass), e.symbol);
    assert.ok(["s", "p", "d", "f"].includes(e.block), e.symbol);
  }
  assert.is(getElement("Og").atomicMass, 294, "pymatgen's typo 2949 corrected");
});

test("isElementSymbol is exact and case-sensitive", () => {
  assert.ok(isElementSymbol("Fe"));
  assert.not.ok(isElementSymbol("FE"));
  assert.not.ok(isElementSymbol("fe"));
  assert.not.ok(isElementSymbol(" Fe"));
  assert.not.ok(isElementSymbol("Xx"));
});

test("unknown symbol or Z throws ElementError naming it, with a case hint", () => {
  const expectError = (input: string | number, re: RegExp) =>
    assert.throws(() => getElement(input), (e: unknown) => e instanceof ElementError && re.test((e as Error).message), String(input));
  expectError("FE", /"FE".*Did you mean "Fe"\?/);
  expectError("fe", /Did you mean "Fe"\?/);
  expectError("Xx", /Unknown element symbol "Xx"/);
  expectError(0, /atomic number 0/);
  expectError(119, /1 to 118/);
  expectError(2.5, /integer/);
});

test.run();
