/**
 * Learning-rate schedulers. Each one owns an optimizer-like object with a mutable `lr`
 * (e.g. `AdamW`), sets its initial lr on construction (step 0, as torch schedulers do)
 * and updates it on every `step()`; call `step()` once after each optimizer step
 * (`ReduceLROnPlateau.step(metric)` once per validation).
 */
import { NnArgumentError } from "./errors.ts";

/** Anything with a learning rate to drive. */
export interface HasLr {
  lr: number;
}

/** Serializable scheduler position, stored in checkpoint meta. */
export type SchedulerState = Record<string, number | string | null>;

export interface LRScheduler {
  step(metric?: number): void;
  getLastLr(): number;
  stateDict(): SchedulerState;
  loadStateDict(state: SchedulerState): void;
}

function need(cond: boolean, message: string): void {
  if (!cond) throw new NnArgumentError(message);
}

function readNumber(state: SchedulerState, key: string): number {
  const v = state[key];
  need(typeof v === "number" && Number.isFinite(v), `scheduler state: "${key}" must be a finite number, got ${String(v)}.`);
  return v as number;
}

/**
 * Base for schedulers whose lr is a closed-form function of the step count
 * (torch's `last_epoch`).
 */
abstract class StepScheduler implements LRScheduler {
  protected lastEpoch = 0;
  readonly baseLr: number;

  constructor(protected readonly optimizer: HasLr) {
    this.baseLr = optimizer.lr;
  }

  /** Call at the end of the subclass constructor (fields are ready only then). */
  protected start(): void {
    this.optimizer.lr = this.lrAt(0);
  }

  protected abstract lrAt(epoch: number): number;

  step(): void {
    this.lastEpoch += 1;
    this.optimizer.lr = this.lrAt(this.lastEpoch);
  }

  getLastLr(): number {
    return this.optimizer.lr;
  }

  stateDict(): SchedulerState {
    return { lastEpoch: this.lastEpoch };
  }

  loadStateDict(state: SchedulerState): void {
    this.lastEpoch = readNumber(state, "lastEpoch");
    this.optimizer.lr = this.lrAt(this.lastEpoch);
  }
}

/** Keeps the optimizer's lr (Chemeleon2's RL stage: "constant scheduler"). */
export class ConstantLR extends StepScheduler {
  constructor(optimizer: HasLr) {
    super(optimizer);
    this.start();
  }
  protected lrAt(): number {
    return this.baseLr;
  }
}

/**
 * Cosine annealing from the base lr to `etaMin` over `tMax` steps, then back up (periodic,
 * like torch's `CosineAnnealingLR`): lr = etaMin + (base − etaMin)(1 + cos(π·t/tMax))/2.
 * The closed form is used; torch's recursive update agrees with it to ~1e-16.
 */
export class CosineAnnealingLR extends StepScheduler {
  constructor(
    optimizer: HasLr,
    readonly tMax: number,
    readonly etaMin = 0,
  ) {
    super(optimizer);
    need(Number.isInteger(tMax) && tMax > 0, `CosineAnnealingLR tMax must be a positive integer, got ${tMax}.`);
    need(etaMin >= 0, `CosineAnnealingLR etaMin must be ≥ 0, got ${etaMin}.`);
    this.start();
  }
  protected lrAt(t: number): number {
    return this.etaMin + ((this.baseLr - this.etaMin) * (1 + Math.cos((Math.PI * t) / this.tMax))) / 2;
  }
}

/**
 * Linear warm-up from 0 to the base lr over `warmupSteps`, then linear decay to 0 at
 * `totalSteps` (HuggingFace's `get_linear_schedule_with_warmup`); lr stays 0 afterwards.
 */
export class WarmupLinearLR extends StepScheduler {
  constructor(
    optimizer: HasLr,
    readonly warmupSteps: number,
    readonly totalSteps: number,
  ) {
    super(optimizer);
    need(
      Number.isInteger(warmupSteps) && Number.isInteger(totalSteps) && warmupSteps >= 0 && totalSteps > warmupSteps,
      `WarmupLinearLR needs integers 0 ≤ warmupSteps < totalSteps, got ${warmupSteps}, ${totalSteps}.`,
    );
    this.start();
  }
  protected lrAt(t: number): number {
    if (t < this.warmupSteps) return (this.baseLr * t) / Math.max(1, this.warmupSteps);
    return this.baseLr * Math.max(0, (this.totalSteps - t) / Math.max(1, this.totalSteps - this.warmupSteps));
  }
}

