/**
 * Parameter initialisers, drawing from the run's `Rng` so that the same seed gives the
 * same initial weights. Each returns a fresh float32 tensor (the caller, usually
 * `Module.registerParameter`, takes ownership).
 *
 * Schemes used by the layers (matching PyTorch / DiT):
 * - `torchLinear`: `nn.Linear`'s default, `kaiming_uniform_(a=√5)` for the weight, which
 *   reduces to U(−1/√fan_in, 1/√fan_in); the bias uses the same bound.
 * - `xavierUniform`: `nn.init.xavier_uniform_`, U(±√(6/(fan_in+fan_out))); DiT's
 *   `_basic_init` applies it to every Linear weight (biases zero).
 * - `normal(std)`: `nn.init.normal_`; `nn.Embedding` uses N(0, 1), DiT's timestep MLP N(0, 0.02).
 * - `zeros` / `ones`: LayerNorm affine, adaLN-Zero modulation and the DiT final layer.
 */
import { tf } from "./tf.ts";
import type { Rng } from "./rng.ts";

export function zeros(shape: number[]): tf.Tensor {
  return tf.zeros(shape, "float32");
}

export function ones(shape: number[]): tf.Tensor {
  return tf.ones(shape, "float32");
}

export function uniform(rng: Rng, shape: number[], low: number, high: number): tf.Tensor {
  return rng.tensorUniform(shape, low, high);
}

export function normal(rng: Rng, shape: number[], std = 1, mean = 0): tf.Tensor {
  return rng.tensorNormal(shape, mean, std);
}

/** PyTorch's `nn.Linear` default for weight and bias: U(−1/√fan_in, 1/√fan_in). */
export function torchLinear(rng: Rng, shape: number[], fanIn: number): tf.Tensor {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return uniform(rng, shape, -bound, bound);
}

/** `nn.init.xavier_uniform_` (gain 1): U(±√(6/(fan_in+fan_out))). */
export function xavierUniform(rng: Rng, shape: number[], fanIn: number, fanOut: number): tf.Tensor {
  const bound = Math.sqrt(6 / (fanIn + fanOut));
  return uniform(rng, shape, -bound, bound);
}
