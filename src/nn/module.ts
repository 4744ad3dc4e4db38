/**
 * The parameter system: a `Module` owns named `tf.Variable`s and named child modules,
 * both registered explicitly, so `namedParameters()` yields PyTorch-style dotted names
 * ("blocks.0.attn.qkv.weight") that line up with a Chemeleon2 `state_dict`.
 *
 * Forward passes are plain methods (`forward(x, ...)`) taking and returning tensors; a
 * module keeps no activations between calls. The only mutable flags are `training`
 * (dropout on/off) and each variable's `trainable` (freezing).
 *
 * Weight layout. Linear weights are stored as [in, out] (transposed with respect to
 * PyTorch's [out, in]) so the forward is a plain `x · W` matMul; `x · Wᵀ` needs
 * `transposeB`, which stock tfjs-backend-wasm runs on a slow path. Measured with
 * bench/linear_layout.ts (1280×256 · 256×1024, forward + backward, 2 cores): on wasm with
 * the fast kernels of fast_kernels.ts both layouts cost the same (ratio 0.99), on the cpu
 * fallback [out, in] is 21% faster; the plain layout is kept because it never depends on
 * a transposed-matMul fast path being present. Parameters registered with
 * `{ torchLayout: "transpose" }` are transposed by `torchStateDict()` /
 * `loadTorchStateDict()`, so PyTorch weights import and export unchanged. `stateDict()` /
 * `loadStateDict()` and checkpoints use the internal layout.
 */
import { tf } from "./tf.ts";
import { NnArgumentError, StateDictError } from "./errors.ts";

/** How a parameter maps onto PyTorch's layout: as is, or transposed (2-D only). */
export type TorchLayout = "same" | "transpose";

interface ParameterEntry {
  variable: tf.Variable;
  torchLayout: TorchLayout;
}

/** Result of a non-strict `loadStateDict`: keys that were skipped. */
export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

const NAME_RE = /^[A-Za-z0-9_]+$/;

export class Module {
  private readonly params = new Map<string, ParameterEntry>();
  private readonly children = new Map<string, Module>();
  /** Training mode (dropout active). Set recursively with `train()` / `eval()`. */
  training = true;

  /**
   * Register `init` as a trainable parameter called `name`; the module takes ownership of
   * `init` (it becomes the variable's storage, do not dispose it yourself).
   */
  protected registerParameter(name: string, init: tf.Tensor, opts: { torchLayout?: TorchLayout } = {}): tf.Variable {
    this.checkName(name);
    const torchLayout = opts.torchLayout ?? "same";
    if (torchLayout === "transpose" && init.rank !== 2) {
      throw new NnArgumentError(`parameter "${name}": torchLayout "transpose" needs a 2-D tensor, got rank ${init.rank}.`);
    }
    const variable = tf.variable(init, true);
    init.dispose(); // the variable holds its own reference to the data
    this.params.set(name, { variable, torchLayout });
    return variable;
  }

  /** Register a child module under `name` (its parameters appear as `name.<param>`). */
  protected registerModule<M extends Module>(name: string, module: M): M {
    this.checkName(name);
    this.children.set(name, module);
    return module;
  }

  private checkName(name: string): void {
    if (!NAME_RE.test(name)) {
      throw new NnArgumentError(`module member name "${name}" must be letters, digits or "_" (dots are added by nesting).`);
    }
    if (this.params.has(name) || this.children.has(name)) {
      throw new NnArgumentError(`module member "${name}" is registered twice; pick a unique name.`);
    }
  }

  /** Child modules by name, in registration order. */
  namedChildren(): Map<string, Module> {
    return new Map(this.children);
  }

