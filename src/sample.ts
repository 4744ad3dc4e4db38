/**
 * Generate crystals with a trained LDM and write them out.
 *
 *     npm run sample -- num_samples=100 output_dir=outputs/samples
 *     node --import tsx src/sample.ts num_samples=1000 output_dir=DIR ldm_ckpt_path=outputs/run/checkpoints/best \
 *          sampling_configs.sampling_steps=50 sampling_configs.eta=1 seed=0 evaluate=true
 *
 * Writes under `output_dir`: one CIF per decoded structure (`0000_NaCl.cif`, ...),
 * `structures.json` (a list of pymatgen `Structure.as_dict()` dicts, null where the decoder gave
 * no valid cell), and `summary.json` (settings, timings, and — with `evaluate=true`, the
 * default — validity / uniqueness / novelty from src/ldm_module/evaluate.ts). Every file is
 * written to a temporary name and renamed.
 *
 * Keys (`key=value`; the seed's `sampling_configs.` prefix is accepted for the sampling keys):
 *   ldm_ckpt_path (default ${hub:mp_20_ldm_base}), vae_ckpt_path (default: the LDM's own),
 *   num_samples (100), output_dir (outputs/samples/<time>), batch_size (100), seed (0),
 *   sampler (ddim), sampling_steps (50), eta (1), cfg_scale (1), evaluate (true),
 *   condition_value (null; the property value to ask a property-conditioned LDM for, e.g.
 *   `condition_value=3.0 cfg_scale=2` for band gap 3 eV with classifier-free guidance),
 *   reference_dataset (mp_20: novelty against its train split), progress (true).
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { initBackend } from "./nn/backend.ts";
import { Rng } from "./nn/rng.ts";
import { ConfigError } from "./config/errors.ts";
import { resolveHub } from "./config/hub.ts";
import { didYouMean } from "./config/suggest.ts";
import { structureToCif } from "./crystal/io/cif.ts";
import { structureToPymatgenDict } from "./crystal/io/pymatgen_dict.ts";
import type { Structure } from "./crystal/structure.ts";
import { ReferenceIndex } from "./metrics/novelty.ts";
import { LDMModule } from "./ldm_module/ldm_module.ts";
import { disposeSampleResult, type LDMSampleOptions } from "./ldm_module/ldm_sampling.ts";
import { evaluateGenerated, formatGenerationReport } from "./ldm_module/evaluate.ts";

interface SampleSettings {
  ldm_ckpt_path: string;
  vae_ckpt_path: string | null;
  num_samples: number;
  output_dir: string;
  batch_size: number;
  seed: number;
  sampler: "ddim" | "ddpm";
  sampling_steps: number;
  eta: number;
  cfg_scale: number;
  /** Ours: target value of a property-conditioned LDM (e.g. band gap 3.0), the same for every sample. */
  condition_value: number | null;
  evaluate: boolean;
  reference_dataset: string;
  progress: boolean;
}

const DEFAULTS: SampleSettings = {
  ldm_ckpt_path: "${hub:mp_20_ldm_base}",
  vae_ckpt_path: null,
  num_samples: 100,
  output_dir: "",
  batch_size: 100,
  seed: 0,
  sampler: "ddim",
  sampling_steps: 50,
  eta: 1,
  cfg_scale: 1,
  condition_value: null,
  evaluate: true,
  reference_dataset: "mp_20",
  progress: true,
};

function parseValue(key: keyof SampleSettings, text: string): unknown {
  const kind = key === "condition_value" ? (text === "null" ? "object" : "number") : typeof DEFAULTS[key];
  if (kind === "number") {
    const v = Number(text);
    if (text === "" || !Number.isFinite(v)) throw new ConfigError(`must be a number, got "${text}".`, key);
    return v;
  }
  if (kind === "boolean") {
    if (text !== "true" && text !== "false") throw new ConfigError(`must be true or false, got "${text}".`, key);
    return text === "true";
  }
  return text === "null" ? null : text;
}

/** `key=value` arguments → settings; unknown keys are ConfigErrors with suggestions. */
function parseSampleArgs(argv: readonly string[]): SampleSettings {
  const s: Record<string, unknown> = { ...DEFAULTS };
  for (const arg of argv) {
    const eq = arg.indexOf("=");
    if (eq <= 0) throw new ConfigError(`expected key=value, got "${arg}".`, arg);
    const key = arg.slice(0, eq).replace(/^\+/, "").replace(/^sampling_configs\./, "");
    if (!(key in DEFAULTS)) throw new ConfigError(`unknown key.${didYouMean(key, Object.keys(DEFAULTS))} Known keys: ${Object.keys(DEFAULTS).join(", ")}.`, key);
    s[key] = parseValue(key as keyof SampleSettings, arg.slice(eq + 1));
  }
  const out = s as unknown as SampleSettings;
  if (!Number.isInteger(out.num_samples) || out.num_samples < 1) throw new ConfigError(`must be a positive integer, got ${out.num_samples}.`, "num_samples");
  if (!Number.isInteger(out.batch_size) || out.batch_size < 1) throw new ConfigError(`must be a positive integer, got ${out.batch_size}.`, "batch_size");
  if (!out.output_dir) out.output_dir = join("outputs", "samples", new Date().toISOString().replace(/[:.]/g, "-"));
  return out;
}

