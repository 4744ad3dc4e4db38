/**
 * Saving and loading a VAE with its hyper-parameters, so that a checkpoint directory alone
 * rebuilds the model:
 *
 *     await saveVAE("checkpoints/mp_20/vae", vae, { step, optimizer, rng, config: runConfig });
 *     const { vae } = await loadVAE("checkpoints/mp_20/vae");      // weights + latentStd
 *
 * The engine's checkpoint format (nn/checkpoint.ts) holds the tensors; config.yaml carries the
 * model hyper-parameters under `model:` (snake_case, as configs/vae_module/*.yaml) next to the
 * run's other settings; meta.json's user part holds `latentStd`, `latentMean` and the data
 * loader / noise-generator positions needed for an exact resume.
 */
import { readCheckpoint, restoreCheckpoint, saveCheckpoint, type Checkpoint } from "../nn/checkpoint.ts";
import { CheckpointError } from "../nn/errors.ts";
import type { AdamW } from "../nn/optim.ts";
import { Rng } from "../nn/rng.ts";
import { vaeConfigFromYaml, vaeConfigToYaml } from "./config.ts";
import { VAEModule } from "./vae_module.ts";

export interface SaveVAEOptions {
  step?: number;
  optimizer?: AdamW;
  /** The run's root generator. */
  rng?: Rng;
  /** Run settings stored beside `model` in config.yaml. */
  config?: Record<string, unknown>;
  /** Extra metadata (loader state, metrics, ...). */
  meta?: Record<string, unknown>;
}

/** Writes the checkpoint (atomically, see nn/checkpoint.ts). */
export async function saveVAE(dir: string, vae: VAEModule, opts: SaveVAEOptions = {}): Promise<void> {
  await saveCheckpoint(dir, {
    module: vae,
    optimizer: opts.optimizer,
    rng: opts.rng,
    step: opts.step ?? 0,
    config: { ...(opts.config ?? {}), model: vaeConfigToYaml(vae.config) },
    meta: { ...(opts.meta ?? {}), latentStd: vae.latentStd, noiseRng: vae.noiseRng.getState() },
  });
}

/** The `model:` mapping of a checkpoint's config.yaml, validated. */
function modelConfigOf(ckpt: Checkpoint) {
  const cfg = ckpt.config as Record<string, unknown> | null;
  const model = cfg && typeof cfg === "object" ? cfg.model : undefined;
  if (!model || typeof model !== "object") {
    throw new CheckpointError("config.yaml has no `model:` mapping with the VAE hyper-parameters; was this checkpoint written by saveVAE?", ckpt.dir);
  }
  return vaeConfigFromYaml(model as Record<string, unknown>);
}

/** Builds the VAE described by `ckpt` and loads its weights, latentStd and noise position. */
export function vaeFromCheckpoint(ckpt: Checkpoint, targets: { optimizer?: AdamW; rng?: Rng } = {}): VAEModule {
  const vae = new VAEModule(modelConfigOf(ckpt), new Rng(ckpt.meta.rng?.seed ?? 0));
  restoreCheckpoint(ckpt, { module: vae, ...targets });
  const std = ckpt.meta.meta.latentStd;
  if (typeof std === "number" && Number.isFinite(std) && std > 0) vae.latentStd = std;
  const noise = ckpt.meta.meta.noiseRng;
  if (noise) vae.noiseRng.setState(noise as ReturnType<Rng["getState"]>);
  return vae;
}

/** Reads a VAE checkpoint directory: the model (eval mode) and the raw checkpoint. */
export async function loadVAE(dir: string): Promise<{ vae: VAEModule; checkpoint: Checkpoint }> {
  const checkpoint = await readCheckpoint(dir);
  const vae = vaeFromCheckpoint(checkpoint).eval();
  return { vae, checkpoint };
}

