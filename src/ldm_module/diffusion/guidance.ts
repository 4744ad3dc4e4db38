/**
 * Classifier-free guidance (Ho & Salimans 2022) as a denoiser wrapper: the guided noise
 * estimate is ε_uncond + s·(ε_cond − ε_uncond), applied to the ε channels only; the variance
 * channels of a learned-sigma model are passed through unguided (as DiT's `forward_with_cfg`,
 * except that every ε channel is guided, where DiT guides only the first three).
 */
import { tf } from "../../nn/tf.ts";
import { DiffusionError } from "./errors.ts";
import type { Denoiser, DenoiserExtra } from "./types.ts";

export interface CfgOptions {
  /**
   * Builds the unconditional inputs from the conditional ones (e.g. `y` replaced by the
   * null label). Given, the wrapper takes a batch of B samples and runs the model twice.
   * Absent, the batch must be DiT's doubled [conditional half; unconditional half] of 2B,
   * with `extra` already holding both halves; the guided ε then fills both halves.
   */
  unconditional?: (extra: DenoiserExtra) => DenoiserExtra;
}

/** ε_u + s·(ε_c − ε_u) on the first C channels, the conditional output's other channels kept. */
function guide(condOut: tf.Tensor3D, uncondOut: tf.Tensor3D, channels: number, scale: number): tf.Tensor3D {
  return tf.tidy(() => {
    const total = condOut.shape[2];
    const epsC = tf.slice(condOut, [0, 0, 0], [-1, -1, channels]);
    const epsU = tf.slice(uncondOut, [0, 0, 0], [-1, -1, channels]);
    const eps = tf.add(epsU, tf.mul(scale, tf.sub(epsC, epsU)));
    if (total === channels) return eps as tf.Tensor3D;
    return tf.concat([eps, tf.slice(condOut, [0, 0, channels], [-1, -1, total - channels])], 2) as tf.Tensor3D;
  });
}

/**
 * Wraps `model` with classifier-free guidance of strength `cfgScale` (1 = conditional model,
 * returned unchanged; 0 = unconditional). The ε channel count is the latents' C.
 */
export function cfgModel(model: Denoiser, cfgScale: number, options: CfgOptions = {}): Denoiser {
  if (!Number.isFinite(cfgScale)) throw new DiffusionError(`cfg_scale = ${cfgScale}; pass a finite number (the seed uses 2.0; 1 disables guidance).`);
  if (cfgScale === 1) return model;
  const { unconditional } = options;
  if (unconditional) {
    return (x, t, extra) =>
      tf.tidy(() => guide(model(x, t, extra), model(x, t, unconditional(extra)), x.shape[2], cfgScale));
  }
  return (x, t, extra) =>
    tf.tidy(() => {
      const B = x.shape[0];
      if (B % 2 !== 0) {
        throw new DiffusionError(
          `cfgModel without \`unconditional\` needs DiT's doubled batch [conditional; unconditional], got an odd batch of ${B}; ` +
            "double the batch or pass options.unconditional.",
        );
      }
      const half = tf.slice(x, [0, 0, 0], [B / 2, -1, -1]);
      const out = model(tf.concat([half, half], 0) as tf.Tensor3D, t, extra);
      const [condOut, uncondOut] = tf.split(out, 2, 0) as [tf.Tensor3D, tf.Tensor3D];
      const guided = guide(condOut, uncondOut, x.shape[2], cfgScale);
      const C = x.shape[2];
      const eps = tf.slice(guided, [0, 0, 0], [-1, -1, C]);
      const rest = out.shape[2] > C ? [tf.slice(out, [0, 0, C], [-1, -1, out.shape[2] - C])] : [];
      return tf.concat([tf.concat([eps, eps], 0), ...rest], 2) as tf.Tensor3D;
    });
}
