/**
 * ReinforceReward: the decomposition is the single source of the total used for logging and
 * for advantages; both aggregation orders; log-only components; group handling and
 * zero-variance fractions; config construction; every bad input.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { RewardError } from "../../src/crystal/errors.ts";
import type { Structure } from "../../src/crystal/structure.ts";
import { instantiate } from "../../src/config/instantiate.ts";
import { composeConfig, loadCustomModules } from "../../src/config/loader.ts";
import { defaultRegistry } from "../../src/config/registry.ts";
import { tf } from "../../src/nn/tf.ts";
import {
  CompositionDiversityReward,
  CreativityReward,
  CustomReward,
  EnergyReward,
  RewardComponent,
  StructureDiversityReward,
  type RewardContext,
} from "../../src/rl_module/components.ts";
import { normalizeArray } from "../../src/rl_module/normalize.ts";
import { decompositionTable, ReinforceReward, weightedRows } from "../../src/rl_module/reward.ts";
import { cesiumChloride, PropertyEnergyModel, referenceSet, rockSalt, smallHull, smallMetrics } from "../metrics/reward_fixtures.ts";
import { EAboveHullCalculator } from "../../src/metrics/energy.ts";
import { stackFeatures, vaeFeaturizers } from "../../src/metrics/featurizers.ts";
import { Metrics } from "../../src/metrics/metrics.ts";
import { Rng } from "../../src/nn/rng.ts";
import { VAEModule } from "../../src/vae_module/vae_module.ts";

await tf.setBackend("cpu");

/** Eight structures with varied cell sizes and formation energies (NaCl hull at −2 eV/atom). */
function batch(): (Structure | null)[] {
  return [
    rockSalt("Na", "Cl", 5.5, -2.1), rockSalt("Na", "Cl", 5.7, -1.9), cesiumChloride("K", "Br", 3.9, -1.2), rockSalt("Na", "Cl", 5.9, -1.5),
    cesiumChloride("K", "Br", 4.1, -1.6), null, rockSalt("Na", "Cl", 6.1, -1.0), cesiumChloride("K", "Br", 4.3, -1.45),
  ];
}

const volume = () => new CustomReward({ name: "volume", normalizeFn: "std", compute: (ss) => ss.map((s) => s.volume / s.length) });
const sites = (weight: number) => new CustomReward({ name: "sites", weight, normalizeFn: "norm", compute: (ss) => ss.map((s) => s.length) });

function reward(options: Partial<ConstructorParameters<typeof ReinforceReward>[0]> = {}): ReinforceReward {
  return new ReinforceReward({ components: [volume(), sites(0.5), new EnergyReward({ normalizeFn: "norm" })], normalizeFn: "std", metrics: smallMetrics(), ...options });
}

const close = (a: number, b: number, tol = 1e-12) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

test("decompose: weighted = weight·normalize(raw) over the batch; total = Σ weighted; compute agrees", async () => {
  const r = reward();
  const d = await r.decompose(batch());
  const raw = (name: string) => d.rows.map((row) => row.components[name].raw);
  for (const c of r.components) {
    const normalized = normalizeArray(raw(c.name), c.normalizeFn, c.eps);
    d.rows.forEach((row, i) => {
      assert.ok(close(row.components[c.name].normalized, normalized[i]), `${c.name}[${i}]`);
      assert.ok(close(row.components[c.name].weighted, c.weight * normalized[i]), `${c.name}[${i}] weighted`);
    });
  }
  d.rows.forEach((row, i) => assert.ok(close(row.total, Object.values(row.components).reduce((s, v) => s + v.weighted, 0))));
  assert.equal(await r.compute(batch()), d.total);
  assert.equal(raw("energy")[5], -1); // the null slot: worst energy reward
});

test("advantages are normalize(total) of the very rows that are logged (group-wise on the sum)", async () => {
  const r = reward();
  const { decomposition, advantages } = await r.advantages(batch(), { groupSize: 4 });
  const fromTable = decompositionTable(decomposition).map((row) => ["volume", "sites", "energy"].reduce((s, n) => s + (row[`${n}.weighted`] as number), 0));
  const expected = normalizeArray(fromTable, "std", 1e-4, { groupSize: 4 });
  advantages.forEach((a, i) => assert.ok(close(a, expected[i], 1e-12), `${a} vs ${expected[i]}`));
  assert.equal(r.normalize(decomposition.total, { groupSize: 4 }), advantages);
  assert.equal(weightedRows(decomposition)[5].label, "invalid #5");
});

