/**
 * Metrics under the seed's names on a small hand-built set with known answers: per-structure
 * rows, rates over all slots (decode failures count as failures), SUN/MSUN, CSV and DataFrame
 * output, the reference-feature disk cache, and bad inputs.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { RewardError } from "../../src/crystal/errors.ts";
import { Lattice } from "../../src/crystal/lattice.ts";
import { Structure } from "../../src/crystal/structure.ts";
import { loadDataset } from "../../src/data/datasets.ts";
import { ElementPropertyFeaturizer, referenceFeatures } from "../../src/metrics/featurizers.ts";
import { datasetFolderName, Metrics, METRIC_NAMES } from "../../src/metrics/metrics.ts";
import { tf } from "../../src/nn/tf.ts";
import { cesiumChloride, rockSalt, smallMetrics } from "./reward_fixtures.ts";

await tf.setBackend("cpu");

/** NaCl hull at −2 eV/atom, KBr at −1.5; the reference set holds NaCl (a = 5.64), LiF, MgO, CsCl. */
function generated(): (Structure | null)[] {
  return [
    rockSalt("Na", "Cl", 5.64, -2.0), // known (not novel), on the hull
    cesiumChloride("K", "Br", 3.9, -1.45), // unique, novel, 0.05 above the hull: metastable, not stable
    cesiumChloride("K", "Br", 3.9, -1.45), // duplicate of 1
    rockSalt("K", "Cl", 6.3, -2.0), // unique, novel, below the (element-only) K–Cl hull: stable
    null, // decode failure
    cesiumChloride("Na", "Br", 3.5, -0.2), // unique, novel; the Na–Br hull holds only the elements: −0.2, stable
  ];
}

test("per-structure metrics and rates over all slots", async () => {
  const result = await smallMetrics().compute(generated());
  const col = (n: string) => result.rows.map((r) => (r as Record<string, unknown>)[n]);
  assert.equal(col("unique"), [true, true, false, true, false, true]);
  assert.equal(col("novel"), [false, true, true, true, false, true]);
  const e = col("e_above_hull") as number[];
  [0, 0.05, 0.05, -2, NaN, -0.2].forEach((want, i) => assert.ok(Number.isNaN(want) ? Number.isNaN(e[i]) : Math.abs(e[i] - want) < 1e-9, `e[${i}] = ${e[i]}`));
  assert.equal(col("is_stable"), [true, false, false, true, false, true]);
  assert.equal(col("is_metastable"), [true, true, true, true, false, true]);
  assert.equal(col("sun"), [false, false, false, true, false, true]);
  assert.equal(col("msun"), [false, true, false, true, false, true]);
  assert.equal(col("composition_validity"), [true, true, true, true, false, true]);
  assert.equal(col("formula"), ["NaCl", "KBr", "KBr", "KCl", null, "NaBr"]);
  assert.is(result.summary.count, 6);
  assert.is(result.summary.valid_rate, 5 / 6);
  assert.is(result.summary.msun_rate, 3 / 6);
  assert.is(result.summary.sun_rate, 2 / 6);
  assert.is(result.summary.unique_rate, 4 / 6);
  const sd = col("structure_diversity") as number[];
  assert.ok(Number.isNaN(sd[4]) && sd.filter((_, i) => i !== 4).every(Number.isFinite));
  assert.ok(Number.isFinite(result.summary.structure_diversity) && Number.isFinite(result.summary.composition_diversity));
  assert.equal([...result.columns.keys()], [...METRIC_NAMES]);
});

test("overlapping atoms: neither unique nor novel (the matcher cannot read them), other metrics computed", async () => {
  const overlapping = new Structure(Lattice.cubic(4), ["Na", "Cl", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]], { properties: { energy: -1 } });
  const result = await smallMetrics().compute([overlapping, cesiumChloride("K", "Br", 3.9, -1.45)], ["unique", "novel", "e_above_hull"]);
  assert.equal(result.rows.map((r) => [r.unique, r.novel]), [[false, false], [true, true]]);
  assert.ok(Number.isFinite(result.rows[0].e_above_hull as number));
});

test("CSV (atomic write) and danfo DataFrame views", async () => {
  const result = await smallMetrics().compute(generated(), ["unique", "e_above_hull"]);
  const csv = result.toCSV().trim().split("\n");
  assert.is(csv[0], "index,formula,unique,e_above_hull");
  assert.is(csv[5], "4,,false,");
  const dir = mkdtempSync(join(tmpdir(), "metrics-"));
  try {
    result.writeCSV(join(dir, "m.csv"));
    assert.is(readFileSync(join(dir, "m.csv"), "utf8"), result.toCSV());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const df = (await result.toDataFrame()) as { shape: number[]; columns: string[] };
  assert.equal(df.shape, [6, 4]);
  assert.equal(df.columns, ["index", "formula", "unique", "e_above_hull"]);
});

test("a metrics cache computes each metric once and is shared by its users", async () => {
  const cache = smallMetrics().cache(generated());
  const a = cache.get("unique");
  assert.is(cache.get("unique"), a);
  await cache.get("msun");
  assert.ok(cache.seconds.unique !== undefined && cache.seconds.novel !== undefined && cache.seconds.e_above_hull !== undefined);
  assert.throws(() => cache.get("density" as never), (e: Error) => e instanceof RewardError && /unknown metric "density"/.test(e.message));
});

test("reference features are computed once per (data set, split, featuriser) and cached on disk", async () => {
  const dir = mkdtempSync(join(tmpdir(), "features-"));
  try {
    const f = new ElementPropertyFeaturizer();
    const m = await referenceFeatures(f, { dataset: "mp_20", split: "val", cacheDir: dir });
    const { records } = await loadDataset("mp_20", "val");
    assert.is(m.rows, records.length);
    assert.is(m.dim, f.dim);
    assert.equal(Array.from(m.data.subarray(0, f.dim)), Array.from(f.featurize([records[0].structure])[0]));
    const file = join(dir, "mp_20-val-element-properties.json");
    assert.ok(existsSync(file));
    const saved = JSON.parse(readFileSync(file, "utf8"));
    assert.is(saved.rows, records.length);
    assert.is(await referenceFeatures(f, { dataset: "mp_20", split: "val", cacheDir: dir }), m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("bad options; seed data-set names map to folders", () => {
  assert.throws(() => new Metrics({ metastableThreshold: NaN }), (e: Error) => e instanceof RewardError);
  assert.is(datasetFolderName("mp-20"), "mp_20");
});

test.run();
