/**
 * `PredictorModule`: a trained property model (formation energy per atom, band gap, ...) that
 * answers `predict(structures)`, under the seed's name, so that Chemeleon2 configs
 *
 *     predictor:
 *       _target_: src.vae_module.predictor_module.PredictorModule.load_from_checkpoint
 *       checkpoint_path: ${hub:mp_20_predictor_band_gap}
 *
 * load unchanged, and `PredictorReward` can score generated crystals.
 *
 * Design choice (differs from the seed): Chemeleon2's predictor is a small MLP on the VAE
 * encoder's mean-pooled latents, so it only works together with one particular VAE. Ours is a
 * crystal graph network (metrics/cgcnn.ts) on the structure itself: it needs no VAE checkpoint
 * (ours is still being trained while this is written), it scores any structure — generated,
 * relaxed, from a CIF — and a better VAE never invalidates it. The price: graph building costs
 * a few ms per structure (CPU), more than reading a latent.
 *
 * The network predicts standardised targets; this module keeps each target's training mean
 * and unbiased std (as torch.std) and maps predictions back to physical units. Everything
 * needed to rebuild it (sizes, graph options, targets, stats) is in the checkpoint.
 */
import { tf } from "../nn/tf.ts";
import { Rng } from "../nn/rng.ts";
import { CheckpointError } from "../nn/errors.ts";
import { readCheckpoint, restoreCheckpoint, saveCheckpoint, type CheckpointContents } from "../nn/checkpoint.ts";
import { CrystalGraphError, PredictorError } from "../crystal/errors.ts";
import type { Structure } from "../crystal/structure.ts";
import {
  batchGraphs,
  buildCrystalGraph,
  ELEMENT_FEATURE_SIZE,
  GaussianDistance,
  resolveGraphOptions,
  type CrystalGraph,
  type CrystalGraphOptions,
  type GaussianDistanceOptions,
} from "../metrics/crystal_graph.ts";
import { CGCNN, DEFAULT_CGCNN, disposeGraphTensors, graphTensors, type CGCNNConfig, type GraphTensors } from "../metrics/cgcnn.ts";

/** Tag in the checkpoint's meta that marks a predictor checkpoint. */
export const PREDICTOR_KIND = "crystal-grpo-predictor";
/** Structures per forward pass in `predict` (bounds memory; ~12 edges × 20 sites each). */
const PREDICT_CHUNK = 256;

/** Everything that defines a predictor besides its weights (stored in config.yaml). */
export interface PredictorSpec {
  targetNames: string[];
  /** Training mean of each target (physical units). */
  targetMean: number[];
  /** Training unbiased std of each target; predictions are model · std + mean. */
  targetStd: number[];
  graph: Required<CrystalGraphOptions>;
  gaussian: GaussianDistanceOptions;
  model: CGCNNConfig;
}

export interface PredictorCreateOptions {
  targetNames: string[];
  targetMean: number[];
  targetStd: number[];
  graph?: CrystalGraphOptions;
  gaussian?: GaussianDistanceOptions;
  model?: Partial<Omit<CGCNNConfig, "atomFeatureSize" | "edgeFeatureSize" | "numTargets">>;
  /** Seed of the weight initialisation (default 0). */
  seed?: number;
}

export interface PredictOptions {
  /** A structure whose graph cannot be built: throw (default) or predict NaN. */
  invalid?: "throw" | "nan";
}

/** Mean and unbiased (n − 1) standard deviation, like torch.mean / torch.std. */
export function targetStats(values: readonly number[]): { mean: number; std: number } {
  if (values.length < 2 || values.some((v) => !Number.isFinite(v))) {
    throw new PredictorError(`target statistics need at least 2 finite values, got ${values.length} (${values.filter((v) => !Number.isFinite(v)).length} non-finite)`);
  }
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1);
  return { mean, std: Math.sqrt(variance) };
}

function checkSpec(spec: PredictorSpec): void {
  const n = spec.targetNames?.length;
  const bad: string[] = [];
  if (!(n > 0) || spec.targetNames.some((t) => typeof t !== "string" || t === "")) bad.push("targetNames must be a non-empty list of names");
  if (spec.targetMean?.length !== n || spec.targetMean.some((v) => !Number.isFinite(v))) bad.push(`targetMean must hold ${n} finite numbers`);
  if (spec.targetStd?.length !== n || spec.targetStd.some((v) => !(v > 0 && Number.isFinite(v)))) bad.push(`targetStd must hold ${n} positive numbers`);
  if (spec.model?.numTargets !== n) bad.push(`model.numTargets (${spec.model?.numTargets}) must equal the number of targets (${n})`);
  if (bad.length) throw new PredictorError(`predictor spec: ${bad.join("; ")}`);
}