/** `${hub:NAME}` → the bundled directory; other strings are paths. */
function resolveCkpt(path: string): string {
  const hub = /^\$\{hub:([^}]+)\}$/.exec(path);
  return hub ? resolveHub(hub[1]) : path;
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Samples `num_samples` structures in batches of sizes sorted ascending (less padding). */
function generate(ldm: LDMModule, s: SampleSettings): { structures: (Structure | null)[]; seconds: number } {
  const rng = new Rng(s.seed);
  const sizes = ldm.sampleNumAtoms(s.num_samples, rng.fork("num_atoms")).sort((a, b) => a - b);
  const noise = rng.fork("sampling");
  const opts: LDMSampleOptions = { sampler: s.sampler, sampling_steps: s.sampling_steps, eta: s.eta, cfg_scale: s.cfg_scale, rng: noise };
  const structures: (Structure | null)[] = [];
  const t0 = performance.now();
  for (let start = 0; start < sizes.length; start += s.batch_size) {
    const numAtoms = sizes.slice(start, start + s.batch_size);
    const y = s.condition_value === null ? null : numAtoms.map(() => s.condition_value as number);
    const out = ldm.sample({ numAtoms, y }, opts);
    structures.push(...out.batchGen.structures);
    disposeSampleResult(out);
    if (s.progress) process.stderr.write(`\rsampled ${structures.length}/${sizes.length}`);
  }
  if (s.progress) process.stderr.write("\n");
  return { structures, seconds: (performance.now() - t0) / 1000 };
}

function writeStructures(dir: string, structures: readonly (Structure | null)[]): void {
  const width = String(structures.length - 1).length;
  structures.forEach((st, i) => {
    if (st) writeAtomic(join(dir, `${String(i).padStart(Math.max(4, width), "0")}_${st.composition.reducedFormula}.cif`), structureToCif(st));
  });
  writeAtomic(join(dir, "structures.json"), JSON.stringify(structures.map((st) => (st ? structureToPymatgenDict(st) : null))));
}

/** condition_value needs a property-conditioned LDM (a composition or no condition cannot take one number). */
function checkConditionValue(ldm: LDMModule, s: SampleSettings): void {
  const cond = ldm.hparams.denoiser.condition;
  if (s.condition_value !== null && cond?.type !== "property") {
    throw new ConfigError(`this LDM is ${cond ? "composition-conditioned" : "unconditional"}; condition_value needs an LDM trained with a property condition (e.g. experiment=mp_20/ldm_bandgap).`, "condition_value");
  }
}

async function main(): Promise<void> {
  const s = parseSampleArgs(process.argv.slice(2));
  const info = await initBackend();
  const ldm = await LDMModule.loadFromCheckpoint(resolveCkpt(s.ldm_ckpt_path), s.vae_ckpt_path ? { vaeCkptPath: resolveCkpt(s.vae_ckpt_path) } : {});
  checkConditionValue(ldm, s);
  console.log(`backend ${info.backend}; LDM ${ldm.numParameters()} parameters; sampling ${s.num_samples} with ${s.sampler}${s.sampling_steps}, eta ${s.eta}`);
  const { structures, seconds } = generate(ldm, s);
  mkdirSync(s.output_dir, { recursive: true });
  writeStructures(s.output_dir, structures);
  const summary: Record<string, unknown> = { settings: s, backend: info.backend, sampling_seconds: seconds, structures_per_second: structures.length / seconds };
  console.log(`sampled ${structures.length} in ${seconds.toFixed(1)} s (${(structures.length / seconds).toFixed(2)} structures/s)`);
  if (s.evaluate) {
    const reference = await ReferenceIndex.fromDataset(s.reference_dataset, "train");
    const { rows, ...report } = evaluateGenerated(structures, { reference });
    summary.evaluation = report;
    writeAtomic(join(s.output_dir, "evaluation_rows.json"), JSON.stringify(rows));
    console.log(formatGenerationReport({ ...report, rows }));
  }
  writeAtomic(join(s.output_dir, "summary.json"), JSON.stringify(summary, null, 2));
  console.log(`wrote ${s.output_dir}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
  process.exit(1);
});
