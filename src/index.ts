/**
 * crystal-grpo public API. One barrel for notebooks, scripts and `import ... from "crystal-grpo"`.
 * Sections are grouped by module (see ../shared/DESIGN.md); keep each export in its section.
 */

// --- crystal core ---
export * from "./crystal/errors.ts";
export { Lattice, type PointInSphere, type DistanceAndImage } from "./crystal/lattice.ts";
export { Structure, countSpecies, type StructureOptions, type PeriodicSite, type Neighbor } from "./crystal/structure.ts";
export {
  getSpaceGroupNumber,
  getSpaceGroupSymbol,
  getSymmetryDataset,
  getPrimitiveStandardStructure,
  getConventionalStandardStructure,
  type SymmetryOptions,
  type SymmetryDataset,
  type SymmetryOperation,
} from "./crystal/symmetry.ts";
export {
  Composition,
  reduceFormula,
  AMOUNT_TOLERANCE,
  SPECIAL_FORMULAS,
  type CompositionInput,
  type CompositionOptions,
} from "./crystal/composition.ts";
export { Element, ELEMENTS, getElement, isElementSymbol, type Block } from "./crystal/elements.ts";
export { parseFormula, formatAmount, pythonRound, pythonFloatRepr } from "./crystal/formula.ts";

// --- crystal I/O ---
export {
  parseCif,
  parseCifAll,
  parseCifBlocks,
  parseCifNumber,
  structureFromCifBlock,
  structureToCif,
  type CifReadOptions,
  type CifWriteOptions,
  type CifBlock,
  type CifItem,
} from "./crystal/io/cif.ts";
export { SymmOp } from "./crystal/io/symops.ts";
export { parsePoscar, structureToPoscar, type PoscarReadOptions } from "./crystal/io/poscar.ts";
export {
  structureToPymatgenDict,
  structureFromPymatgenDict,
  type PymatgenStructureDict,
  type PymatgenSiteDict,
  type PymatgenLatticeDict,
  type PymatgenSpeciesDict,
} from "./crystal/io/pymatgen_dict.ts";

// --- data ---
export {
  loadDataset,
  loadDatasetFile,
  iterateDataset,
  iterateDatasetFile,
  listDatasets,
  listSplits,
  resolveDatasetFile,
  numAtomsDistribution,
  parsePropertyValue,
  DATASETS_DIR,
  type DatasetRecord,
  type DatasetOptions,
  type DatasetProgress,
  type LoadedDataset,
  type BadRow,
  type PropertyValue,
  type NumAtomsDistribution,
} from "./data/datasets.ts";
export { CsvParser, parseCsv } from "./data/csv.ts";
export {
  ProgressBar,
  formatProgressLine,
  formatDuration,
  progressEnabled,
  type ProgressBarOptions,
  type ProgressState,
} from "./data/progress.ts";
export {
  collate,
  collateHost,
  toTensors,
  toHost,
  batchToStructures,
  hostToStructures,
  disposeBatch,
  niggliReduce,
  emptyHostBatch,
  selectRows,
  type CrystalBatch,
  type HostBatch,
  type CollateOptions,
} from "./data/batch.ts";
export { randomTranslation, randomRotationMatrix, rotateStructure } from "./data/augment.ts";
export { CrystalDataLoader, type DataLoaderOptions, type DataLoaderState } from "./data/loader.ts";

