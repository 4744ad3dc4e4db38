/**
 * The pymatgen lattice parity fixtures (test/fixtures/crystal/lattice_parity.json, 200 lattices
 * with pymatgen's LLL, Niggli, distances and points) and the matrix comparisons the lattice
 * tests share.
 */
import { readFileSync } from "node:fs";
import type { Mat3 } from "../../src/crystal/linalg.ts";

export interface LatticeFixture {
  source: string;
  matrix: Mat3;
  niggli: Mat3;
  niggliParams: number[];
  lll: Mat3;
  lllMapping: Mat3;
  distance: { frac1: number[]; frac2: number[]; distance: number; image: number[] };
  allDistances: number[][];
  points: number[][];
}

export const LATTICE_FIXTURES: LatticeFixture[] = JSON.parse(
  readFileSync(new URL("../fixtures/crystal/lattice_parity.json", import.meta.url), "utf8"),
).lattices;

/** Largest elementwise |a − b| of two matrices of the same shape. */
export const maxAbsDiff = (a: readonly (readonly number[])[], b: readonly (readonly number[])[]): number =>
  Math.max(...a.flatMap((r, i) => r.map((x, j) => Math.abs(x - b[i][j]))));
