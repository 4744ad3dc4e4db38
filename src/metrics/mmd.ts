/**
 * Maximum mean discrepancy (MMD) between generated and reference feature sets, and the
 * per-sample "leave-one-out" MMD reward of StructureDiversityReward /
 * CompositionDiversityReward (Chemeleon2, after "Training Diffusion Models Towards Diverse
 * Image Generation with Reinforcement Learning").
 *
 * Kernel: cubic polynomial k(x, y) = (x·y / d + 1)³ with d the feature dimension.
 * Unbiased estimate for generated X (M rows) and reference Y (N rows):
 *
 *     MMD²(X, Y) = G / (M(M−1)) + R − 2C / (MN)
 *     G = Σ_{i≠j} k(x_i, x_j),   C = Σ_{i,a} k(x_i, y_a),   R = Σ_{a≠b} k(y_a, y_b) / (N(N−1))
 *
 * Reward of sample m: r_m = MMD²(X without m, Y) − MMD²(X, Y) (how much the set's distance
 * to the reference grows when m is dropped, i.e. how much m helps). With the row sums
 * S_m = Σ_{j≠m} k(x_m, x_j) and T_m = Σ_a k(x_m, y_a), dropping m leaves
 * G' = G − 2S_m and C' = C − T_m over M − 1 rows, so
 *
 *     r_m = (G − 2S_m)/((M−1)(M−2)) − G/(M(M−1)) − 2(C − T_m)/((M−1)N) + 2C/(MN)
 *
 * and R cancels: the reward never needs the N×N reference kernel. Using G = Σ S_m = M·S̄ and
 * C = M·T̄, the G terms collapse to 2(S̄ − S_m)/((M−1)(M−2)) and the C terms to
 * 2(T_m − T̄)/(N(M−1)):
 *
 *     r_m = 2(S̄ − S_m) / ((M−1)(M−2))  +  2(T_m − T̄) / (N(M−1))
 *
 * This centred form is algebraically the seed's and avoids its float32 cancellation
 * (the seed subtracts two O(k) numbers to get an O(k/M) result). It needs M ≥ 3.
 *
 * Only r = −MMD² needs R. For d ≤ 24 it is computed exactly from moment tensors in
 * O(N·d³) (Σ_{a,b} (y_a·y_b)^p = ‖Σ_a y_a^{⊗p}‖², p = 1, 2, 3); above that, from the
 * kernel in row blocks (O(N²d), never holding N×N). It is cached per reference tensor, and
 * a caller can pass a precomputed value (`referenceTerm`), e.g. stored with cached features.
 */
import { RewardError } from "../crystal/errors.ts";
import { tf } from "../nn/tf.ts";

/** Result of {@link mmdReward}. */
export interface MmdRewardResult {
  /** −MMD²(X, Y), the seed's `r`. */
  r: number;
  /** Per-sample reward r_m = MMD²(without m) − MMD²(all), float32, length M. */
  rIndiv: tf.Tensor1D;
  /** MMD²(X, Y) itself. */
  mmd2: number;
}

export interface MmdOptions {
  /** Precomputed R = Σ_{a≠b} k(y_a, y_b) / (N(N−1)) for this reference (see {@link referenceKernelMean}). */
  referenceTerm?: number;
  /** Reference rows per kernel block (memory ≈ M × blockRows floats). Default 4096. */
  blockRows?: number;
}

/** Moment tensors hold d³ numbers; beyond this size the blocked kernel sum is cheaper. */
const MOMENT_MAX_DIM = 24;
const referenceCache = new WeakMap<tf.Tensor, number>();

/** The cubic polynomial kernel matrix k(x_i, y_j) = (x_i·y_j / d + 1)³. */
export function polynomialKernel(x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor2D {
  const d = x.shape[1];
  return tf.tidy(() => tf.pow(tf.add(tf.div(tf.matMul(x, y, false, true), d), 1), 3) as tf.Tensor2D);
}

/**
 * Leave-one-out MMD reward of each generated sample against the reference features, plus
 * r = −MMD² (see the module doc for the derivation). zGen: M×d (M ≥ 3), zRef: N×d (N ≥ 2).
 */
export function mmdReward(zGen: tf.Tensor2D, zRef: tf.Tensor2D, options: MmdOptions = {}): MmdRewardResult {
  checkFeatures(zGen, zRef);
  const [m, d] = zGen.shape;
  const n = zRef.shape[0];
  const block = options.blockRows ?? 4096;
  const diag = selfKernel(zGen.dataSync(), d);
  const s = rowKernelSums(zGen, zGen, block).map((v, i) => v - diag[i]);
  const t = rowKernelSums(zGen, zRef, block);
  const sMean = sum(s) / m;
  const tMean = sum(t) / m;
  const rIndiv = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    rIndiv[i] = (2 * (sMean - s[i])) / ((m - 1) * (m - 2)) + (2 * (t[i] - tMean)) / (n * (m - 1));
  }
  const refTerm = options.referenceTerm ?? referenceKernelMean(zRef, block);
  const mmd2 = sMean / (m - 1) + refTerm - (2 * tMean) / n;
  return { r: -mmd2, rIndiv: tf.tensor1d(Float32Array.from(rIndiv)), mmd2 };
}