  /** Every parameter with its dotted name, depth-first in registration order. */
  namedParameters(prefix = ""): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const [name, entry] of this.namedEntries(prefix)) out.set(name, entry.variable);
    return out;
  }

  private namedEntries(prefix: string): Map<string, ParameterEntry> {
    const out = new Map<string, ParameterEntry>();
    for (const [name, entry] of this.params) out.set(prefix + name, entry);
    for (const [name, child] of this.children) {
      for (const [n, e] of child.namedEntries(`${prefix}${name}.`)) out.set(n, e);
    }
    return out;
  }

  parameters(): tf.Variable[] {
    return [...this.namedParameters().values()];
  }

  /** Parameters that the optimizer updates (not frozen). */
  trainableParameters(): Map<string, tf.Variable> {
    return new Map([...this.namedParameters()].filter(([, v]) => v.trainable));
  }

  numParameters(trainableOnly = false): number {
    return this.parameters()
      .filter((v) => !trainableOnly || v.trainable)
      .reduce((n, v) => n + v.size, 0);
  }

  train(mode = true): this {
    this.training = mode;
    for (const child of this.children.values()) child.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Exclude every parameter from gradients and optimizer steps (e.g. a frozen VAE). */
  freeze(): this {
    for (const v of this.parameters()) v.trainable = false;
    return this;
  }

  unfreeze(): this {
    for (const v of this.parameters()) v.trainable = true;
    return this;
  }

  /** Free every parameter's memory; the module is unusable afterwards. */
  dispose(): void {
    for (const v of this.parameters()) v.dispose();
  }

  /** The live parameters by dotted name (internal layout; not copies, do not dispose). */
  stateDict(): Map<string, tf.Tensor> {
    return this.namedParameters();
  }

  /**
   * Copy values into the parameters. All missing, unexpected and shape-mismatched keys are
   * collected and reported in one `StateDictError`; with `strict=false` only shape
   * mismatches throw (as in PyTorch). Nothing is assigned unless the whole dict fits.
   */
  loadStateDict(state: Map<string, tf.Tensor>, strict = true): LoadResult {
    return this.loadEntries(state, strict, false);
  }

  /** The parameters in PyTorch layout (Linear weights as [out, in]); new tensors, caller disposes. */
  torchStateDict(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const [name, e] of this.namedEntries("")) {
      out.set(name, e.torchLayout === "transpose" ? tf.transpose(e.variable) : tf.clone(e.variable));
    }
    return out;
  }

  /** Like `loadStateDict` but for tensors in PyTorch layout (e.g. converted Chemeleon2 weights). */
  loadTorchStateDict(state: Map<string, tf.Tensor>, strict = true): LoadResult {
    return this.loadEntries(state, strict, true);
  }

  private loadEntries(state: Map<string, tf.Tensor>, strict: boolean, torch: boolean): LoadResult {
    const entries = this.namedEntries("");
    const missingKeys = [...entries.keys()].filter((k) => !state.has(k));
    const unexpectedKeys = [...state.keys()].filter((k) => !entries.has(k));
    const mismatched: string[] = [];
    for (const [name, e] of entries) {
      const t = state.get(name);
      if (!t) continue;
      const want = torch && e.torchLayout === "transpose" ? [...e.variable.shape].reverse() : e.variable.shape;
      if (!sameShape(t.shape, want)) mismatched.push(`${name}: expected [${want}], got [${t.shape}]`);
    }
    if (mismatched.length || (strict && (missingKeys.length || unexpectedKeys.length))) {
      throw new StateDictError(strict ? missingKeys : [], strict ? unexpectedKeys : [], mismatched);
    }
    for (const [name, e] of entries) {
      const t = state.get(name);
      if (!t) continue;
      tf.tidy(() => e.variable.assign(torch && e.torchLayout === "transpose" ? tf.transpose(t) : t.toFloat()));
    }
    return { missingKeys, unexpectedKeys };
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Children registered under "0", "1", ... (PyTorch's `nn.ModuleList`), e.g. `blocks.3.attn`. */
export class ModuleList<M extends Module> extends Module {
  readonly items: M[];
  constructor(items: M[]) {
    super();
    this.items = items.map((m, i) => this.registerModule(String(i), m));
  }
  get length(): number {
    return this.items.length;
  }
  at(i: number): M {
    const m = this.items[i];
    if (!m) throw new NnArgumentError(`ModuleList index ${i} out of range [0, ${this.items.length}).`);
    return m;
  }
}

/**
 * Children under explicit names. Used to reproduce `nn.Sequential` index names where a
 * parameter-free layer (an activation) occupies an index, e.g. DiT's
 * `adaLN_modulation = Sequential(SiLU(), Linear(...))` → `adaLN_modulation.1.weight`.
 */
export class ModuleDict<M extends Module> extends Module {
  constructor(items: Record<string, M>) {
    super();
    for (const [name, m] of Object.entries(items)) this.registerModule(name, m);
  }
  get(name: string): M {
    const m = this.namedChildren().get(name);
    if (!m) throw new NnArgumentError(`ModuleDict has no member "${name}".`);
    return m as M;
  }
}
