/**
 * What `Metrics` builds when not told: the bundled CGCNN energy model (never a silent
 * fallback), other energy models by name, and the MMD featurisers — the seed's VAE features
 * when a VAE is known, else the descriptor featurisers with the reason logged once.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { RewardError } from "../../src/crystal/errors.ts";
import { CgcnnEnergyModel } from "../../src/metrics/cgcnn_energy_model.ts";
import { CompositionLinearEnergyModel } from "../../src/metrics/energy.ts";
import { ElementPropertyFeaturizer, stackFeatures, vaeFeaturizers, vaeWeightsId } from "../../src/metrics/featurizers.ts";
import { ENERGY_MODEL_NAMES, Metrics } from "../../src/metrics/metrics.ts";
import { initBackend } from "../../src/nn/backend.ts";
import { Rng } from "../../src/nn/rng.ts";
import { VAEModule } from "../../src/vae_module/vae_module.ts";
import { cesiumChloride, referenceSet, rockSalt } from "./reward_fixtures.ts";

await initBackend({ backend: "wasm" });

const vae = new VAEModule({ dModel: 16, nhead: 2, dimFeedforward: 32, numLayers: 1, latentDim: 4, maxAtoms: 8 }, new Rng(3));

test("the default energy model is the bundled CGCNN, shared per process; polymorphs differ in e_above_hull", async () => {
  const metrics = new Metrics({ referenceStructures: referenceSet(), log: () => {} });
  const calc = await metrics.energy();
  assert.ok(calc.model instanceof CgcnnEnergyModel, `default energy model is ${calc.model.name}`);
  assert.is(calc.model, await CgcnnEnergyModel.shared());
  const e = await metrics.cache([rockSalt("Na", "Cl", 5.64), cesiumChloride("Na", "Cl", 3.4), null]).numbers("e_above_hull");
  assert.ok(Number.isFinite(e[0]) && Number.isFinite(e[1]) && Number.isNaN(e[2]), String(e));
  assert.ok(Math.abs(e[0] - e[1]) > 0.01, `rock salt ${e[0]} vs CsCl-type ${e[1]}`);
});

test("energy models by name; an unknown name is a RewardError listing the valid ones", async () => {
  assert.equal([...ENERGY_MODEL_NAMES], ["cgcnn", "composition-linear", "reference-match"]);
  const linear = await new Metrics({ energy: "composition-linear" }).energy();
  assert.ok(linear.model instanceof CompositionLinearEnergyModel);
  assert.ok((await new Metrics({ energy: "cgcnn" }).energy()).model instanceof CgcnnEnergyModel);
  assert.throws(() => new Metrics({ energy: "mace" as never }), (err: Error) => err instanceof RewardError && /cgcnn, composition-linear, reference-match/.test(err.message));
});

test("no VAE: descriptor featurisers, and the reason is logged once", () => {
  const logged: string[] = [];
  const metrics = new Metrics({ log: (m) => logged.push(m) });
  assert.is(metrics.featurizerSource, "descriptor");
  assert.is(metrics.structureFeaturizer.id, "amd16");
  assert.is(metrics.compositionFeaturizer.id, "element-properties");
  assert.is(logged.length, 1);
  assert.match(logged[0], /no VAE given/);
});

test("with a VAE (option or useVae): the seed's VAE featurisers, ids from the weights", () => {
  const logged: string[] = [];
  const id = vaeWeightsId(vae);
  const byOption = new Metrics({ vae, log: (m) => logged.push(m) });
  assert.is(byOption.featurizerSource, "vae");
  assert.is(byOption.structureFeaturizer.id, `vae-structure-${id}`);
  assert.is(byOption.compositionFeaturizer.id, `vae-composition-${id}`);
  assert.is(byOption.structureFeaturizer.dim, 4);
  const late = new Metrics({ log: (m) => logged.push(m) });
  assert.is(late.featurizerSource, "descriptor");
  late.useVae(vae);
  assert.is(late.featurizerSource, "vae");
  assert.is(late.structureFeaturizer.id, `vae-structure-${id}`);
  assert.is(logged.length, 1); // only `late`'s first look, before it had a VAE
  assert.throws(() => late.useVae({} as never), (err: Error) => err instanceof RewardError);
});

test("featurisers passed as options win over the VAE, per kind", () => {
  const cf = new ElementPropertyFeaturizer();
  const metrics = new Metrics({ vae, compositionFeaturizer: cf, log: () => assert.unreachable("nothing to log") });
  assert.is(metrics.compositionFeaturizer, cf);
  assert.match(metrics.structureFeaturizer.id, /^vae-structure-/);
  assert.is(metrics.featurizerSource, "options");
});

test("diversity metrics run on the VAE features", async () => {
  const refs = referenceSet();
  const f = vaeFeaturizers(vae);
  const metrics = new Metrics({
    vae,
    referenceStructures: refs,
    referenceStructureFeatures: stackFeatures(f.structure.featurize(refs), f.structure.dim),
    referenceCompositionFeatures: stackFeatures(f.composition.featurize(refs), f.composition.dim),
  });
  const gen = [rockSalt("K", "Cl", 6.3), cesiumChloride("K", "Br", 3.9), rockSalt("Na", "Br", 5.9), null];
  const cache = metrics.cache(gen);
  for (const name of ["structure_diversity", "composition_diversity"] as const) {
    const v = await cache.numbers(name);
    assert.ok(v.slice(0, 3).every(Number.isFinite) && Number.isNaN(v[3]), `${name}: ${v}`);
  }
});

test.run();
