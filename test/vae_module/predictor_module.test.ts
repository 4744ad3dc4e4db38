/**
 * PredictorModule: save → load round trip, corrupt and foreign checkpoints, standardisation,
 * invalid structures, the seed's `_target_` name through the config registry, the
 * CGCNN-backed EnergyModel, and the bundled checkpoints against trivial baselines.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tf } from "../../src/nn/tf.ts";
import { CheckpointError } from "../../src/nn/errors.ts";
import { saveCheckpoint } from "../../src/nn/checkpoint.ts";
import { Linear } from "../../src/nn/layers.ts";
import { Rng } from "../../src/nn/rng.ts";
import { Structure } from "../../src/crystal/structure.ts";
import { CrystalGraphError, PredictorError, RewardError } from "../../src/crystal/errors.ts";
import { ConfigError } from "../../src/config/errors.ts";
import { loadDataset } from "../../src/data/datasets.ts";
import { TargetRegistry } from "../../src/config/registry.ts";
import { registerBuiltinTargets } from "../../src/config/targets.ts";
import { instantiate } from "../../src/config/instantiate.ts";
import { CHECKPOINTS_DIR } from "../../src/config/hub.ts";
import { PredictorModule, targetStats } from "../../src/vae_module/predictor_module.ts";
import { CgcnnEnergyModel } from "../../src/metrics/cgcnn_energy_model.ts";
import { parseSettings, targetOf } from "../../src/train_predictor.ts";
import { useTestBackend } from "../nn/helpers/backend.ts";
import { initBackend } from "../../src/nn/backend.ts";

test.before(useTestBackend);

const tmp = mkdtempSync(join(tmpdir(), "predictor-test-"));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const small = { hiddenSize: 8, numConv: 1, fcSize: 8 };

async function crystals(n = 6): Promise<Structure[]> {
  return (await loadDataset("mp_20", "val", { limit: n })).records.map((r) => r.structure);
}

function make(target = "formation_energy_per_atom", seed = 1): PredictorModule {
  return PredictorModule.create({ targetNames: [target], targetMean: [-1.2], targetStd: [0.9], model: small, seed });
}

test("targetStats uses the unbiased (n − 1) std, like torch.std; bad input is a PredictorError", () => {
  const { mean, std } = targetStats([1, 2, 3, 4]);
  assert.is(mean, 2.5);
  assert.ok(Math.abs(std - Math.sqrt(5 / 3)) < 1e-12);
  assert.throws(() => targetStats([1]), (e: Error) => e instanceof PredictorError);
  assert.throws(() => targetStats([1, NaN]), (e: Error) => e instanceof PredictorError);
});

test("predictions are model output × std + mean; save → load gives identical predictions and stats", async () => {
  const s = await crystals();
  const p = make();
  const raw = p.forward(p.graphTensors(s.map((x) => p.graphOf(x))));
  const expected = [...raw.dataSync()].map((v) => v * 0.9 - 1.2);
  raw.dispose();
  const pred = p.predict(s);
  pred.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-5));
  const dir = join(tmp, "roundtrip");
  await p.save(dir, { meta: { note: "test" } });
  const q = await PredictorModule.loadFromCheckpoint(dir);
  assert.equal(q.predict(s), pred);
  assert.equal([...q.targetNames], ["formation_energy_per_atom"]);
  assert.equal([q.targetMean[0], q.targetStd[0]], [-1.2, 0.9]);
  assert.equal(q.spec.graph, { cutoff: 8, maxNeighbors: 12 });
  const viaAlias = await PredictorModule.load_from_checkpoint(dir, { map_location: "cpu" });
  assert.equal(viaAlias.predict(s), pred);
  [p, q, viaAlias].forEach((m) => m.dispose());
});

test("predict does not leak tensors", async () => {
  const s = await crystals(3);
  const p = make();
  p.predict(s);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) p.predict(s);
  assert.is(tf.memory().numTensors, before);
  p.dispose();
});

test("corrupt, truncated, missing and foreign checkpoints are CheckpointErrors", async () => {
  const p = make();
  const dir = join(tmp, "corrupt");
  await p.save(dir);
  const weights = join(dir, "weights.bin");
  const bytes = readFileSync(weights);
  bytes[10] ^= 0xff;
  writeFileSync(weights, bytes);
  await PredictorModule.loadFromCheckpoint(dir).then(
    () => assert.unreachable("corrupt weights must not load"),
    (e: Error) => assert.ok(e instanceof CheckpointError && /checksum/.test(e.message), e.message),
  );
  writeFileSync(weights, bytes.subarray(0, 100));
  await PredictorModule.loadFromCheckpoint(dir).then(
    () => assert.unreachable("truncated weights must not load"),
    (e: Error) => assert.ok(e instanceof CheckpointError, e.message),
  );
  await PredictorModule.loadFromCheckpoint(join(tmp, "nothing-here")).then(
    () => assert.unreachable("missing dir"),
    (e: Error) => assert.ok(e instanceof CheckpointError, e.message),
  );
  const foreign = join(tmp, "foreign");
  await saveCheckpoint(foreign, { module: new Linear(2, 2, new Rng(0)), config: {} });
  await PredictorModule.loadFromCheckpoint(foreign).then(
    () => assert.unreachable("a non-predictor checkpoint must not load"),
    (e: Error) => assert.ok(e instanceof CheckpointError && /not a predictor checkpoint/.test(e.message), e.message),
  );
  p.dispose();
});

test("a structure whose graph cannot be built throws with its index, or gives NaN on request", async () => {
  const [good] = await crystals(1);
  const flat = new Structure([[5, 0, 0], [0, 5, 0], [0, 0, 1e-5]], ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]);
  const p = make();
  assert.throws(() => p.predict([good, flat]), (e: Error) => e instanceof CrystalGraphError && /structure 1/.test(e.message));
  const out = p.predict([good, flat], { invalid: "nan" });
  assert.ok(Number.isFinite(out[0]) && Number.isNaN(out[1]));
  assert.throws(() => p.predict("Si" as never), (e: Error) => e instanceof PredictorError);
  assert.throws(() => PredictorModule.create({ targetNames: ["a"], targetMean: [0], targetStd: [0] }), (e: Error) => e instanceof PredictorError && /targetStd/.test(e.message));
  p.dispose();
});

test("the seed's _target_ (PredictorModule.load_from_checkpoint) instantiates through the config registry", async () => {
  const p = make("band_gap");
  const dir = join(tmp, "from-config");
  await p.save(dir);
  const registry = new TargetRegistry();
  registerBuiltinTargets(registry);
  const cfg = { _target_: "src.vae_module.predictor_module.PredictorModule.load_from_checkpoint", checkpoint_path: dir, map_location: "cpu" };
  const loaded = await instantiate<PredictorModule>(cfg, { registry });
  assert.ok(loaded instanceof PredictorModule);
  assert.equal([...loaded.targetNames], ["band_gap"]);
  await instantiate({ ...cfg, strict: true }, { registry }).then(
    () => assert.unreachable("unknown kwarg"),
    (e: Error) => assert.ok(e instanceof ConfigError && /strict/.test(e.message), e.message),
  );
  [p, loaded].forEach((m) => m.dispose());
});

test("CgcnnEnergyModel wraps a formation-energy predictor; NaN for unbuildable graphs; other targets refused", async () => {
  const s = await crystals(2);
  const flat = new Structure([[5, 0, 0], [0, 5, 0], [0, 0, 1e-5]], ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]);
  const p = make();
  const model = new CgcnnEnergyModel(p);
  const e = model.formationEnergyPerAtom([...s, flat]);
  assert.equal(e.slice(0, 2), p.predict(s));
  assert.ok(Number.isNaN(e[2]));
  assert.throws(() => new CgcnnEnergyModel(make("band_gap")), (err: Error) => err instanceof RewardError && /formation_energy_per_atom/.test(err.message));
  p.dispose();
});

test("train_predictor: key=value settings, typed errors for unknown keys and bad values, perov_5 gap = min(dir, ind)", () => {
  const s = parseSettings(["target=band_gap", "epochs=3", "lr=0.002", "extra_train=perov_5/val,perov_5/test", "--"]);
  assert.equal([s.target, s.epochs, s.lr, s.extraTrain, s.run], ["band_gap", 3, 0.002, ["perov_5/val", "perov_5/test"], "predictor_band_gap"]);
  assert.throws(() => parseSettings(["epoch=3"]), (e: Error) => e instanceof PredictorError && /unknown argument "epoch=3"/.test(e.message));
  assert.throws(() => parseSettings(["epochs=2.5"]), (e: Error) => e instanceof PredictorError && /epochs must be a non-negative integer/.test(e.message));
  assert.throws(() => parseSettings(["target=density"]), (e: Error) => e instanceof PredictorError && /target must be one of/.test(e.message));
  const record = { properties: { dir_gap: 2.5, ind_gap: 1.75 } } as never;
  assert.is(targetOf(record, "band_gap"), 1.75);
  assert.ok(Number.isNaN(targetOf(record, "formation_energy_per_atom")));
});

/** Bundled checkpoints must beat predicting the training mean on MP-20 test (what makes them worth shipping). */
for (const target of ["formation_energy_per_atom", "band_gap"] as const) {
  const dir = join(CHECKPOINTS_DIR, "mp_20", target === "band_gap" ? "predictor_band_gap" : "predictor_formation_energy");
  test(`bundled ${target} predictor loads and beats the train-mean baseline on MP-20 test`, async () => {
    assert.ok(existsSync(dir), `${dir} is missing; train it with src/train_predictor.ts (see its header)`);
    await initBackend({ backend: "wasm" }); // 142 crystals with the full-size model: seconds on wasm, minutes on cpu
    const p = await PredictorModule.loadFromCheckpoint(dir);
    const train = (await loadDataset("mp_20", "train")).records.map((r) => Number(r.properties[target]));
    const test = (await loadDataset("mp_20", "test")).records;
    const y = test.map((r) => Number(r.properties[target]));
    const mean = train.reduce((a, b) => a + b) / train.length;
    const pred = p.predict(test.map((r) => r.structure));
    const mae = (xs: number[]) => xs.reduce((a, x, i) => a + Math.abs(x - y[i]), 0) / y.length;
    const baseline = mae(y.map(() => mean));
    assert.ok(mae(pred) < 0.8 * baseline, `MAE ${mae(pred).toFixed(3)} vs train-mean ${baseline.toFixed(3)}`);
    p.dispose();
  });
}

test.run();
