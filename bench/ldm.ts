/**
 * LDM benchmark: the whole stage-2 model as train_ldm and sample run it — LDMModule with the
 * bundled MP-20 VAE (checkpoints/mp_20/ldm_vae: width 128, 3 layers) and a freshly initialised
 * DiT (`dit_tiny` by default) — next to the same model in PyTorch (bench/torch_dit.py, Debian's
 * /usr/bin/python3), measured in the same run, with the same thread count and the same shapes.
 *
 *     npm run bench ldm                               # dit_tiny, training batch 64, sampling 100 × DDIM 50
 *     node --import tsx bench/ldm.ts --size dit_s --repeats 5 --samples 50
 *     node --import tsx bench/ldm.ts --rounds 3    # alternate ours / torch 3 times; medians of the rounds
 *     node --import tsx bench/ldm.ts --threads 1   # both sides single-threaded (fairer when the cores are oversubscribed)
 *
 * Training step (median of `repeats` after 3 warm-up steps): `LDMModule.trainingStep` on the
 * first `batch` MP-20 train structures (padded to the largest): VAE encode (posterior mean) +
 * q-sample + DiT forward + improved-DDPM loss (MSE + learned-range vb) + backward + clip + AdamW.
 * Torch does the same minus the vb term (elementwise on [B, N, 8]: negligible next to the DiT).
 * Sampling: `LDMModule.sample` with DDIM 50, eta 1 for `samples` structures whose sizes come
 * from the MP-20 train histogram (seeded), including the VAE decode and building the Structures;
 * torch runs 50 DiT calls + DDIM updates + the VAE decoder forward on the same sizes.
 * Ratios are ours / torch (time: lower is better). On a shared machine the load changes while
 * the benchmark runs, so `--rounds N` alternates ours and torch N times and reports the median
 * of each round's ratio. Prints the load average before and after, a table and, last, one JSON line.
 */
import { existsSync } from "node:fs";
import { loadavg } from "node:os";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { initBackend } from "../src/nn/backend.ts";
import { Rng } from "../src/nn/rng.ts";
import { AdamW } from "../src/nn/optim.ts";
import { resolveHub } from "../src/config/hub.ts";
import { loadDataset } from "../src/data/datasets.ts";
import { collate, disposeBatch } from "../src/data/batch.ts";
import type { Structure } from "../src/crystal/structure.ts";
import { loadVAE } from "../src/vae_module/vae_checkpoint.ts";
import type { VAEModule } from "../src/vae_module/vae_module.ts";
import { LDMModule } from "../src/ldm_module/ldm_module.ts";
import { disposeSampleResult } from "../src/ldm_module/ldm_sampling.ts";
import { NumAtomsSampler } from "../src/ldm_module/num_atoms.ts";
import { ldmHparamsFromYaml } from "../src/ldm_module/ldm_config.ts";
import { DIT_SIZES, type DiTSizeName } from "../src/ldm_module/sizes.ts";

const PYTHON = "/usr/bin/python3";
const TORCH_SCRIPT = fileURLToPath(new URL("./torch_dit.py", import.meta.url));
const STEPS = 50;

interface Args {
  size: DiTSizeName;
  repeats: number;
  batch: number;
  samples: number;
  rounds: number;
  /** wasm threads of ours and torch threads (0 = one per core). */
  threads: number;
}

function parseArgs(argv: string[]): Args {
  const out: Args = { size: "dit_tiny", repeats: 10, batch: 64, samples: 100, rounds: 1, threads: 0 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i].replace(/^--/, "");
    if (!(flag in out)) throw new Error(`unknown argument ${argv[i]}; use --size ${Object.keys(DIT_SIZES).join("|")} --repeats N --batch N --samples N --rounds N --threads N`);
    const value = argv[++i];
    (out as unknown as Record<string, unknown>)[flag] = flag === "size" ? value : Number(value);
  }
  if (!(out.size in DIT_SIZES)) throw new Error(`unknown size ${out.size}`);
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");

function buildLdm(vae: VAEModule, size: DiTSizeName): LDMModule {
  const hparams = ldmHparamsFromYaml({ denoiser: { size, latent_dim: vae.config.latentDim } });
  return new LDMModule({ vae, hparams, rng: new Rng(0) });
}

/** Median seconds of `LDMModule.trainingStep` on one fixed batch. */
function oursStep(ldm: LDMModule, structures: Structure[], repeats: number): number {
  const batch = collate(structures);
  const opt = new AdamW(ldm, { lr: 1e-4, weightDecay: 0 });
  const times: number[] = [];
  for (let i = 0; i < repeats + 3; i++) {
    const t0 = performance.now();
    ldm.trainingStep(batch, opt, { gradClip: 1 });
    if (i >= 3) times.push((performance.now() - t0) / 1000);
  }
  disposeBatch(batch);
  opt.dispose();
  return median(times);
}

/** Seconds for one DDIM-50 sampling run (decoded to Structures), and of its decode alone. */
function oursSampling(ldm: LDMModule, sizes: number[]): { total: number; decode: number; decoded: number } {
  const opts = { sampler: "ddim" as const, sampling_steps: STEPS, eta: 1, rng: new Rng(2) };
  disposeSampleResult(ldm.sample({ numAtoms: sizes.slice(0, 4) }, opts)); // warm-up
  const t0 = performance.now();
  const out = ldm.sample({ numAtoms: sizes }, opts);
  const total = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  ldm.decode(out.batchGen.z, out.mask);
  const decode = (performance.now() - t1) / 1000;
  const decoded = out.batchGen.structures.filter((s) => s !== null).length;
  disposeSampleResult(out);
  return { total, decode, decoded };
}