// --- nn (tensor engine) ---
export { tf } from "./nn/tf.ts";
export {
  initBackend,
  getBackendInfo,
  type BackendInfo,
  type BackendName,
  type BackendRequest,
  type InitBackendOptions,
} from "./nn/backend.ts";
export { NnArgumentError, StateDictError, CheckpointError } from "./nn/errors.ts";
export { Rng, type RngState } from "./nn/rng.ts";
export * as init from "./nn/init.ts";
export { Module, ModuleList, ModuleDict, type TorchLayout, type LoadResult } from "./nn/module.ts";
export {
  Linear,
  Embedding,
  LayerNorm,
  Dropout,
  MLP,
  gelu,
  geluTanh,
  silu,
  activation,
  type ActivationName,
  type LinearInit,
  type LinearOptions,
  type LayerNormOptions,
  type MLPOptions,
} from "./nn/layers.ts";
export { layerNorm } from "./nn/kernels/layer_norm.ts";
export { simdBatchMatMulInfo, setSimdBatchMatMulEnabled, type SimdBatchMatMulInfo } from "./nn/kernels/wasm_simd/batch_mat_mul.ts";
export { MultiHeadSelfAttention, type AttentionOptions } from "./nn/attention.ts";
export { TransformerBlock, type TransformerBlockOptions } from "./nn/transformer.ts";
export { DiTBlock, FinalLayer, modulate, type DiTBlockOptions } from "./nn/dit_block.ts";
export { TimestepEmbedder, timestepEmbedding, type TimestepEmbedderOptions } from "./nn/embeddings.ts";
export {
  AdamW,
  clipGradNorm,
  valueAndGrads,
  disposeGrads,
  type GradMap,
  type AdamWOptions,
  type AdamWStateMeta,
} from "./nn/optim.ts";
export {
  ConstantLR,
  CosineAnnealingLR,
  WarmupLinearLR,
  ReduceLROnPlateau,
  type LRScheduler,
  type HasLr,
  type SchedulerState,
  type ReduceLROnPlateauOptions,
} from "./nn/schedulers.ts";
export { EMA } from "./nn/ema.ts";
export {
  saveCheckpoint,
  loadCheckpoint,
  readCheckpoint,
  restoreCheckpoint,
  CHECKPOINT_FORMAT,
  CHECKPOINT_FORMAT_VERSION,
  type Checkpoint,
  type CheckpointContents,
  type CheckpointManifest,
  type CheckpointMeta,
  type TensorRecord,
  type SaveOptions,
  type SaveStage,
  type RestoreTargets,
} from "./nn/checkpoint.ts";
export {
  CheckpointMonitor,
  improvesOn,
  worstValue,
  type MonitorMode,
  type MonitorState,
  type MonitorVerdict,
  type CheckpointMonitorOptions,
} from "./nn/checkpoint_monitor.ts";

// --- metrics ---
export {
  PhaseDiagram,
  type PDEntry,
  type PDEntryInput,
  type PhaseDiagramOptions,
  type DecompositionTerm,
} from "./crystal/phase_diagram.ts";
export { solveFromIdentityBasis, type SimplexSolution, type StandardLP } from "./crystal/simplex.ts";
export { mmdReward, referenceKernelMean, polynomialKernel, type MmdRewardResult, type MmdOptions } from "./metrics/mmd.ts";
export { StructureMatcher, type StructureMatcherOptions, type PreparedStructure } from "./crystal/structure_matcher.ts";
export { linearSumAssignment, AssignmentError, type Assignment } from "./crystal/assignment.ts";
export { averageMinimumDistance, amdDistance } from "./crystal/amd.ts";
export { ReferenceIndex, isUnique, isNovel, successiveMinima, type ReferenceIndexOptions } from "./metrics/novelty.ts";
export {
  Metrics,
  MetricsCache,
  MetricsResult,
  METRIC_NAMES,
  datasetFolderName,
  ENERGY_MODEL_NAMES,
  type EnergyModelName,
  type FeaturizerSource,
  type MetricName,
  type MetricsOptions,
  type MetricsRow,
  type DiversityResult,
} from "./metrics/metrics.ts";
export { compositionValidity, isSmactMetal, type CompositionValidityOptions, type OxidationStateSet } from "./metrics/composition_validity.ts";
export {
  EAboveHullCalculator,
  ReferenceMatchEnergyModel,
  CompositionLinearEnergyModel,
  loadReferenceHull,
  structureKey,
  type EnergyModel,
  type EAboveHullOptions,
  type ReferenceHullOptions,
} from "./metrics/energy.ts";
export {
  VaeStructureFeaturizer,
  VaeCompositionFeaturizer,
  AmdStructureFeaturizer,
  ElementPropertyFeaturizer,
  referenceFeatures,
  featureCacheDir,
  stackFeatures,
  vaeFeaturizers,
  vaeWeightsId,
  type Featurizer,
  type VaeLike,
  type FeatureMatrix,
  type ReferenceFeatureOptions,
} from "./metrics/featurizers.ts";
export {
  buildCrystalGraph,
  batchGraphs,
  resolveGraphOptions,
  elementFeatures,
  GaussianDistance,
  ELEMENT_FEATURE_SIZE,
  DEFAULT_CUTOFF,
  DEFAULT_MAX_NEIGHBORS,
  type CrystalGraph,
  type CrystalGraphOptions,
  type GaussianDistanceOptions,
  type GraphBatch,
} from "./metrics/crystal_graph.ts";
export { CGCNN, CGConv, DEFAULT_CGCNN, checkCGCNNConfig, gatherRows, segmentSum, graphTensors, disposeGraphTensors, type CGCNNConfig, type GraphTensors } from "./metrics/cgcnn.ts";
export { CgcnnEnergyModel, DEFAULT_ENERGY_PREDICTOR_DIR, type CgcnnEnergyModelOptions } from "./metrics/cgcnn_energy_model.ts";

