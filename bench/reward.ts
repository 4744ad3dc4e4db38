/**
 * Reward throughput of the mp_20/rl_dng step: 320 structures (5 prompts × 64 samples) through
 * ReinforceReward(normalize_fn std) over the default DNG components — CreativityReward (w 1),
 * EnergyReward (w 1, norm), StructureDiversityReward (w 0.1, norm), CompositionDiversityReward
 * (w 1, norm). Stand-ins for generated crystals: MP-20 test structures, each drawn several
 * times with a different random displacement (σ = 0.05 Å), so uniqueness, novelty and
 * creativity all see duplicates, near-duplicates and known structures.
 *
 * Back-ends (the defaults an RL run gets): novelty against the bundled MP-20 train split
 * (StructureMatcher defaults); energy from the bundled CGCNN formation-energy predictor on the
 * bundled MP-20 hull; MMD features from the VAE the bundled LDM decodes with
 * (checkpoints/mp_20/ldm_vae: posterior-mean and atom-embedding means), passed as the reward
 * context's `vae` as RLModule does.
 *
 *   node --import tsx bench/reward.ts [numStructures=320]
 *
 * Second reference in the same run: the same rollouts through the previous defaults
 * (composition-linear energies, AMD-16 / element-property features), printed as
 * defaults/previous for the warm call.
 *
 * Prints the time split per metric and component for the first ("cold": builds the reference
 * index, hull, energy model and reference features) and the second ("warm": a new rollout
 * on the same back-ends, the per-step cost in RL) call, the cold/warm ratio, and warm/target
 * (target 5 s). Reference measured in the same run: the seed's uniqueness check (pymatgen
 * 2022.11 StructureMatcher.fit of each structure against every earlier one with the same
 * reduced formula, Debian /usr/bin/python3) on the warm rollout, with verdict agreement;
 * skipped when pymatgen is missing. Last line: JSON summary.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { structureToPymatgenDict } from "../src/crystal/io/pymatgen_dict.ts";
import type { Structure } from "../src/crystal/structure.ts";
import { loadDataset } from "../src/data/datasets.ts";
import { Metrics } from "../src/metrics/metrics.ts";
import { AmdStructureFeaturizer, ElementPropertyFeaturizer } from "../src/metrics/featurizers.ts";
import { CompositionDiversityReward, CreativityReward, EnergyReward, StructureDiversityReward } from "../src/rl_module/components.ts";
import { ReinforceReward, type RewardDecomposition } from "../src/rl_module/reward.ts";
import type { VaeLike } from "../src/metrics/featurizers.ts";
import { loadVAE } from "../src/vae_module/vae_checkpoint.ts";
import { initBackend } from "../src/nn/backend.ts";
import { mulberry32 } from "../test/crystal/matcher_pairs.ts";

const N = Number(process.argv[2] ?? 320);
const GROUP = 64;
const TARGET_S = 5;

const PYTHON = "/usr/bin/python3";
/** The seed's uniqueness loop with pymatgen, timed in Python; reads pymatgen dicts on stdin. */
const PY_UNIQUE = `
import json, sys, time, warnings
warnings.filterwarnings("ignore")
from pymatgen.core import Structure
from pymatgen.analysis.structure_matcher import StructureMatcher
structures = [Structure.from_dict(d) for d in json.load(sys.stdin)]
t0 = time.perf_counter()
sm = StructureMatcher()
seen, unique = {}, []
for s in structures:
    f = s.composition.reduced_formula
    earlier = seen.setdefault(f, [])
    unique.append(not any(sm.fit(e, s) for e in earlier))
    earlier.append(s)
print(json.dumps({"seconds": time.perf_counter() - t0, "unique": unique}))
`;

/** pymatgen's uniqueness verdicts and seconds, or null without pymatgen. */
function pymatgenUnique(structures: Structure[]): { seconds: number; unique: boolean[] } | null {
  if (!existsSync(PYTHON)) return null;
  const run = spawnSync(PYTHON, ["-c", PY_UNIQUE], { input: JSON.stringify(structures.map(structureToPymatgenDict)), encoding: "utf8", maxBuffer: 1 << 26 });
  if (run.status !== 0) {
    console.log(`pymatgen reference skipped: ${run.stderr.trim().split("\n").pop()}`);
    return null;
  }
  return JSON.parse(run.stdout);
}

function rollout(base: readonly Structure[], seed: number): Structure[] {
  const r = mulberry32(seed);
  return Array.from({ length: N }, () => base[Math.floor(r() * base.length)].perturb(0.05, undefined, r));
}

