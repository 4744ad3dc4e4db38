/**
 * Optimisation: gradients by parameter name, global-norm clipping and AdamW.
 *
 * Gradients travel as `Map<dotted name, tf.Tensor>` (the names of `Module.namedParameters`),
 * which is what the optimizer state and checkpoints are keyed by.
 */
import { tf } from "./tf.ts";
import type { Module } from "./module.ts";
import { NnArgumentError } from "./errors.ts";

/** Gradients keyed by dotted parameter name; the caller owns (and disposes) the tensors. */
export type GradMap = Map<string, tf.Tensor>;

/**
 * Loss and gradients of every trainable parameter of `module`. Runs `lossFn` under
 * `tf.variableGrads`, so intermediate tensors are freed; frozen parameters get no entry.
 * The caller disposes `loss` and the gradients (see `disposeGrads`).
 */
export function valueAndGrads(module: Module, lossFn: () => tf.Scalar): { loss: tf.Scalar; grads: GradMap } {
  const trainable = module.trainableParameters();
  if (trainable.size === 0) {
    throw new NnArgumentError("valueAndGrads: the module has no trainable parameters (all frozen?); unfreeze() it first.");
  }
  const { value, grads } = tf.variableGrads(lossFn, [...trainable.values()]);
  const out: GradMap = new Map();
  for (const [name, v] of trainable) out.set(name, grads[v.name]);
  return { loss: value, grads: out };
}

export function disposeGrads(grads: GradMap): void {
  for (const g of grads.values()) g.dispose();
  grads.clear();
}

/**
 * Clip gradients to a global L2 norm, in place, like `torch.nn.utils.clip_grad_norm_`:
 * total = ‖(‖g₁‖, ‖g₂‖, ...)‖₂, every gradient is multiplied by
 * min(1, maxNorm / (total + 1e-6)) (also when that is 1, as torch does). Each map entry is
 * replaced by its clipped tensor and the old one is disposed. Returns the total norm
 * before clipping (a non-finite value means the gradients hold NaN/Inf).
 */
export function clipGradNorm(grads: GradMap, maxNorm: number): number {
  if (!(maxNorm > 0)) throw new NnArgumentError(`clipGradNorm maxNorm must be > 0, got ${maxNorm}.`);
  if (grads.size === 0) return 0;
  const total = tf.tidy(() => {
    const norms = [...grads.values()].map((g) => tf.sqrt(tf.sum(tf.square(g))));
    return tf.sqrt(tf.sum(tf.square(tf.stack(norms))));
  });
  const coef = tf.tidy(() => tf.minimum(tf.div(tf.scalar(maxNorm), tf.add(total, 1e-6)), 1));
  for (const [name, g] of grads) {
    grads.set(name, tf.mul(g, coef));
    g.dispose();
  }
  coef.dispose();
  const value = total.dataSync()[0];
  total.dispose();
  return value;
}

/** A non-trainable variable taking over `t` (disposed here, so no tensor is left behind). */
function ownedVariable(t: tf.Tensor): tf.Variable {
  const v = tf.variable(t, false);
  t.dispose();
  return v;
}

export interface AdamWOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/** Per-parameter AdamW state: step count and first/second moment estimates. */
interface AdamWSlot {
  step: number;
  expAvg: tf.Variable;
  expAvgSq: tf.Variable;
}

/** JSON part of the optimizer state (the moment tensors are stored separately). */
export interface AdamWStateMeta {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  steps: Record<string, number>;
}

/**
 * AdamW exactly as `torch.optim.AdamW` (1.13, amsgrad off, non-capturable path):
 *   p ← p·(1 − lr·wd);  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
 *   p ← p − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + eps).
 * Note eps is added after dividing √v by the bias correction (torch's placement). Bias
 * corrections are computed in float64 like torch's Python scalars; tensors are float32.
 * A parameter without a gradient in a step is skipped (its step count does not advance).
 * `lr` is public: schedulers set it.
 */
export class AdamW {
  lr: number;
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  private readonly params: Map<string, tf.Variable>;
  private readonly slots = new Map<string, AdamWSlot>();

  /** @param params a module (its trainable parameters now) or a name → variable map. */
  constructor(params: Module | Map<string, tf.Variable>, opts: AdamWOptions = {}) {
    this.params = params instanceof Map ? new Map(params) : params.trainableParameters();
    this.lr = opts.lr ?? 1e-3;
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 1e-2;
    const [b1, b2] = this.betas;
    // Moment buffers are allocated up front (torch does it lazily) so the tensor count is
    // constant from the first step on, which the leak checks rely on.
    for (const [name, p] of this.params) this.slotFor(name, p);
    const bad = !(this.lr >= 0) || !(b1 >= 0 && b1 < 1) || !(b2 >= 0 && b2 < 1) || !(this.eps >= 0) || !(this.weightDecay >= 0);
    if (bad) {
      throw new NnArgumentError(
        `AdamW options out of range (lr ${this.lr}, betas [${this.betas}], eps ${this.eps}, weightDecay ${this.weightDecay}); ` +
          "need lr ≥ 0, 0 ≤ β < 1, eps ≥ 0, weightDecay ≥ 0.",
      );
    }
  }