// --- rl_module ---
export {
  normalizeRewards,
  normalizeArray,
  zeroVarianceFraction,
  resolveGroups,
  unbiasedStd,
  NORMALIZERS,
  registerNormalizer,
  getNormalizer,
  type Normalizer,
  type NormalizeFnName,
  type GroupOptions,
} from "./rl_module/normalize.ts";
export {
  RewardComponent,
  CustomReward,
  PredictorReward,
  CreativityReward,
  EnergyReward,
  StructureDiversityReward,
  CompositionDiversityReward,
  fillInvalid,
  type RewardContext,
  type RewardComponentOptions,
  type RewardFunction,
  type Predictor,
  type PredictorRewardOptions,
} from "./rl_module/components.ts";
export {
  ReinforceReward,
  decompositionTable,
  weightedRows,
  type ReinforceRewardOptions,
  type Aggregation,
  type RewardDecomposition,
  type DecompositionRow,
  type ComponentValue,
  type ComponentSummary,
} from "./rl_module/reward.ts";
export { registerReward, createReward, registeredRewards, rewardFactory, BUILT_IN_REWARD_TARGETS, type RewardComponentClass } from "./rl_module/custom_rewards.ts";
export {
  calculateLogProb,
  grpoObjective,
  LOSS_TYPES,
  registerLossType,
  getLossType,
  tokenCounts,
  probabilityRatio,
  clippedSurrogate,
  k3Kl,
  clipFraction,
  type LossAggregation,
  type GrpoObjectiveInputs,
  type GrpoTerms,
} from "./rl_module/grpo.ts";
export {
  RLModule,
  rlModuleFactory,
  rawWeightedTotals,
  type RLModuleOptions,
  type LossTerms,
  type LossResult,
  type RewardResult,
  type StepRecord,
  type OptimizerFactory,
  type SchedulerFactory,
} from "./rl_module/rl_module.ts";
export { resolveRLConfigs, resolveSamplingConfigs, RL_CONFIG_DEFAULTS, SAMPLING_DEFAULTS, type RLConfigs, type SamplingConfigs } from "./rl_module/rl_configs.ts";
export { innerBatches, repeatPrompts, trajectoryLogProbs, selectTrajectoryRows, disposeTrajectory, stackSteps, type StackedSteps, type Trajectory, type RolloutInput } from "./rl_module/trajectory.ts";
export { summarizeRun, summarizeMetricsFile, formatRunSummary, type RunSummary, type MetricsRecord } from "./rl_module/run_summary.ts";