test("weight 0 components are computed and logged but add nothing (log-only)", async () => {
  const withLogOnly = await reward({ components: [volume(), sites(0)] }).decompose(batch());
  const without = await reward({ components: [volume()] }).decompose(batch());
  assert.equal(withLogOnly.total, without.total);
  const summary = withLogOnly.components.find((c) => c.name === "sites")!;
  assert.ok(summary.logOnly);
  assert.ok(withLogOnly.rows.some((row) => row.components.sites.raw !== 0));
  assert.ok(withLogOnly.rows.every((row) => row.components.sites.weighted === 0));
});

test("sum_then_normalize: per-component normalisers are not applied, total = Σ weight·raw", async () => {
  const d = await reward({ aggregation: "sum_then_normalize" }).decompose(batch());
  d.rows.forEach((row) => {
    assert.ok(close(row.total, row.components.volume.raw + 0.5 * row.components.sites.raw + row.components.energy.raw));
    assert.is(row.components.volume.normalized, row.components.volume.raw);
  });
  assert.ok(d.components.every((c) => c.normalizeFn === null));
});

test("zero-variance group fractions per component and for the total; uneven and singleton groups", async () => {
  // Groups {0,1,3,6} all NaCl (8 sites) → "sites" flat there; {2,4,7} all KBr (2 sites) → flat; {5} singleton.
  const groupIds = [0, 0, 1, 0, 1, 2, 0, 1];
  const d = await reward().decompose(batch(), { groupIds });
  const sitesSummary = d.components.find((c) => c.name === "sites")!;
  assert.is(sitesSummary.zeroVarianceFraction, 1);
  assert.is(d.components.find((c) => c.name === "volume")!.zeroVarianceFraction, 1 / 3);
  assert.is(d.zeroVarianceFraction, 1 / 3);
  const adv = reward().normalize(d.total, { groupIds });
  assert.is(adv[5], 0); // the singleton group gets 0, not NaN
  assert.ok(adv.every(Number.isFinite));
  const noGroups = await reward().decompose(batch());
  assert.ok(Number.isNaN(noGroups.zeroVarianceFraction));
  assert.ok(d.components.every((c) => c.seconds >= 0));
});

class BrokenReward extends RewardComponent {
  constructor(private readonly value: number) {
    super({}, "broken");
  }
  compute(ctx: RewardContext): number[] {
    return ctx.structures.map((_, i) => (i === 3 ? this.value : 0));
  }
}

test("context(structures, batchGen, { vae }): the diversity rewards switch to the VAE's features", async () => {
  const vae = new VAEModule({ dModel: 16, nhead: 2, dimFeedforward: 32, numLayers: 1, latentDim: 4, maxAtoms: 8 }, new Rng(5));
  const refs = referenceSet();
  const f = vaeFeaturizers(vae);
  const logged: string[] = [];
  const metrics = new Metrics({
    referenceStructures: refs,
    energy: new EAboveHullCalculator(new PropertyEnergyModel(), smallHull()),
    referenceStructureFeatures: stackFeatures(f.structure.featurize(refs), f.structure.dim),
    referenceCompositionFeatures: stackFeatures(f.composition.featurize(refs), f.composition.dim),
    log: (m) => logged.push(m),
  });
  const r = new ReinforceReward({ components: [new StructureDiversityReward({ normalizeFn: "norm" }), new CompositionDiversityReward({ normalizeFn: "norm" })], metrics });
  const ctx = r.context(batch(), undefined, { vae });
  assert.is(ctx.vae, vae);
  assert.is(metrics.featurizerSource, "vae");
  const d = await r.decompose(ctx);
  assert.ok(d.total.every(Number.isFinite));
  assert.equal(logged, []);
  // A context built by hand carries the VAE the same way.
  const other = new Metrics({ referenceStructures: refs, referenceStructureFeatures: metrics.options.referenceStructureFeatures, referenceCompositionFeatures: metrics.options.referenceCompositionFeatures });
  const r2 = new ReinforceReward({ components: [new StructureDiversityReward()], metrics: other });
  const d2 = await r2.decompose({ structures: batch(), metrics: other.cache(batch()), vae });
  assert.is(other.featurizerSource, "vae");
  assert.equal(d2.rows.map((row) => row.components.structure_diversity.raw), d.rows.map((row) => row.components.structure_diversity.raw));
  vae.dispose();
});