function split(d: RewardDecomposition, seconds: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(d.metricSeconds)) out[`metric:${k}`] = v;
  for (const c of d.components) out[`component:${c.name}`] = c.seconds;
  out.total = seconds;
  return out;
}

function print(label: string, s: Record<string, number>): void {
  console.log(`${label}:`);
  for (const [k, v] of Object.entries(s)) console.log(`  ${k.padEnd(36)} ${v.toFixed(3)} s  ${((100 * v) / s.total).toFixed(1)} %`);
}

async function timed(reward: ReinforceReward, structures: Structure[], vae: VaeLike): Promise<[RewardDecomposition, number]> {
  const t0 = performance.now();
  const d = await reward.decompose(reward.context(structures, undefined, { vae }), { groupSize: N % GROUP === 0 ? GROUP : undefined });
  return [d, (performance.now() - t0) / 1000];
}

/** The rl_dng reward over the given metrics back-ends. */
function dngReward(metrics: Metrics): ReinforceReward {
  return new ReinforceReward({
    normalizeFn: "std",
    eps: 1e-4,
    metrics,
    components: [
      new CreativityReward({ weight: 1.0 }),
      new EnergyReward({ weight: 1.0, normalizeFn: "norm" }),
      new StructureDiversityReward({ weight: 0.1, normalizeFn: "norm" }),
      new CompositionDiversityReward({ weight: 1.0, normalizeFn: "norm" }),
    ],
  });
}

/** Warm seconds of the previous defaults (composition-linear, descriptor features) on the same rollouts. */
async function previousDefaultsWarm(base: readonly Structure[], vae: VaeLike): Promise<number> {
  const metrics = new Metrics({ referenceDataset: "mp-20", energy: "composition-linear", structureFeaturizer: new AmdStructureFeaturizer(16), compositionFeaturizer: new ElementPropertyFeaturizer() });
  const reward = dngReward(metrics);
  await timed(reward, rollout(base, 1), vae);
  return (await timed(reward, rollout(base, 2), vae))[1];
}

async function main(): Promise<void> {
  const base = (await loadDataset("mp_20", "test")).records.map((r) => r.structure);
  await initBackend();
  const { vae } = await loadVAE("checkpoints/mp_20/ldm_vae");
  const reward = dngReward(new Metrics({ referenceDataset: "mp-20" }));
  const [coldD, cold] = await timed(reward, rollout(base, 1), vae);
  const warmSet = rollout(base, 2);
  const [warmD, warm] = await timed(reward, warmSet, vae);
  const energyModel = (await reward.metrics.energy()).model.name;
  console.log(`energy model ${energyModel}; MMD features ${reward.metrics.featurizerSource} (${reward.metrics.structureFeaturizer.id}, ${reward.metrics.compositionFeaturizer.id})`);
  print(`cold (${N} structures, back-ends built)`, split(coldD, cold));
  print(`warm (${N} structures, new rollout)`, split(warmD, warm));
  const previous = await previousDefaultsWarm(base, vae);
  console.log(`previous defaults (composition-linear, AMD/element features) warm ${previous.toFixed(3)} s; defaults/previous ${(warm / previous).toFixed(2)}×`);
  const mean = warmD.total.reduce((a, b) => a + b, 0) / N;
  console.log(`cold/warm ${(cold / warm).toFixed(2)}×   warm/target ${(warm / TARGET_S).toFixed(2)} (target ${TARGET_S} s)   mean total reward ${mean.toFixed(4)}`);
  const ours = await reward.metrics.cache(warmSet).booleans("unique");
  const py = pymatgenUnique(warmSet);
  const uniqueS = warmD.metricSeconds.unique;
  if (py) {
    const agree = py.unique.filter((u, i) => u === ours[i]).length;
    console.log(`unique: ours ${uniqueS.toFixed(3)} s, pymatgen ${py.seconds.toFixed(3)} s (pymatgen/ours ${(py.seconds / uniqueS).toFixed(1)}×), verdicts agree ${agree}/${N}`);
  }
  const reference = py ? { pymatgen_unique_s: py.seconds, pymatgen_over_ours_unique: py.seconds / uniqueS } : {};
  console.log(JSON.stringify({ n: N, energy_model: energyModel, features: reward.metrics.featurizerSource, previous_defaults_warm_s: previous, over_previous: warm / previous, cold_s: cold, warm_s: warm, cold_over_warm: cold / warm, warm_over_target: warm / TARGET_S, ...reference, split: split(warmD, warm) }));
}

await main();