// --- config ---
export { ConfigError } from "./config/errors.ts";
export {
  composeConfig,
  composeConfigDetailed,
  loadCustomModules,
  CONFIGS_DIR,
  type ComposeOptions,
  type ComposedConfig,
} from "./config/loader.ts";
export { resolveInterpolations, registerResolver, listResolvers, formatDate, type Resolver, type ResolverContext, type InterpolateOptions } from "./config/interpolate.ts";
export { registerHub, resolveHub, listHubs, CHECKPOINTS_DIR } from "./config/hub.ts";
export { parseOverride, parseOverrideValue, parseCliArgs, applyOverrides, nearestKeys, type Override, type OverrideKind, type CliArgs } from "./config/overrides.ts";
export { TargetRegistry, defaultRegistry, registerTarget, SEED_ALIASES, type TargetFactory, type Kwargs } from "./config/registry.ts";
export { instantiate, type InstantiateOptions, type PartialTarget } from "./config/instantiate.ts";
export {
  camelizeKeys,
  toCamelCase,
  toSnakeCase,
  isReservedKey,
  requireKeys,
  checkUnknownKeys,
  checkEnum,
  checkPositiveInt,
  checkNumber,
  checkBoolean,
  checkDivisible,
  MISSING,
} from "./config/schema.ts";
export { saveResolvedConfig, configToYaml, type SaveConfigOptions } from "./config/save.ts";
export { isConfigObject, mergeConfig, cloneConfig, parseKeyPath, type ConfigValue, type ConfigObject } from "./config/tree.ts";
export { listGroupOptions } from "./config/config_files.ts";
export { closestMatches, didYouMean } from "./config/suggest.ts";

// --- vae_module ---
export { VAEModule, LOGVAR_RANGE, type EncodeOutput, type VAEStepResult, type TrainingStepOptions } from "./vae_module/vae_module.ts";
export {
  resolveVAEConfig,
  vaeConfigFromYaml,
  vaeConfigToYaml,
  vaeConfigFromModuleConfig,
  checkStackConfig,
  VAE_DEFAULTS,
  VAE_MODULE_KEYS,
  type VAEConfig,
  type VAELossWeights,
} from "./vae_module/config.ts";
export { vaeModuleFactory, transformerStackFactory } from "./vae_module/vae_targets.ts";
export { CrystalEncoder, TransformerStack } from "./vae_module/encoder.ts";
export { CrystalDecoder, type VAEPredictions } from "./vae_module/decoder.ts";
export { vaeLosses, VAE_LOSS_NAMES, type VAELossName, type VAELossTensors } from "./vae_module/losses.ts";
export { decodeArrays, arraysToStructures, type DecodedStructure, type DecodedArrays } from "./vae_module/decode_structures.ts";
export { measureLatentStats, measureLatentStd, type LatentStats } from "./vae_module/latent_stats.ts";
export { saveVAE, loadVAE, vaeFromCheckpoint, type SaveVAEOptions } from "./vae_module/vae_checkpoint.ts";
export { evaluateReconstruction, seedMatchers, type ReconstructionReport, type ReconstructionItem, type EvaluateOptions } from "./vae_module/evaluate.ts";
export {
  PredictorModule,
  PREDICTOR_KIND,
  targetStats,
  loadPredictorFromKwargs,
  type PredictorSpec,
  type PredictorCreateOptions,
  type PredictOptions,
} from "./vae_module/predictor_module.ts";

