/**
 * Property values for a property-conditioned LDM run (`data.target_condition: band_gap`):
 * which data set rows can condition the model, and the `y` of each batch a loader yields.
 *
 *     const { records, y } = conditionValues(allRecords, "band_gap");
 *     const loader = new CrystalDataLoader(records.map((r) => r.structure), { ... });
 *     for (const host of loader.epoch()) ldm.trainingStep(toTensors(host), opt, { y: batchConditionValues(loader, host, y) });
 */
import { ConfigError } from "../config/errors.ts";
import type { DatasetRecord } from "../data/datasets.ts";
import type { HostBatch } from "../data/batch.ts";
import type { CrystalDataLoader } from "../data/loader.ts";

/**
 * The records that have a finite value of `property`, and those values in the same order.
 * A column missing from the data set is a ConfigError naming `data.target_condition`; rows
 * without a value (empty, NaN) cannot condition anything and are left out (`skipped` counts them).
 */
export function conditionValues(records: readonly DatasetRecord[], property: string): { records: DatasetRecord[]; y: Float32Array; skipped: number } {
  if (records.length > 0 && !(property in records[0].properties)) {
    throw new ConfigError(`column "${property}" is not in the data set; its columns are ${Object.keys(records[0].properties).join(", ")}.`, "data.target_condition");
  }
  const kept = records.filter((r) => typeof r.properties[property] === "number" && Number.isFinite(r.properties[property]));
  return { records: kept, y: Float32Array.from(kept, (r) => r.properties[property] as number), skipped: records.length - kept.length };
}

/**
 * Values of the batch `loader` has just yielded (call inside the loop body): the loader's
 * state puts its cursor right after that batch, in the order of its structures list.
 */
export function batchConditionValues(loader: CrystalDataLoader, host: HostBatch, values: Float32Array | null): number[] | null {
  if (!values) return null;
  const { order, cursor } = loader.getState();
  return order.slice(cursor - host.batchSize, cursor).map((i) => values[i]);
}
