/**
 * Exponential moving average of a module's weights (DiT's `update_ema`):
 * shadow ← decay·shadow + (1 − decay)·param after each optimizer step. `swapIn()` puts the
 * averaged weights into the module (for evaluation or sampling) and `swapOut()` restores
 * the training weights; the swap exchanges storage, so it costs no copies.
 */
import { tf } from "./tf.ts";
import type { Module } from "./module.ts";
import { NnArgumentError } from "./errors.ts";

export class EMA {
  private readonly shadow = new Map<string, tf.Variable>();
  private readonly live: Map<string, tf.Variable>;
  private swapped = false;

  /** Starts from a copy of the module's current parameters (all of them, frozen included). */
  constructor(
    module: Module,
    readonly decay = 0.9999,
  ) {
    if (!(decay >= 0 && decay <= 1)) throw new NnArgumentError(`EMA decay must be in [0, 1], got ${decay}.`);
    this.live = module.namedParameters();
    for (const [name, v] of this.live) {
      const copy = tf.clone(v);
      this.shadow.set(name, tf.variable(copy, false));
      copy.dispose();
    }
  }

  /** Fold the module's current weights into the average. Not allowed while swapped in. */
  update(): void {
    if (this.swapped) throw new NnArgumentError("EMA.update() while the average is swapped in; call swapOut() first.");
    tf.tidy(() => {
      for (const [name, s] of this.shadow) {
        s.assign(tf.add(tf.mul(s, this.decay), tf.mul(this.live.get(name)!, 1 - this.decay)));
      }
    });
  }

  /** Load the averaged weights into the module (training weights are kept aside). */
  swapIn(): void {
    if (this.swapped) throw new NnArgumentError("EMA.swapIn(): the average is already swapped in.");
    this.exchange();
    this.swapped = true;
  }

  /** Put the training weights back. */
  swapOut(): void {
    if (!this.swapped) throw new NnArgumentError("EMA.swapOut(): the average is not swapped in.");
    this.exchange();
    this.swapped = false;
  }

  get isSwappedIn(): boolean {
    return this.swapped;
  }

  private exchange(): void {
    for (const [name, s] of this.shadow) {
      const v = this.live.get(name)!;
      const tmp = tf.clone(v);
      v.assign(s);
      s.assign(tmp);
      tmp.dispose();
    }
  }

  /** The averaged weights by parameter name (live, do not dispose); for checkpoints. */
  stateTensors(): Map<string, tf.Tensor> {
    if (this.swapped) throw new NnArgumentError("EMA state requested while swapped in; call swapOut() first.");
    return new Map(this.shadow);
  }

  /** Restore the averages (e.g. from a checkpoint); every missing or mis-shaped name is reported. */
  loadState(tensors: Map<string, tf.Tensor>): void {
    const problems: string[] = [];
    for (const [name, s] of this.shadow) {
      const t = tensors.get(name);
      if (!t) problems.push(`missing "${name}"`);
      else if (t.shape.join() !== s.shape.join()) problems.push(`"${name}" has shape [${t.shape}], expected [${s.shape}]`);
    }
    if (problems.length) throw new NnArgumentError(`EMA.loadState: ${problems.join("; ")}.`);
    tf.tidy(() => {
      for (const [name, s] of this.shadow) s.assign(tensors.get(name)!.toFloat());
    });
  }

  dispose(): void {
    for (const s of this.shadow.values()) s.dispose();
    this.shadow.clear();
  }
}
