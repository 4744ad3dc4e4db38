/**
 * The run's seeded random number generator.
 *
 * One `Rng` per run (`new Rng(seed)`) feeds parameter init, dropout, diffusion noise and
 * shuffling, so the same seed and config give the same numbers. The generator is
 * xoshiro128** (Blackman & Vigna): 128 bits of state held in four uint32 words, which
 * JavaScript handles exactly with `Math.imul` and `>>>` (no BigInt on the hot path).
 *
 * `fork(name)` derives an independent child stream from the *root seed and the fork path*,
 * not from the parent's current position: adding a draw to one consumer (say, dropout)
 * does not shift the numbers of another (say, init), which keeps runs comparable when
 * code changes. `getState()`/`setState()` capture the exact position for checkpoints.
 */
import { tf } from "./tf.ts";
import { NnArgumentError } from "./errors.ts";

/** Serializable generator position: enough to continue the exact same stream. */
export interface RngState {
  seed: number;
  path: string;
  words: [number, number, number, number];
  /** Second Box–Muller value waiting to be returned by `normal()`, if any. */
  spare: number | null;
}

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** splitmix32 step: spreads a weak seed over all 32 bits (used only to seed xoshiro). */
function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a 32-bit hash of a string: mixes a fork path into the seed. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Four non-zero-in-total state words from a seed and a fork path. */
function seedWords(seed: number, path: string): [number, number, number, number] {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / TWO_POW_32) >>> 0;
  let x = splitmix32(lo ^ splitmix32(hi ^ fnv1a(path)));
  const words: number[] = [];
  for (let i = 0; i < 4; i++) {
    x = splitmix32(x + i);
    words.push(x);
  }
  if (!words.some((w) => w !== 0)) words[0] = 1; // the all-zero state is a fixed point
  return words as [number, number, number, number];
}

export class Rng {
  private rootSeed: number;
  private forkPath: string;
  private s: Uint32Array;
  private spare: number | null = null;

  /** @param seed a non-negative integer ≤ 2^53 (the run's `seed` config key). */
  constructor(seed: number, path = "") {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new NnArgumentError(`Rng seed ${seed} is not a non-negative safe integer; pass e.g. 0 or 42.`);
    }
    this.rootSeed = seed;
    this.forkPath = path;
    this.s = Uint32Array.from(seedWords(seed, path));
  }

  /** The run's root seed (shared by all forks). */
  get seed(): number {
    return this.rootSeed;
  }

  /** Fork path from the root ("" for the root generator, "a/b" for `fork("a").fork("b")`). */
  get path(): string {
    return this.forkPath;
  }

  /** Next raw uint32 (xoshiro128** output function). */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits (like numpy's `random()`). */
  uniform(): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    return (a * 67108864 + b) / TWO_POW_53;
  }

  /** Uniform double in [low, high). */
  uniformRange(low: number, high: number): number {
    return low + (high - low) * this.uniform();
  }

  /**
   * Normal sample by the Box–Muller transform. Each pair of uniforms yields two normals;
   * the second is kept in `spare` (and in the state) so no randomness is wasted.
   */
  normal(mean = 0, std = 1): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return mean + std * z;
    }
    const u1 = 1 - this.uniform(); // (0, 1]: log(u1) is finite
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return mean + std * r * Math.cos(2 * Math.PI * u2);
  }

  /** Uniform integer in [low, high) without modulo bias (rejection sampling). */
  randint(low: number, high: number): number {
    if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high) || high <= low) {
      throw new NnArgumentError(`randint(${low}, ${high}): need integers with low < high.`);
    }
    const range = high - low;
    if (range > TWO_POW_32) {
      return low + Math.floor(this.uniform() * range);
    }
    const limit = TWO_POW_32 - (TWO_POW_32 % range);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return low + (x % range);
  }

  /** In-place Fisher–Yates shuffle; returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.randint(0, i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }

  /** `n` normal float32 values. */
  normalArray(n: number, mean = 0, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal(mean, std);
    return out;
  }

  /** `n` uniform float32 values in [low, high). */
  uniformArray(n: number, low = 0, high = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uniformRange(low, high);
    return out;
  }

  /** A float32 tf tensor of normal samples drawn from this stream (caller disposes). */
  tensorNormal(shape: number[], mean = 0, std = 1): tf.Tensor {
    return tf.tensor(this.normalArray(sizeOf(shape), mean, std), shape, "float32");
  }

  /** A float32 tf tensor of uniform samples in [low, high) (caller disposes). */
  tensorUniform(shape: number[], low = 0, high = 1): tf.Tensor {
    return tf.tensor(this.uniformArray(sizeOf(shape), low, high), shape, "float32");
  }

  /** Independent child stream named `name`, derived from the root seed and the fork path. */
  fork(name: string): Rng {
    return new Rng(this.seed, this.path ? `${this.path}/${name}` : name);
  }

  getState(): RngState {
    const [a, b, c, d] = this.s;
    return { seed: this.seed, path: this.path, words: [a, b, c, d], spare: this.spare };
  }

  /**
   * Continue from a saved position, adopting its seed and fork path too. Modules hold a
   * reference to the run's generator (for dropout), so resuming restores it in place.
   */
  setState(state: RngState): void {
    const ok =
      state &&
      Number.isSafeInteger(state.seed) &&
      state.seed >= 0 &&
      typeof state.path === "string" &&
      Array.isArray(state.words) &&
      state.words.length === 4 &&
      state.words.every((w) => Number.isInteger(w) && w >= 0 && w < TWO_POW_32) &&
      (state.spare === null || Number.isFinite(state.spare));
    if (!ok) throw new NnArgumentError("Rng.setState: malformed state; pass an object from Rng.getState().");
    this.rootSeed = state.seed;
    this.forkPath = state.path;
    this.s = Uint32Array.from(state.words);
    this.spare = state.spare;
  }

  /** A generator positioned exactly at a saved state. */
  static fromState(state: RngState): Rng {
    const rng = new Rng(state.seed, state.path);
    rng.setState(state);
    return rng;
  }
}

function sizeOf(shape: number[]): number {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new NnArgumentError(`shape [${shape}] has a bad dimension ${d}.`);
  }
  return shape.reduce((a, b) => a * b, 1);
}