export class PredictorModule {
  readonly gaussian: GaussianDistance;

  constructor(
    readonly model: CGCNN,
    readonly spec: PredictorSpec,
  ) {
    checkSpec(spec);
    this.gaussian = new GaussianDistance(spec.gaussian);
    if (this.gaussian.size !== model.config.edgeFeatureSize) {
      throw new PredictorError(`GaussianDistance gives ${this.gaussian.size} edge features but the model expects ${model.config.edgeFeatureSize}`);
    }
  }

  /** A freshly initialised predictor (before training). */
  static create(options: PredictorCreateOptions): PredictorModule {
    const graph = resolveGraphOptions(options.graph);
    const gaussian = { dmax: graph.cutoff, ...options.gaussian };
    const size = new GaussianDistance(gaussian).size;
    const model: CGCNNConfig = { ...DEFAULT_CGCNN, ...options.model, atomFeatureSize: ELEMENT_FEATURE_SIZE, edgeFeatureSize: size, numTargets: options.targetNames.length };
    const spec: PredictorSpec = { targetNames: [...options.targetNames], targetMean: [...options.targetMean], targetStd: [...options.targetStd], graph, gaussian, model };
    checkSpec(spec);
    return new PredictorModule(new CGCNN(model, new Rng(options.seed ?? 0)), spec);
  }

  get targetNames(): readonly string[] {
    return this.spec.targetNames;
  }

  get targetMean(): readonly number[] {
    return this.spec.targetMean;
  }

  get targetStd(): readonly number[] {
    return this.spec.targetStd;
  }

  /** The crystal graph of a structure with this predictor's cutoff and neighbour count. */
  graphOf(structure: Structure): CrystalGraph {
    return buildCrystalGraph(structure, this.spec.graph);
  }

  /** The graphs as one batch of tensors (the caller disposes them with disposeGraphTensors, after any backward pass). */
  graphTensors(graphs: readonly CrystalGraph[]): GraphTensors {
    return graphTensors(batchGraphs(graphs, this.gaussian));
  }

  /** Standardised outputs [numGraphs, numTargets] (a tensor; the caller disposes). */
  forward(t: GraphTensors): tf.Tensor2D {
    return this.model.forward(t);
  }

  /** Training loss on standardised targets [numGraphs, numTargets]: mean squared (default) or absolute error. */
  loss(t: GraphTensors, standardisedTargets: tf.Tensor2D, kind: "mse" | "l1" = "mse"): tf.Scalar {
    return tf.tidy(() => {
      const diff = tf.sub(this.model.forward(t), standardisedTargets);
      return (kind === "l1" ? tf.mean(tf.abs(diff)) : tf.mean(tf.square(diff))) as tf.Scalar;
    });
  }

  /** Physical-unit predictions per graph: one row per graph, one column per target. */
  predictGraphs(graphs: readonly CrystalGraph[]): number[][] {
    const rows: number[][] = [];
    const wasTraining = this.model.training;
    this.model.eval();
    try {
      for (let start = 0; start < graphs.length; start += PREDICT_CHUNK) {
        const t = this.graphTensors(graphs.slice(start, start + PREDICT_CHUNK));
        const out = this.model.forward(t);
        const data = out.dataSync();
        out.dispose();
        disposeGraphTensors(t);
        const k = this.spec.targetNames.length;
        for (let r = 0; r < data.length / k; r++) {
          rows.push(this.spec.targetNames.map((_, t) => data[r * k + t] * this.spec.targetStd[t] + this.spec.targetMean[t]));
        }
      }
    } finally {
      this.model.train(wasTraining);
    }
    return rows;
  }