export interface ReduceLROnPlateauOptions {
  mode?: "min" | "max";
  factor?: number;
  patience?: number;
  threshold?: number;
  thresholdMode?: "rel" | "abs";
  cooldown?: number;
  minLr?: number;
  /** Reductions smaller than this are skipped. */
  eps?: number;
}

/**
 * Multiply the lr by `factor` when the metric has not improved (by `threshold`, relative
 * or absolute) for more than `patience` steps, then wait `cooldown` steps; never below
 * `minLr`. Same rules and defaults as torch's `ReduceLROnPlateau`.
 */
export class ReduceLROnPlateau implements LRScheduler {
  readonly mode: "min" | "max";
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: "rel" | "abs";
  readonly cooldown: number;
  readonly minLr: number;
  readonly eps: number;
  private best: number;
  private numBadEpochs = 0;
  private cooldownCounter = 0;
  private lastEpoch = 0;

  constructor(
    private readonly optimizer: HasLr,
    opts: ReduceLROnPlateauOptions = {},
  ) {
    this.mode = opts.mode ?? "min";
    this.factor = opts.factor ?? 0.1;
    this.patience = opts.patience ?? 10;
    this.threshold = opts.threshold ?? 1e-4;
    this.thresholdMode = opts.thresholdMode ?? "rel";
    this.cooldown = opts.cooldown ?? 0;
    this.minLr = opts.minLr ?? 0;
    this.eps = opts.eps ?? 1e-8;
    need(this.mode === "min" || this.mode === "max", `ReduceLROnPlateau mode must be "min" or "max", got "${this.mode}".`);
    need(this.thresholdMode === "rel" || this.thresholdMode === "abs", `thresholdMode must be "rel" or "abs", got "${this.thresholdMode}".`);
    need(this.factor > 0 && this.factor < 1, `ReduceLROnPlateau factor must be in (0, 1), got ${this.factor}.`);
    need(Number.isInteger(this.patience) && this.patience >= 0, `patience must be an integer ≥ 0, got ${this.patience}.`);
    need(Number.isInteger(this.cooldown) && this.cooldown >= 0, `cooldown must be an integer ≥ 0, got ${this.cooldown}.`);
    this.best = this.mode === "min" ? Infinity : -Infinity;
  }

  private isBetter(a: number): boolean {
    const t = this.threshold;
    if (this.mode === "min") return this.thresholdMode === "rel" ? a < this.best * (1 - t) : a < this.best - t;
    return this.thresholdMode === "rel" ? a > this.best * (1 + t) : a > this.best + t;
  }

  /** Report the latest validation metric. */
  step(metric?: number): void {
    need(typeof metric === "number" && !Number.isNaN(metric), `ReduceLROnPlateau.step needs the monitored metric, got ${metric}.`);
    const current = metric as number;
    this.lastEpoch += 1;
    if (this.isBetter(current)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      const newLr = Math.max(this.optimizer.lr * this.factor, this.minLr);
      if (this.optimizer.lr - newLr > this.eps) this.optimizer.lr = newLr;
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
  }

  getLastLr(): number {
    return this.optimizer.lr;
  }

  stateDict(): SchedulerState {
    return {
      best: Number.isFinite(this.best) ? this.best : String(this.best),
      numBadEpochs: this.numBadEpochs,
      cooldownCounter: this.cooldownCounter,
      lastEpoch: this.lastEpoch,
      lr: this.optimizer.lr,
    };
  }

  loadStateDict(state: SchedulerState): void {
    const best = state.best;
    this.best = typeof best === "string" ? Number(best) : readNumber(state, "best");
    need(!Number.isNaN(this.best), `scheduler state: "best" must be a number, got ${String(best)}.`);
    this.numBadEpochs = readNumber(state, "numBadEpochs");
    this.cooldownCounter = readNumber(state, "cooldownCounter");
    this.lastEpoch = readNumber(state, "lastEpoch");
    this.optimizer.lr = readNumber(state, "lr");
  }
}