interface TorchResult {
  ms_step: number;
  s_sampling_batch: number;
  torch: string;
  threads: number;
}

function runTorch(ldm: LDMModule, trainAtoms: number[], sampleAtoms: number[], threads: number, repeats: number): TorchResult | string {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const d = ldm.hparams.denoiser;
  const v = ldm.vae.config;
  const args = [TORCH_SCRIPT, "--train-atoms", trainAtoms.join(","), "--sample-atoms", sampleAtoms.join(","), "--latent", String(d.latentDim),
    "--dim", String(d.hiddenSize), "--heads", String(d.numHeads), "--depth", String(d.depth), "--vae-dim", String(v.dModel), "--vae-heads", String(v.nhead),
    "--vae-ffn", String(v.dimFeedforward), "--vae-layers", String(v.numLayers), "--fourier", String(v.fourierFrequencies),
    "--steps", String(STEPS), "--threads", String(threads), "--repeats", String(repeats)];
  const res = spawnSync(PYTHON, args, { encoding: "utf8" });
  const line = res.stdout.trim().split("\n").pop() ?? "";
  if (res.status !== 0 || !line.startsWith("{")) return `torch reference failed (exit ${res.status}): ${res.stderr.slice(-300)}`;
  return JSON.parse(line) as TorchResult;
}

interface Round {
  step: number;
  sampling: ReturnType<typeof oursSampling>;
  torch: TorchResult | null;
}

function oneRound(ldm: LDMModule, a: Args, batch: Structure[], sizes: number[], threads: number): Round {
  const step = oursStep(ldm, batch, a.repeats);
  const sampling = oursSampling(ldm, sizes);
  const torch = runTorch(ldm, batch.map((s) => s.length), sizes, threads, a.repeats);
  if (typeof torch === "string") {
    console.log(`  torch reference skipped: ${torch}`);
    return { step, sampling, torch: null };
  }
  return { step, sampling, torch };
}

function summarise(a: Args, rounds: Round[]): Record<string, number | null> {
  const torch = rounds.every((r) => r.torch) ? rounds.map((r) => r.torch!) : null;
  const oursStepMs = median(rounds.map((r) => r.step * 1e3));
  const oursSampleS = median(rounds.map((r) => r.sampling.total));
  return {
    ours_ms_step: +oursStepMs.toFixed(2),
    ours_structures_per_s: +(a.samples / oursSampleS).toFixed(3),
    ours_decode_ms: +median(rounds.map((r) => r.sampling.decode * 1e3)).toFixed(1),
    ours_valid_cells: rounds[0].sampling.decoded,
    torch_ms_step: torch ? median(torch.map((t) => t.ms_step)) : null,
    torch_structures_per_s: torch ? +(a.samples / median(torch.map((t) => t.s_sampling_batch))).toFixed(3) : null,
    step_ratio: torch ? +median(rounds.map((r) => (r.step * 1e3) / r.torch!.ms_step)).toFixed(3) : null,
    sampling_time_ratio: torch ? +median(rounds.map((r) => r.sampling.total / r.torch!.s_sampling_batch)).toFixed(3) : null,
  };
}

function report(a: Args, backend: string, threads: number, rounds: Round[], loads: string[]): void {
  const m = summarise(a, rounds);
  const torchVersion = rounds[0].torch?.torch;
  console.log(`LDM = VAE (bundled mp_20/ldm_vae) + ${a.size}; ${backend}, ${threads} threads; ${rounds.length} round(s); load average before ${loads[0]}, after ${loads[1]}`);
  console.log(`  training step, batch ${a.batch} MP-20 structures:  ours ${m.ours_ms_step} ms` + (torchVersion ? `   torch ${m.torch_ms_step} ms   ratio ${m.step_ratio}x` : ""));
  console.log(
    `  DDIM-${STEPS} sampling of ${a.samples} (+ VAE decode):  ours ${m.ours_structures_per_s} structures/s (decode ${m.ours_decode_ms} ms, ${m.ours_valid_cells} cells decoded from the untrained timing model)` +
      (torchVersion ? `   torch ${m.torch_structures_per_s} structures/s   time ratio ${m.sampling_time_ratio}x` : ""),
  );
  if (torchVersion) console.log(`  (torch ${torchVersion}, ${rounds[0].torch!.threads} threads; ratios = median over rounds of ours/torch time, lower is better)`);
  console.log(JSON.stringify({ size: a.size, backend, threads, batch: a.batch, samples: a.samples, rounds: rounds.length, load_before: loads[0], load_after: loads[1], ...m }));
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const loadBefore = load();
  const info = await initBackend(a.threads > 0 ? { threads: a.threads } : {});
  const train = (await loadDataset("mp_20", "train")).records.map((r) => r.structure);
  const batch = train.slice(0, a.batch);
  const sizes = NumAtomsSampler.fromStructures(train).sample(a.samples, new Rng(1));
  const { vae } = await loadVAE(resolveHub("mp_20_ldm_vae"));
  const ldm = buildLdm(vae, a.size);
  const rounds: Round[] = [];
  for (let r = 0; r < a.rounds; r++) {
    const round = oneRound(ldm, a, batch, sizes, info.threads);
    rounds.push(round);
    if (a.rounds > 1) console.log(`  round ${r + 1}: step ${(round.step * 1e3).toFixed(1)} ms vs ${round.torch?.ms_step ?? "-"} ms; sampling ${round.sampling.total.toFixed(2)} s vs ${round.torch?.s_sampling_batch ?? "-"} s; load ${load()}`);
  }
  ldm.dispose({ vae: true });
  report(a, info.backend, info.threads, rounds, [loadBefore, load()]);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