// --- ldm_module ---
export {
  DiffusionError,
  GaussianDiffusion,
  createDiffusion,
  spacedDiffusion,
  spaceTimesteps,
  sampleLoop,
  cfgModel,
  linearBetaSchedule,
  cosineBetaSchedule,
  betasForAlphaBar,
  namedBetaSchedule,
  scheduleArrays,
  normalKl,
  gaussianKlFromMeanDiff,
  approxStandardNormalCdf,
  discretizedGaussianLogLikelihood,
  gaussianLogLikelihood,
  maskedMeanFlat,
  stopGradient,
  fullTimesteps,
  type GaussianDiffusionOptions,
  type CreateDiffusionOptions,
  type RespacingSpec,
  type SampleLoopOptions,
  type SampleLoopResult,
  type CfgOptions,
  type PMeanVariance,
  type GaussianMoments,
  type TrainingLosses,
  type TrainingLossOptions,
  type StepOptions,
  type DdimOptions,
  type BetaScheduleName,
  type ScheduleArrays,
  type Denoiser,
  type DenoiserExtra,
  type NoiseFn,
  type Timesteps,
  type ModelMeanType,
  type ModelVarType,
  type LossType,
  type DecoderNll,
  type ModelCallOptions,
  type StepMeanStd,
  type StepSample,
} from "./ldm_module/diffusion/index.ts";
export { LDMModule, type LDMModuleOptions, type LDMStepResult } from "./ldm_module/ldm_module.ts";
export {
  maskFromNumAtoms,
  disposeSampleResult,
  type LDMSampleInput,
  type LDMSampleOptions,
  type LDMSampleResult,
  type GeneratedBatch,
} from "./ldm_module/ldm_sampling.ts";
export { saveLDM, loadLDM, portablePath, resolveStoredPath, type SaveLDMOptions, type LoadLDMOptions } from "./ldm_module/ldm_checkpoint.ts";
export {
  ldmHparamsFromYaml,
  ldmHparamsToYaml,
  diffusionFromYaml,
  diffusionToYaml,
  createDiffusionOptions,
  conditionModuleFromYaml,
  DIFFUSION_DEFAULTS,
  LDM_MODULE_KEYS,
  type LDMHparams,
  type DiffusionSettings,
} from "./ldm_module/ldm_config.ts";
export { DiT, ConditionEmbedder, compositionCondition, COMPOSITION_CLASSES, type DiTExtra } from "./ldm_module/denoiser.ts";
export {
  DIT_SIZES,
  resolveDiTConfig,
  validateDiTConfig,
  ditConfigFromYaml,
  ditConfigToYaml,
  conditionFromYaml,
  type DiTConfig,
  type DiTSizeName,
  type ConditionConfig,
  type ConditionType,
} from "./ldm_module/sizes.ts";
export { NumAtomsSampler, type NumAtomsHistogram } from "./ldm_module/num_atoms.ts";
export {
  evaluateGenerated,
  formatGenerationReport,
  isStructurallyValid,
  MIN_DISTANCE,
  MIN_VOLUME_PER_ATOM,
  type GenerationReport,
  type GeneratedRow,
  type EvaluateOptions as GenerationEvaluateOptions,
} from "./ldm_module/evaluate.ts";
export { ldmTrainSettings, type LDMTrainSettings } from "./ldm_module/train_config.ts";
export { ldmModuleFactory, ditFactory } from "./ldm_module/ldm_targets.ts";
export { conditionValues, batchConditionValues } from "./ldm_module/condition_data.ts";

// --- notebook ---
export { dfToHtml, escapeHtml, formatCell, formatNumber, type DataFrameLike, type TableInput, type TableOptions } from "./notebook/html_table.ts";
export { showTable, showHtml, tableToText } from "./notebook/display.ts";
export { displayBundle, inTslabKernel, type MimeBundle } from "./notebook/kernel.ts";
export type { Figure, Trace, Layout } from "./notebook/plotly_types.ts";
export { figureToHtml } from "./notebook/figure_html.ts";
export { showFigure, figureBundle, resetPlotlyLoader, type ShowFigureOptions } from "./notebook/show_figure.ts";
export { saveFigure, figureFormat, type SaveFigureOptions, type FigureFormat } from "./notebook/save_figure.ts";
export { closeBrowser, hasChromium, chromiumPath } from "./notebook/browser.ts";
export { viewStructure, type ViewStructureOptions } from "./notebook/structure_view.ts";
export { elementColor, covalentRadius } from "./notebook/element_style.ts";
export { componentColor, componentKey, seriesColor } from "./notebook/colors.ts";
export { unitFor, axisTitle } from "./notebook/units.ts";
export { rewardDecompositionFigure, normalizationFigure, advantagesByGroupFigure } from "./notebook/reward_figures.ts";
export { perTimestepFigure, trainingCurvesFigure, readMetricsJsonl, ema, type PerTimestepSeries } from "./notebook/training_figures.ts";
export { hullRows, hullSummary, eAboveHullFigure, type HullRow } from "./notebook/energy_views.ts";
export {
  componentStageRows,
  componentTable,
  componentSummaryTable,
  componentStagesFigure,
  normalizeByStrategy,
  normalizationSummary,
  latentTrajectory,
  latentDenoisingFigure,
  structureLabel,
  decodedTable,
  lossSeries,
  trajectoryLogProbShift,
  logProbShiftFigure,
  beforeAfterFigure,
  type LossStep,
  type RewardStage,
  type LatentTrajectory,
} from "./notebook/rl_views.ts";
