/**
 * The bookkeeping a training loop does after each validation: is this the best value of the
 * monitored metric so far (save `checkpoints/best`), and has it gone too long without
 * improving (stop early)? One class shared by train_vae, train_ldm and train_rl, with the
 * semantics of the seed's Lightning callbacks:
 *
 *   - `ModelCheckpoint(monitor, mode, save_top_k=1)`: a value is the new best when it is
 *     strictly lower (`mode: min`) or strictly higher (`mode: max`) than the best so far; the
 *     first validation always is (the best starts at +∞ / −∞).
 *   - `EarlyStopping(monitor, mode, patience)` with `min_delta=0`: every validation that is not
 *     an improvement adds one to a stale counter, an improvement resets it to 0, and training
 *     stops once the counter reaches `patience`.
 *
 * Two deliberate differences from Lightning:
 *   - "patience off": `patience` null, undefined or 0 never stops. (Lightning has no off
 *     switch — you leave the callback out — and its patience 0 stops at the first validation
 *     that does not improve; our configs write `callbacks.early_stopping: null` or
 *     `patience: 0` for "off", so both mean the same here.)
 *   - a NaN or infinite monitored value throws a `MonitorError` naming the metric, where
 *     Lightning's `check_finite` stops silently: a diverged validation should be loud.
 *
 *     const monitor = new CheckpointMonitor({ monitor: "val/reward", mode: "max", patience: 10 });
 *     const { improved, shouldStop } = monitor.update(val["val/reward"]);
 *     if (improved) await save("best");
 *     await save("last");                       // with monitor.state() in the meta, for resume
 *     if (shouldStop) return monitor.stopReason();
 */
import { ConfigError } from "../config/errors.ts";
import { MonitorError } from "../crystal/errors.ts";

/** Whether a lower (`min`, a loss) or a higher (`max`, a reward) monitored value is better. */
export type MonitorMode = "min" | "max";

export interface CheckpointMonitorOptions {
  /** The metric's name, as logged (e.g. `val/reward`); used in messages only. */
  monitor: string;
  /** `callbacks.early_stopping.mode` / `model_checkpoint.mode`; default `min`. */
  mode?: MonitorMode;
  /** Validations without improvement before stopping; null, undefined or 0 = never stop. */
  patience?: number | null;
}

/** What a checkpoint keeps so that a resumed run stops exactly where an uninterrupted one would. */
export interface MonitorState {
  /** Best monitored value so far (±∞ before the first validation). */
  best: number;
  /** Validations since the best one. */
  staleValidations: number;
}

/** The verdict on one validation. */
export interface MonitorVerdict {
  /** The value is the new best: save `checkpoints/best`. */
  improved: boolean;
  /** Patience is on and used up: stop training. */
  shouldStop: boolean;
}

/** True when `value` strictly beats `best` under `mode` (ties are not improvements, as in Lightning). */
export function improvesOn(value: number, best: number, mode: MonitorMode): boolean {
  return mode === "max" ? value > best : value < best;
}

/** The worst possible value under `mode`: every finite value improves on it. */
export function worstValue(mode: MonitorMode): number {
  return mode === "max" ? -Infinity : Infinity;
}

/** null / undefined / 0 → 0 (off); otherwise an integer ≥ 1, or a ConfigError naming the key. */
function checkPatience(patience: number | null | undefined): number {
  if (patience === null || patience === undefined) return 0;
  if (!Number.isInteger(patience) || patience < 0) {
    throw new ConfigError(`must be an integer ≥ 1 (validations without improvement), or 0 / null for no early stopping; got ${patience}.`, "callbacks.early_stopping.patience");
  }
  return patience;
}

function checkMode(mode: unknown): MonitorMode {
  if (mode !== "min" && mode !== "max") throw new ConfigError(`must be min or max, got ${JSON.stringify(mode)}.`, "callbacks.early_stopping.mode");
  return mode;
}

/** Best-checkpoint and early-stopping bookkeeping for one monitored validation metric. */
export class CheckpointMonitor {
  readonly monitor: string;
  readonly mode: MonitorMode;
  /** Validations without improvement before stopping; 0 = off. */
  readonly patience: number;
  private bestValue: number;
  private stale = 0;

  constructor(opts: CheckpointMonitorOptions) {
    this.monitor = opts.monitor;
    this.mode = checkMode(opts.mode ?? "min");
    this.patience = checkPatience(opts.patience);
    this.bestValue = worstValue(this.mode);
  }

  /** Best monitored value so far (±∞ before the first validation). */
  get best(): number {
    return this.bestValue;
  }

  /** Validations since the best one. */
  get staleValidations(): number {
    return this.stale;
  }

  /** Whether early stopping is on (patience ≥ 1). */
  get earlyStopping(): boolean {
    return this.patience > 0;
  }

  /**
   * Records one validation's monitored value and says whether it is the new best and whether
   * to stop. Throws a MonitorError for NaN / ±∞, leaving the state unchanged.
   */
  update(value: number): MonitorVerdict {
    if (!Number.isFinite(value)) {
      throw new MonitorError(
        `monitored metric "${this.monitor}" is ${value} (best so far ${this.bestValue}); training diverged or validation produced no valid samples. ` +
          "Lower the learning rate, resume from checkpoints/best, or check the validation data.",
      );
    }
    const improved = improvesOn(value, this.bestValue, this.mode);
    if (improved) {
      this.bestValue = value;
      this.stale = 0;
    } else {
      this.stale += 1;
    }
    return { improved, shouldStop: this.earlyStopping && this.stale >= this.patience };
  }

  /** The state to store in a checkpoint's meta. */
  state(): MonitorState {
    return { best: this.bestValue, staleValidations: this.stale };
  }

  /**
   * Restores a stored state; fields that are absent or not numbers (older checkpoints, or a
   * best of ±∞ that JSON wrote as null) keep their current value.
   */
  restore(state: Partial<Record<keyof MonitorState, unknown>>): void {
    if (typeof state.best === "number") this.bestValue = state.best;
    if (typeof state.staleValidations === "number" && Number.isInteger(state.staleValidations) && state.staleValidations >= 0) this.stale = state.staleValidations;
  }

  /** "best so far 0.1234", or a note that nothing was validated yet. */
  describeBest(): string {
    return Number.isFinite(this.bestValue) ? `best so far ${this.bestValue.toFixed(4)}` : "first validation since the start";
  }

  /** Why training stopped, for the log line. */
  stopReason(): string {
    return `early stopping: ${this.monitor} did not improve in ${this.patience} validations`;
  }
}
