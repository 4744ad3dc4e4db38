/**
 * Writes the matcher parity pairs (specs + both structures) as JSON for
 * scripts/parity/matcher_reference.py. Usage:
 *   node --import tsx scripts/parity/dump_matcher_pairs.ts /tmp/matcher_pairs.json [options]
 * With "options", writes the non-default-option pairs (`optionPairs`) instead.
 */
import { renameSync, writeFileSync } from "node:fs";
import type { Structure } from "../../src/crystal/structure.ts";
import { loadMp20 } from "../../test/crystal/matcher_data.ts";
import { buildPair, makePairSpecs, optionPairs, type PairSpec } from "../../test/crystal/matcher_pairs.ts";

export function structureJson(s: Structure): { lattice: number[][]; species: string[]; frac: number[][] } {
  return { lattice: s.lattice.matrix, species: [...s.species], frac: s.fracCoords.map((f) => [...f]) };
}

export function specRow(s: PairSpec): (string | number | boolean)[] {
  return [s.kind, s.a, s.b, s.seed, s.mag, s.reversed];
}

const out = process.argv[2] ?? "/tmp/matcher_pairs.json";
const rows = [...loadMp20("train"), ...loadMp20("val"), ...loadMp20("test")];
const byId = new Map(rows.map((r) => [r.materialId, r.structure]));
const specs = makePairSpecs(rows);
const entry = (spec: PairSpec) => {
  const [a, b] = buildPair(spec, byId);
  return { spec: specRow(spec), a: structureJson(a), b: structureJson(b) };
};
const pairs = process.argv[3] === "options" ? optionPairs(specs).map(({ spec, options }) => ({ ...entry(spec), options })) : specs.map(entry);
writeFileSync(`${out}.tmp`, JSON.stringify({ pairs }));
renameSync(`${out}.tmp`, out);
console.log(`${pairs.length} pairs → ${out}`);
