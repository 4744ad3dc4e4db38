import { test } from "uvu";
import * as assert from "uvu/assert";
import { elementFromSymbolText, elementFromTypeSymbol } from "../../../src/crystal/io/species_symbol.ts";

test("type symbols: element plus an optional charge, any capitalisation", () => {
  const cases: [string, string | undefined][] = [
    ["Fe", "Fe"], ["Fe2+", "Fe"], ["O2-", "O"], ["Fe+3", "Fe"], ["FE", "Fe"], ["o", "O"], ["D", "H"],
    ["Xx", undefined], ["Fe(II)", undefined], ["1Fe", undefined], ["", undefined],
  ];
  for (const [text, want] of cases) assert.is(elementFromTypeSymbol(text), want, text);
});

test("labels: two letters when they form an element, else one (pymatgen's rule)", () => {
  const cases: [string, string | undefined][] = [
    ["Ca1", "Ca"], ["C1", "C"], ["Cs2", "Cs"], ["Co3a", "Co"], ["O2a", "O"], ["OW1", "O"], ["Q1", undefined], ["1Fe", undefined],
  ];
  for (const [text, want] of cases) assert.is(elementFromSymbolText(text), want, text);
});

test.run();
