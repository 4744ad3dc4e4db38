/**
 * Quality of generated crystals, the standard de novo generation metrics (CDVAE / DiffCSP /
 * Chemeleon2 on MP-20):
 *  - decoded: the VAE produced a cell at all (non-degenerate lattice, finite numbers);
 *  - structural validity: every pair of distinct sites further apart than 0.5 Å (minimum
 *    image) and a volume above 0.1 Å³ per atom;
 *  - composition validity: SMACT-style charge neutrality (metrics/composition_validity.ts);
 *  - uniqueness: no earlier generated structure matches (StructureMatcher, pymatgen defaults);
 *  - novelty: no structure of the reference set (MP-20 train) matches.
 * Rates are over all requested samples: an undecodable slot counts as invalid, not unique and
 * not novel. Uniqueness and novelty are judged among the structurally valid samples (the
 * matcher cannot compare cells with overlapping sites); an invalid sample is neither.
 *
 *     const report = evaluateGenerated(structures, { reference: await ReferenceIndex.fromDataset("mp_20", "train") });
 */
import type { Structure } from "../crystal/structure.ts";
import { compositionValidity } from "../metrics/composition_validity.ts";
import { isUnique, type ReferenceIndex } from "../metrics/novelty.ts";

/** Minimum interatomic distance (Å) and volume per atom (Å³) of a structurally valid crystal. */
export const MIN_DISTANCE = 0.5;
export const MIN_VOLUME_PER_ATOM = 0.1;

/** Per-structure verdicts (null where the slot holds no decoded structure). */
export interface GeneratedRow {
  index: number;
  formula: string | null;
  numAtoms: number | null;
  structural: boolean;
  composition: boolean;
  unique: boolean;
  /** Undefined when no reference set was given. */
  novel?: boolean;
}

export interface GenerationReport {
  /** Requested samples (including undecodable ones). */
  count: number;
  decodedRate: number;
  structuralValidity: number;
  compositionValidity: number;
  /** Structurally and compositionally valid. */
  validity: number;
  uniqueness: number;
  /** Over all samples; undefined without a reference set. */
  novelty?: number;
  /** Unique and novel. */
  uniqueNovel?: number;
  rows: GeneratedRow[];
  seconds: number;
}

/** All distinct-site distances > 0.5 Å (minimum image) and volume > 0.1 Å³ per atom. */
export function isStructurallyValid(s: Structure): boolean {
  return Number.isFinite(s.volume) && s.volumePerAtom > MIN_VOLUME_PER_ATOM && s.isValid(MIN_DISTANCE);
}

/** SMACT-style charge neutrality; false (not an exception) for exotic inputs it cannot judge. */
function safeCompositionValidity(s: Structure): boolean {
  try {
    return compositionValidity(s);
  } catch {
    return false;
  }
}

function rate(flags: readonly boolean[], total: number): number {
  return total === 0 ? 0 : flags.filter(Boolean).length / total;
}

export interface EvaluateOptions {
  /** Reference set for novelty (e.g. `ReferenceIndex.fromDataset("mp_20", "train")`). */
  reference?: ReferenceIndex;
  /** Called after each stage with its name (for progress output). */
  onStage?: (stage: string) => void;
}

/** Scores a generated set; `structures[i] === null` marks an undecodable sample. */
export function evaluateGenerated(structures: readonly (Structure | null)[], options: EvaluateOptions = {}): GenerationReport {
  const t0 = performance.now();
  const present = structures.map((s, i) => ({ s, i })).filter((x): x is { s: Structure; i: number } => x.s !== null);
  const structural = present.map(({ s }) => isStructurallyValid(s));
  const composition = present.map(({ s }) => safeCompositionValidity(s));
  options.onStage?.("validity");
  // The matcher needs sane cells (it rejects overlapping sites), so uniqueness and novelty are
  // judged among the structurally valid samples; an invalid one is neither unique nor novel.
  const validIdx = present.map((_, k) => k).filter((k) => structural[k]);
  const uniqueValid = isUnique(validIdx.map((k) => present[k].s));
  const unique = present.map(() => false);
  validIdx.forEach((k, j) => (unique[k] = uniqueValid[j]));
  options.onStage?.("uniqueness");
  const novel = options.reference ? present.map(({ s }, k) => structural[k] && options.reference!.isNovel(s)) : undefined;
  options.onStage?.("novelty");
  const rows: GeneratedRow[] = structures.map((s, index) => ({ index, formula: s?.composition.reducedFormula ?? null, numAtoms: s?.length ?? null, structural: false, composition: false, unique: false }));
  present.forEach(({ i }, k) => {
    Object.assign(rows[i], { structural: structural[k], composition: composition[k], unique: unique[k] });
    if (novel) rows[i].novel = novel[k];
  });
  const n = structures.length;
  const both = present.map((_, k) => structural[k] && composition[k]);
  return {
    count: n,
    decodedRate: present.length / Math.max(n, 1),
    structuralValidity: rate(structural, n),
    compositionValidity: rate(composition, n),
    validity: rate(both, n),
    uniqueness: rate(unique, n),
    novelty: novel ? rate(novel, n) : undefined,
    uniqueNovel: novel ? rate(present.map((_, k) => unique[k] && novel[k]), n) : undefined,
    rows,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** One line per metric, for logs and the README. */
export function formatGenerationReport(r: GenerationReport): string {
  const pct = (x: number | undefined) => (x === undefined ? "n/a" : `${(100 * x).toFixed(1)} %`);
  return [
    `samples              ${r.count}`,
    `decoded              ${pct(r.decodedRate)}`,
    `structural validity  ${pct(r.structuralValidity)}`,
    `composition validity ${pct(r.compositionValidity)}`,
    `valid (both)         ${pct(r.validity)}`,
    `uniqueness           ${pct(r.uniqueness)}`,
    `novelty              ${pct(r.novelty)}`,
    `unique & novel       ${pct(r.uniqueNovel)}`,
  ].join("\n");
}