  /** Predictions of every target, keyed by target name. */
  predictAll(structures: readonly Structure[], options: PredictOptions = {}): Record<string, number[]> {
    if (!Array.isArray(structures)) throw new PredictorError(`predict needs an array of Structure, got ${typeof structures}`);
    const graphs: (CrystalGraph | null)[] = structures.map((s, i) => this.safeGraph(s, i, options.invalid ?? "throw"));
    const ok = graphs.filter((g): g is CrystalGraph => g !== null);
    const rows = ok.length ? this.predictGraphs(ok) : [];
    let next = 0;
    const full = graphs.map((g) => (g === null ? this.spec.targetNames.map(() => NaN) : rows[next++]));
    return Object.fromEntries(this.spec.targetNames.map((name, t) => [name, full.map((r) => r[t])]));
  }

  /** Predictions of the first (usually only) target, one per structure. */
  predict(structures: readonly Structure[], options: PredictOptions = {}): number[] {
    return this.predictAll(structures, options)[this.spec.targetNames[0]];
  }

  private safeGraph(s: Structure, i: number, invalid: "throw" | "nan"): CrystalGraph | null {
    try {
      return this.graphOf(s);
    } catch (e) {
      if (invalid === "nan" && e instanceof CrystalGraphError) return null;
      if (e instanceof CrystalGraphError) throw new CrystalGraphError(`structure ${i}: ${e.message} (pass { invalid: "nan" } to get NaN instead)`);
      throw e;
    }
  }

  /** Writes a checkpoint (atomic; see nn/checkpoint.ts); `meta` is kept in meta.json (e.g. test MAE). */
  async save(dir: string, extra: Omit<CheckpointContents, "module" | "config"> = {}): Promise<void> {
    await saveCheckpoint(dir, { ...extra, module: this.model, config: this.spec, meta: { ...extra.meta, kind: PREDICTOR_KIND } });
  }

  /** Loads a predictor written by {@link save} (or train_predictor.ts). Bad or foreign checkpoints are a CheckpointError. */
  static async loadFromCheckpoint(dir: string): Promise<PredictorModule> {
    if (typeof dir !== "string" || dir === "") throw new CheckpointError(`PredictorModule.loadFromCheckpoint needs a checkpoint directory, got ${JSON.stringify(dir)}`);
    const ckpt = await readCheckpoint(dir);
    // A config may load us before any script called initBackend: let tfjs finish starting its back-end.
    await tf.ready();
    if (ckpt.meta.meta?.kind !== PREDICTOR_KIND) {
      throw new CheckpointError(`is not a predictor checkpoint (meta.json meta.kind is ${JSON.stringify(ckpt.meta.meta?.kind)}, expected "${PREDICTOR_KIND}"); train one with src/train_predictor.ts`, ckpt.dir);
    }
    const spec = ckpt.config as PredictorSpec;
    let predictor: PredictorModule;
    try {
      predictor = new PredictorModule(new CGCNN(spec.model, new Rng(0)), spec);
    } catch (e) {
      if (e instanceof PredictorError) throw new CheckpointError(`config.yaml does not describe a predictor: ${e.message}`, ckpt.dir);
      throw e;
    }
    try {
      restoreCheckpoint(ckpt, { module: predictor.model });
    } catch (e) {
      predictor.dispose();
      throw e;
    }
    predictor.model.eval();
    return predictor;
  }

  /** The seed's (Lightning) name; `map_location` is accepted and ignored (weights load on the active tfjs back-end). */
  static load_from_checkpoint(checkpointPath: string, _options: { map_location?: unknown } = {}): Promise<PredictorModule> {
    return PredictorModule.loadFromCheckpoint(checkpointPath);
  }

  dispose(): void {
    this.model.dispose();
  }
}

/**
 * Config factory of `PredictorModule.load_from_checkpoint` (registered in config/targets.ts):
 * kwargs `checkpoint_path` (required) and `map_location` (accepted, ignored), as the seed.
 */
export async function loadPredictorFromKwargs(kwargs: Record<string, unknown>): Promise<PredictorModule> {
  const { checkUnknownKeys } = await import("../config/schema.ts");
  checkUnknownKeys(kwargs, ["checkpoint_path", "map_location"], "PredictorModule.load_from_checkpoint");
  const path = kwargs.checkpoint_path;
  if (typeof path !== "string" || path === "") {
    throw new PredictorError(`PredictorModule.load_from_checkpoint needs checkpoint_path (a directory, e.g. \${hub:mp_20_predictor_band_gap}), got ${JSON.stringify(path)}`);
  }
  return PredictorModule.loadFromCheckpoint(path);
}