/**
 * R = Σ_{a≠b} k(y_a, y_b) / (N(N−1)), the reference-only part of MMD², exact in float64
 * from moments for d ≤ 24, else from the kernel in blocks. Cached per tensor object.
 */
export function referenceKernelMean(zRef: tf.Tensor2D, blockRows = 4096): number {
  const cached = referenceCache.get(zRef);
  if (cached !== undefined) return cached;
  const [n, d] = zRef.shape;
  if (n < 2) throw new RewardError(`reference features need at least 2 rows, got ${n}`);
  const data = zRef.dataSync();
  const total = d <= MOMENT_MAX_DIM ? kernelSumFromMoments(data, n, d) : sum(rowKernelSums(zRef, zRef, blockRows));
  const value = (total - sum(selfKernel(data, d))) / (n * (n - 1));
  referenceCache.set(zRef, value);
  return value;
}

/**
 * Σ_{a,b} (y_a·y_b/d + 1)³ = Σ u³ + 3Σ u² + 3Σ u + N² with u = y_a·y_b/d, where
 * Σ_{a,b} (y_a·y_b)^p = ‖P_p‖² for the moment tensors P_1 = Σ y, P_2 = Σ y⊗y, P_3 = Σ y⊗y⊗y.
 */
function kernelSumFromMoments(y: ArrayLike<number>, n: number, d: number): number {
  const p1 = new Float64Array(d);
  const p2 = new Float64Array(d * d);
  const p3 = new Float64Array(d * d * d);
  for (let a = 0; a < n; a++) {
    const row = Float64Array.from({ length: d }, (_, i) => y[a * d + i]);
    for (let i = 0; i < d; i++) {
      p1[i] += row[i];
      for (let j = 0; j < d; j++) {
        const yij = row[i] * row[j];
        p2[i * d + j] += yij;
        const base = (i * d + j) * d;
        for (let k = 0; k < d; k++) p3[base + k] += yij * row[k];
      }
    }
  }
  const u1 = sumSquares(p1) / d;
  const u2 = sumSquares(p2) / (d * d);
  const u3 = sumSquares(p3) / (d * d * d);
  return u3 + 3 * u2 + 3 * u1 + n * n;
}

/** Σ_b k(x_m, y_b) for every row m of x, accumulated in float64 over blocks of y's rows. */
function rowKernelSums(x: tf.Tensor2D, y: tf.Tensor2D, blockRows: number): Float64Array {
  const [m, d] = x.shape;
  const n = y.shape[0];
  const out = new Float64Array(m);
  for (let start = 0; start < n; start += blockRows) {
    const rows = Math.min(blockRows, n - start);
    const part = tf.tidy(() => tf.sum(polynomialKernel(x, tf.slice(y, [start, 0], [rows, d]) as tf.Tensor2D), 1));
    const values = part.dataSync();
    part.dispose();
    for (let i = 0; i < m; i++) out[i] += values[i];
  }
  return out;
}

/** k(x_a, x_a) = (‖x_a‖²/d + 1)³ for each row, in float64. */
function selfKernel(x: ArrayLike<number>, d: number): Float64Array {
  const n = x.length / d;
  const out = new Float64Array(n);
  for (let a = 0; a < n; a++) {
    let sq = 0;
    for (let i = 0; i < d; i++) sq += x[a * d + i] * x[a * d + i];
    out[a] = (sq / d + 1) ** 3;
  }
  return out;
}

function checkFeatures(zGen: tf.Tensor2D, zRef: tf.Tensor2D): void {
  for (const [name, z] of [["zGen", zGen], ["zRef", zRef]] as const) {
    if (!(z instanceof tf.Tensor) || z.rank !== 2) {
      throw new RewardError(`${name} must be a rank-2 tensor (samples × features), got ${z instanceof tf.Tensor ? `shape [${z.shape}]` : typeof z}`);
    }
    const bad = z.dataSync().findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new RewardError(`${name} has a non-finite value at row ${Math.floor(bad / z.shape[1])}; check the featuriser`);
  }
  if (zGen.shape[1] !== zRef.shape[1]) {
    throw new RewardError(`zGen has ${zGen.shape[1]} features but zRef has ${zRef.shape[1]}; featurise both with the same encoder`);
  }
  if (zGen.shape[1] < 1) throw new RewardError("features must have at least one column");
  if (zGen.shape[0] < 3) {
    throw new RewardError(`mmdReward needs at least 3 generated samples (leave-one-out of the unbiased MMD), got ${zGen.shape[0]}`);
  }
  if (zRef.shape[0] < 2) throw new RewardError(`zRef needs at least 2 reference samples, got ${zRef.shape[0]}`);
}

function sum(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s;
}

function sumSquares(x: Float64Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return s;
}
