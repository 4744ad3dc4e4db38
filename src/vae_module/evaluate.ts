/**
 * Reconstruction quality of a VAE: encode each structure (posterior mean), decode, and compare.
 *   - match rate:  fraction of inputs whose decoded structure matches the input under
 *                  StructureMatcher with pymatgen's default tolerances (ltol 0.2, stol 0.3,
 *                  angle_tol 5°, primitive cell, scaled volumes); the command line also
 *                  reports the looser tolerances of the seed's VAE config (ltol 0.3, stol 0.5,
 *                  angle_tol 10°, `seed_vae`), which is what Chemeleon2's VAE numbers use;
 *   - atom-type accuracy: fraction of sites whose argmax element equals the input element
 *                  (site order is kept through encode/decode, so this is per site);
 *   - invalid:     decodings that formed no lattice (reported with their reasons);
 *   - geometry match rate: the decoded lattice and positions given the input's elements
 *                  (site order is kept), matched with the primary matcher — separates
 *                  geometry errors from element errors.
 *
 * Command line (prints the summary as JSON, optionally writes it):
 *     node --import tsx src/vae_module/evaluate.ts ckpt=checkpoints/mp_20/vae split=test [output=eval.json]
 */
import { writeFileSync, renameSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { StructureMatcher } from "../crystal/structure_matcher.ts";
import type { Structure } from "../crystal/structure.ts";
import { CrystalDataLoader } from "../data/loader.ts";
import { toTensors, disposeBatch, type HostBatch } from "../data/batch.ts";
import { arraysToStructures, decodeArrays } from "./decode_structures.ts";
import { disposeAll, type VAEModule } from "./vae_module.ts";

export interface ReconstructionItem {
  index: number;
  formula: string;
  /** Matched under the primary (first) matcher. */
  matched: boolean;
  /** Matched under each named matcher. */
  matchedBy: Record<string, boolean>;
  /** Normalised RMS displacement of the best mapping under the primary matcher (matched items only). */
  rms: number | null;
  /** Matched (primary matcher) when the decoded geometry is given the input's elements. */
  geometryMatched: boolean;
  /** Sites whose predicted element is right / sites. */
  typeAccuracy: number;
  /** Why the decoding is no structure (invalid lattice), else undefined. */
  invalid?: string;
}

export interface ReconstructionReport {
  count: number;
  /** Match rate under the primary (first) matcher. */
  matchRate: number;
  /** Match rate under each named matcher. */
  matchRates: Record<string, number>;
  atomTypeAccuracy: number;
  /** Primary-matcher match rate of the decoded geometry given the true elements (a diagnostic). */
  geometryMatchRate: number;
  /** Structures whose every site got the right element. */
  compositionAccuracy: number;
  invalidCount: number;
  meanRms: number | null;
  items: ReconstructionItem[];
}

export interface EvaluateOptions {
  batchSize?: number;
  /**
   * Named matchers; the first is the primary one. Default: `{ default: new StructureMatcher() }`
   * (pymatgen's defaults). `seedMatchers()` adds the looser tolerances the seed's VAE config uses.
   */
  matchers?: Record<string, StructureMatcher>;
}

/** pymatgen defaults plus the seed's VAE-evaluation tolerances (ltol 0.3, stol 0.5, angle_tol 10). */
export function seedMatchers(): Record<string, StructureMatcher> {
  return { default: new StructureMatcher(), seed_vae: new StructureMatcher({ ltol: 0.3, stol: 0.5, angleTol: 10 }) };
}

/** Per-batch: decode the posterior means and compare with the inputs. */
function evaluateBatch(vae: VAEModule, host: HostBatch, inputs: readonly Structure[], offset: number, matchers: Record<string, StructureMatcher>): ReconstructionItem[] {
  const batch = toTensors(host);
  const pred = vae.reconstruct(batch, { sample: false });
  const arrays = decodeArrays(pred, batch.mask);
  disposeAll(pred);
  disposeBatch(batch);
  const decoded = arraysToStructures(arrays);
  return decoded.map((d, b) => {
    const n = host.maxAtoms;
    let right = 0;
    for (let i = 0; i < host.numAtoms[b]; i++) if (arrays.atomTypes[b * n + i] === host.atomTypes[b * n + i]) right += 1;
    const input = inputs[b];
    const names = Object.keys(matchers);
    const item: ReconstructionItem = {
      index: offset + b,
      formula: input.composition.reducedFormula,
      matched: false,
      matchedBy: Object.fromEntries(names.map((k) => [k, false])),
      geometryMatched: false,
      rms: null,
      typeAccuracy: right / host.numAtoms[b],
    };
    if (!d.structure) return { ...item, invalid: d.reason };
    const rms = names.map((k) => safeRms(matchers[k], input, d.structure!));
    const matchedBy = Object.fromEntries(names.map((k, i) => [k, rms[i] !== null]));
    // Geometry alone: the decoded cell and positions carrying the input's elements.
    const withTrueTypes = d.structure.copy({ species: input.species });
    const geometryMatched = safeRms(matchers[names[0]], input, withTrueTypes) !== null;
    return { ...item, matched: rms[0] !== null, matchedBy, geometryMatched, rms: rms[0]?.[0] ?? null };
  });
}

/** Matching throws for degenerate decodings (overlapping atoms); those count as not matched. */
function safeRms(matcher: StructureMatcher, a: Structure, b: Structure): [number, number] | null {
  try {
    return matcher.getRmsDist(a, b);
  } catch {
    return null;
  }
}

/** Reconstruction metrics over `structures` (deterministic: posterior means, fixed order). */
export function evaluateReconstruction(vae: VAEModule, structures: readonly Structure[], opts: EvaluateOptions = {}): ReconstructionReport {
  const matchers = opts.matchers ?? { default: new StructureMatcher() };
  const batchSize = opts.batchSize ?? 32;
  const loader = new CrystalDataLoader(structures, { batchSize, maxAtoms: vae.config.maxAtoms });
  const items: ReconstructionItem[] = [];
  const wasTraining = vae.training;
  vae.eval();
  for (const host of loader.epoch()) {
    items.push(...evaluateBatch(vae, host, structures.slice(items.length, items.length + host.batchSize), items.length, matchers));
  }
  vae.train(wasTraining);
  return summarise(items, structures, Object.keys(matchers));
}

function summarise(items: ReconstructionItem[], structures: readonly Structure[], names: string[]): ReconstructionReport {
  const totalSites = structures.reduce((n, s) => n + s.length, 0);
  const rightSites = items.reduce((n, it, i) => n + it.typeAccuracy * structures[i].length, 0);
  const rms = items.filter((it) => it.rms !== null).map((it) => it.rms!);
  return {
    count: items.length,
    matchRate: items.filter((it) => it.matched).length / items.length,
    matchRates: Object.fromEntries(names.map((k) => [k, items.filter((it) => it.matchedBy[k]).length / items.length])),
    atomTypeAccuracy: rightSites / totalSites,
    geometryMatchRate: items.filter((it) => it.geometryMatched).length / items.length,
    compositionAccuracy: items.filter((it) => it.typeAccuracy === 1).length / items.length,
    invalidCount: items.filter((it) => it.invalid).length,
    meanRms: rms.length ? rms.reduce((a, b) => a + b, 0) / rms.length : null,
    items,
  };
}

async function main(args: string[]): Promise<void> {
  const opts = Object.fromEntries(args.map((a) => a.split("=", 2) as [string, string]));
  const { initBackend } = await import("../nn/backend.ts");
  const { loadDataset } = await import("../data/datasets.ts");
  const { loadVAE } = await import("./vae_checkpoint.ts");
  await initBackend();
  const { vae, checkpoint } = await loadVAE(opts.ckpt ?? "checkpoints/mp_20/vae");
  const dataset = opts.dataset ?? "mp_20";
  const split = opts.split ?? "test";
  const structures = (await loadDataset(dataset, split)).records.map((r) => r.structure).filter((s) => s.length <= vae.config.maxAtoms);
  const t0 = performance.now();
  const report = evaluateReconstruction(vae, structures, { matchers: seedMatchers() });
  const summary = {
    checkpoint: checkpoint.dir,
    step: checkpoint.meta.step,
    dataset: `${dataset}/${split}`,
    count: report.count,
    matchRate: report.matchRate,
    matchRates: report.matchRates,
    atomTypeAccuracy: report.atomTypeAccuracy,
    compositionAccuracy: report.compositionAccuracy,
    geometryMatchRate: report.geometryMatchRate,
    invalidCount: report.invalidCount,
    meanRms: report.meanRms,
    seconds: (performance.now() - t0) / 1000,
  };
  console.log(JSON.stringify(summary, null, 2));
  if (opts.output) {
    const tmp = `${opts.output}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify({ ...summary, items: report.items }, null, 1));
    renameSync(tmp, opts.output);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
    process.exit(1);
  });
}
