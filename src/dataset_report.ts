/**
 * Data set report: the end-to-end check the crystal core can run on its own (parse every CIF,
 * formulas, space groups, convex hull, uniqueness/novelty), written to `outputs/<run>/`.
 * It is what `npm start` runs until the RL stage lands.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PhaseDiagram } from "./crystal/phase_diagram.ts";
import { getSpaceGroupNumber } from "./crystal/symmetry.ts";
import { loadDataset, type DatasetRecord } from "./data/datasets.ts";
import { isUnique, ReferenceIndex } from "./metrics/novelty.ts";

export interface DatasetReportOptions {
  dataset?: string;
  outputDir: string;
  symprec?: number;
  log?: (line: string) => void;
}

export interface SplitSummary {
  split: string;
  rows: number;
  badRows: number;
  reducedFormulaAgreement: number;
  spaceGroupAgreement: number;
  spaceGroupMisses: { materialId: string; ours: number; column: number }[];
}

/** Fraction of records where `ours(record)` equals the record's column value (rows without the column are left out). */
function agreement(records: DatasetRecord[], column: string, ours: (r: DatasetRecord) => unknown): { rate: number; misses: DatasetRecord[] } {
  const withColumn = records.filter((r) => r.properties[column] !== undefined && r.properties[column] !== null);
  const misses = withColumn.filter((r) => ours(r) !== r.properties[column]);
  return { rate: withColumn.length ? 1 - misses.length / withColumn.length : NaN, misses };
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

function summariseSplit(split: string, records: DatasetRecord[], badRows: number, symprec: number): SplitSummary {
  const formulas = agreement(records, "pretty_formula", (r) => r.structure.composition.reducedFormula);
  const sgOf = new Map(records.map((r) => [r, getSpaceGroupNumber(r.structure, { symprec })]));
  const sg = agreement(records, "spacegroup.number", (r) => sgOf.get(r));
  return {
    split,
    rows: records.length,
    badRows,
    reducedFormulaAgreement: formulas.rate,
    spaceGroupAgreement: sg.rate,
    spaceGroupMisses: sg.misses.map((r) => ({ materialId: r.materialId, ours: sgOf.get(r)!, column: Number(r.properties["spacegroup.number"]) })),
  };
}

/** Hull from train+val formation energies (elements at 0 eV/atom); e_above_hull of each test row. */
function hullOfTest(reference: DatasetRecord[], test: DatasetRecord[]): { materialId: string; formula: string; eAboveHull: number }[] {
  const entries = reference
    .filter((r) => typeof r.properties.formation_energy_per_atom === "number")
    .map((r) => ({ composition: r.structure.composition, energyPerAtom: r.properties.formation_energy_per_atom as number, id: r.materialId }));
  const pd = new PhaseDiagram(entries, { elementalZero: true });
  return test
    .filter((r) => typeof r.properties.formation_energy_per_atom === "number")
    .map((r) => ({
      materialId: r.materialId,
      formula: r.structure.composition.reducedFormula,
      eAboveHull: pd.getEAboveHull(r.structure.composition, r.properties.formation_energy_per_atom as number),
    }));
}

export async function runDatasetReport(options: DatasetReportOptions): Promise<Record<string, unknown>> {
  const { dataset = "mp_20", outputDir, symprec = 0.1, log = console.log } = options;
  mkdirSync(outputDir, { recursive: true });
  const splits: Record<string, DatasetRecord[]> = {};
  const summaries: SplitSummary[] = [];
  for (const split of ["train", "val", "test"]) {
    const t0 = Date.now();
    const { records, badRows } = await loadDataset(dataset, split, { onBadRow: "skip" });
    splits[split] = records;
    const s = summariseSplit(split, records, badRows.length, symprec);
    summaries.push(s);
    log(
      `${dataset}/${split}: ${s.rows} structures (${s.badRows} bad rows), reduced formula = pretty_formula ${(100 * s.reducedFormulaAgreement).toFixed(2)} %, ` +
        `space group = column ${(100 * s.spaceGroupAgreement).toFixed(2)} % (symprec ${symprec}) [${((Date.now() - t0) / 1000).toFixed(1)} s]`,
    );
  }
  const hull = hullOfTest([...splits.train, ...splits.val], splits.test);
  const onHull = hull.filter((h) => h.eAboveHull <= 1e-6).length;
  log(`hull of train+val formation energies: ${onHull}/${hull.length} test structures on or below it`);
  const t0 = Date.now();
  const index = ReferenceIndex.build(splits.train.map((r) => r.structure), { ids: splits.train.map((r) => r.materialId) });
  const testStructures = splits.test.map((r) => r.structure);
  const novel = testStructures.map((s) => index.isNovel(s));
  const unique = isUnique(testStructures);
  const rate = (xs: boolean[]) => xs.filter(Boolean).length / xs.length;
  log(`test vs train: novel ${(100 * rate(novel)).toFixed(1)} %, unique ${(100 * rate(unique)).toFixed(1)} % [${((Date.now() - t0) / 1000).toFixed(1)} s]`);
  const report = { dataset, symprec, splits: summaries, test: { novelRate: rate(novel), uniqueRate: rate(unique), onHull, hullQueries: hull.length } };
  writeAtomic(join(outputDir, "report.json"), JSON.stringify(report, null, 2));
  const csv = ["material_id,reduced_formula,e_above_hull_vs_train_val,novel,unique"].concat(
    splits.test.map((r, i) => {
      const h = hull.find((x) => x.materialId === r.materialId);
      return [r.materialId, r.structure.composition.reducedFormula, h ? h.eAboveHull.toFixed(6) : "", novel[i], unique[i]].join(",");
    }),
  );
  writeAtomic(join(outputDir, "test_structures.csv"), `${csv.join("\n")}\n`);
  log(`wrote ${join(outputDir, "report.json")} and test_structures.csv`);
  return report;
}