  /** Apply one update from `grads` (by parameter name). Does not dispose the gradients. */
  step(grads: GradMap): void {
    for (const name of grads.keys()) {
      if (!this.params.has(name)) {
        throw new NnArgumentError(`AdamW.step: gradient for unknown parameter "${name}"; build the optimizer over the same module.`);
      }
    }
    for (const [name, param] of this.params) {
      const g = grads.get(name);
      if (g) this.updateOne(name, param, g);
    }
  }

  private updateOne(name: string, param: tf.Variable, grad: tf.Tensor): void {
    const slot = this.slotFor(name, param);
    slot.step += 1;
    const [b1, b2] = this.betas;
    const bc1 = 1 - b1 ** slot.step;
    const bc2Sqrt = Math.sqrt(1 - b2 ** slot.step);
    const stepSize = this.lr / bc1;
    tf.tidy(() => {
      const decayed = tf.mul(param, 1 - this.lr * this.weightDecay);
      const m = tf.add(tf.mul(slot.expAvg, b1), tf.mul(grad, 1 - b1));
      const v = tf.add(tf.mul(slot.expAvgSq, b2), tf.mul(tf.mul(grad, grad), 1 - b2));
      const denom = tf.add(tf.div(tf.sqrt(v), bc2Sqrt), this.eps);
      slot.expAvg.assign(m);
      slot.expAvgSq.assign(v);
      param.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), stepSize)));
    });
  }

  private slotFor(name: string, param: tf.Variable): AdamWSlot {
    let slot = this.slots.get(name);
    if (!slot) {
      slot = {
        step: 0,
        expAvg: ownedVariable(tf.zerosLike(param)),
        expAvgSq: ownedVariable(tf.zerosLike(param)),
      };
      this.slots.set(name, slot);
    }
    return slot;
  }

  /** Names of the parameters this optimizer updates. */
  paramNames(): string[] {
    return [...this.params.keys()];
  }

  /** Moment tensors as `<param>.exp_avg` / `<param>.exp_avg_sq` (live, do not dispose). */
  stateTensors(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const [name, s] of this.slots) {
      out.set(`${name}.exp_avg`, s.expAvg);
      out.set(`${name}.exp_avg_sq`, s.expAvgSq);
    }
    return out;
  }

  stateMeta(): AdamWStateMeta {
    const steps: Record<string, number> = {};
    for (const [name, s] of this.slots) steps[name] = s.step;
    return { lr: this.lr, betas: [...this.betas], eps: this.eps, weightDecay: this.weightDecay, steps };
  }

  /**
   * Restore from `stateMeta()` + `stateTensors()` (e.g. from a checkpoint). Every problem
   * (unknown parameter, missing moment, wrong shape) is listed in one error.
   */
  loadState(meta: AdamWStateMeta, tensors: Map<string, tf.Tensor>): void {
    const problems: string[] = [];
    for (const [name, step] of Object.entries(meta.steps)) {
      const p = this.params.get(name);
      if (!p) problems.push(`state for unknown parameter "${name}"`);
      for (const key of [`${name}.exp_avg`, `${name}.exp_avg_sq`]) {
        const t = tensors.get(key);
        if (!t) problems.push(`missing "${key}"`);
        else if (p && t.shape.join() !== p.shape.join()) problems.push(`"${key}" has shape [${t.shape}], parameter is [${p.shape}]`);
      }
      if (!Number.isInteger(step) || step < 0) problems.push(`bad step count ${step} for "${name}"`);
    }
    if (problems.length) throw new NnArgumentError(`AdamW.loadState: ${problems.join("; ")}.`);
    this.disposeSlots();
    this.lr = meta.lr;
    for (const [name, p] of this.params) {
      const step = meta.steps[name];
      if (step === undefined) {
        this.slotFor(name, p); // never updated before the save: fresh zero moments
        continue;
      }
      this.slots.set(name, {
        step,
        expAvg: ownedVariable(tensors.get(`${name}.exp_avg`)!.toFloat()),
        expAvgSq: ownedVariable(tensors.get(`${name}.exp_avg_sq`)!.toFloat()),
      });
    }
  }

  private disposeSlots(): void {
    for (const s of this.slots.values()) {
      s.expAvg.dispose();
      s.expAvgSq.dispose();
    }
    this.slots.clear();
  }

  /** Free the moment tensors. */
  dispose(): void {
    this.disposeSlots();
  }
}