test("bad inputs: NaN / Infinity rewards name component and index; empty input; group size; options", async () => {
  for (const v of [NaN, Infinity]) {
    await rejects(() => reward({ components: [volume(), new BrokenReward(v)] }).compute(batch()), /reward component "broken" gave (NaN|Infinity) for structure 3/);
  }
  await rejects(() => reward().compute([]), /reward input is empty/);
  await rejects(() => reward().advantages(batch(), { groupSize: 3 }), /groupSize 3 does not divide the number of rewards 8/);
  assert.throws(() => reward().normalize([]), isRewardError);
  assert.throws(() => reward({ normalizeFn: "zscore" }), (e: Error) => e instanceof RewardError && /unknown normalize_fn "zscore"/.test(e.message));
  assert.throws(() => reward({ aggregation: "mean" as never }), /unknown aggregation "mean"/);
  assert.throws(() => new ReinforceReward({ components: [] }), isRewardError);
  assert.throws(() => new ReinforceReward({ components: [{} as RewardComponent] }), /components\[0\] is not a RewardComponent/);
  const wrongLength = new CustomReward({ name: "short" });
  wrongLength.compute = async () => [1, 2];
  await rejects(() => reward({ components: [wrongLength] }).compute(batch()), /"short" returned 2 values for 8 structures/);
});

test("duplicate component names get suffixes so table columns stay distinct", async () => {
  const r = reward({ components: [volume(), volume()] });
  assert.equal(r.components.map((c) => c.name), ["volume", "volume#2"]);
});

test("config: ReinforceReward from the seed's dotted _target_ and snake_case kwargs", async () => {
  const factory = await defaultRegistry.resolve("src.rl_module.reward.ReinforceReward");
  const r = (await factory({ components: [volume()], normalize_fn: "std", eps: 1e-4, reference_dataset: "mp-20" }, [])) as ReinforceReward;
  assert.ok(r instanceof ReinforceReward);
  assert.is(r.normalizeFn, "std");
  assert.is(r.metrics.referenceDataset, "mp_20");
});

test("config: experiment=mp_20/rl_dng instantiates the seed's reward (classes, weights, normalisers)", async () => {
  const cfg = composeConfig({ configName: "train_rl", overrides: ["experiment=mp_20/rl_dng"] }) as { rl_module: { reward_fn: unknown } };
  const r = await instantiate<ReinforceReward>(cfg.rl_module.reward_fn);
  assert.ok(r instanceof ReinforceReward);
  assert.is(r.normalizeFn, "std");
  assert.is(r.eps, 1e-4);
  assert.is(r.metrics.referenceDataset, "mp_20");
  const expected = [[CreativityReward, 1, null], [EnergyReward, 1, "norm"], [StructureDiversityReward, 0.1, "norm"], [CompositionDiversityReward, 1, "norm"]] as const;
  expected.forEach(([Cls, w, fn], i) => {
    assert.ok(r.components[i] instanceof Cls, r.components[i].name);
    assert.is(r.components[i].weight, w);
    assert.is(r.components[i].normalizeFn, fn);
  });
});

test("config: custom_modules registers the example reward, usable as a _target_", async () => {
  await loadCustomModules({ custom_modules: ["src/rl_module/examples/atomic_density.ts"] }, { baseDir: process.cwd() });
  const r = await instantiate<ReinforceReward>({
    _target_: "ReinforceReward",
    normalize_fn: "std",
    components: [{ _target_: "my_density_reward", target_density: 0.06, normalize_fn: "norm" }],
    metrics: smallMetrics(),
  });
  assert.is(r.components[0].name, "atomic_density");
  const total = await r.compute(batch());
  assert.is(total.length, 8);
  assert.ok(total.every((v) => v >= 0 && v <= 1));
});

const isRewardError = (e: Error) => e instanceof RewardError;

async function rejects(f: () => unknown, pattern: RegExp): Promise<void> {
  try {
    await f();
  } catch (e) {
    assert.ok(e instanceof RewardError, `expected a RewardError, got ${(e as Error).name}`);
    assert.ok(pattern.test((e as Error).message), (e as Error).message);
    return;
  }
  assert.unreachable(`expected an error matching ${pattern}`);
}

test.run();
