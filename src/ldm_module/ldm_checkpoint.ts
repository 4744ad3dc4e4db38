/**
 * Saving and loading an LDM so that its checkpoint directory alone rebuilds it:
 * config.yaml holds `ldm_module:` (denoiser, diffusion_configs, normalize_latent,
 * vae_ckpt_path) beside the run's settings; meta.json's user part holds the latent std the
 * model was trained with and the site-count histogram for de novo sampling. The VAE is
 * loaded from `vae_ckpt_path` (or passed in), and its latent dimension is checked against the
 * denoiser's. Paths inside the package are stored relative to the package root, so bundled
 * checkpoints work from any working directory.
 */
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readCheckpoint, restoreCheckpoint, saveCheckpoint, type Checkpoint } from "../nn/checkpoint.ts";
import { CheckpointError } from "../nn/errors.ts";
import type { AdamW } from "../nn/optim.ts";
import type { EMA } from "../nn/ema.ts";
import type { LRScheduler } from "../nn/schedulers.ts";
import { Rng, type RngState } from "../nn/rng.ts";
import type { VAEModule } from "../vae_module/vae_module.ts";
import { loadVAE } from "../vae_module/vae_checkpoint.ts";
import { ConfigError } from "../config/errors.ts";
import { ldmHparamsFromYaml, ldmHparamsToYaml, type LDMHparams } from "./ldm_config.ts";
import { NumAtomsSampler } from "./num_atoms.ts";
import type { LDMModule } from "./ldm_module.ts";

/** The package root (where `checkpoints/` lives). */
export const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface SaveLDMOptions {
  step?: number;
  optimizer?: AdamW;
  scheduler?: LRScheduler;
  ema?: EMA;
  /** The run's root generator. */
  rng?: Rng;
  /** Run settings stored beside `ldm_module` in config.yaml. */
  config?: Record<string, unknown>;
  /** Extra metadata (loader state, metrics, ...). */
  meta?: Record<string, unknown>;
}

export interface LoadLDMOptions {
  /** Use this VAE instead of loading the one at the checkpoint's `vae_ckpt_path`. */
  vae?: VAEModule;
  /** Load the VAE from here instead of the stored path. */
  vaeCkptPath?: string;
  /** Also restore these (for resuming training). */
  optimizer?: AdamW;
  scheduler?: LRScheduler;
  ema?: EMA;
  rng?: Rng;
}

/** An absolute path inside the package → relative to its root; others unchanged. */
export function portablePath(path: string): string {
  const abs = resolve(path);
  const rel = relative(PACKAGE_ROOT, abs);
  return rel.startsWith("..") || isAbsolute(rel) ? abs : rel;
}

/** A stored path → an existing directory: as given (absolute or from the cwd), else from the package root. */
export function resolveStoredPath(path: string): string {
  if (isAbsolute(path) || existsSync(path)) return resolve(path);
  return resolve(PACKAGE_ROOT, path);
}

/** SHA-256 of a checkpoint's weights.bin as recorded in its manifest (null if unreadable). */
function weightsSha256(dir: string | null): string | null {
  if (!dir) return null;
  try {
    const manifest = JSON.parse(readFileSync(join(resolveStoredPath(dir), "manifest.json"), "utf8")) as { sha256?: unknown };
    return typeof manifest.sha256 === "string" ? manifest.sha256 : null;
  } catch {
    return null;
  }
}

export async function saveLDM(dir: string, ldm: LDMModule, opts: SaveLDMOptions = {}): Promise<void> {
  const model = { ...ldmHparamsToYaml(ldm.hparams), vae_ckpt_path: ldm.vaeCkptPath ? portablePath(ldm.vaeCkptPath) : null };
  await saveCheckpoint(dir, {
    module: ldm,
    optimizer: opts.optimizer,
    scheduler: opts.scheduler,
    ema: opts.ema,
    rng: opts.rng,
    step: opts.step ?? 0,
    config: { ...(opts.config ?? {}), ldm_module: model },
    meta: {
      ...(opts.meta ?? {}),
      kind: "ldm",
      latentStd: ldm.latentStd,
      numAtoms: ldm.numAtomsSampler?.toJSON() ?? null,
      noiseRng: ldm.noiseRng.getState(),
      // Fingerprint of the VAE whose latents the LDM models: a retrained VAE at the same path
      // decodes these latents into nonsense, so loading checks it.
      vaeSha256: weightsSha256(ldm.vaeCkptPath),
    },
  });
}

/** The `ldm_module:` mapping of a checkpoint, or a CheckpointError saying what wrote it. */
function modelSection(ckpt: Checkpoint): Record<string, unknown> {
  const cfg = ckpt.config as Record<string, unknown> | null;
  const section = cfg && typeof cfg === "object" ? cfg.ldm_module : undefined;
  if (!section || typeof section !== "object") {
    throw new CheckpointError("config.yaml has no `ldm_module:` mapping with the LDM hyper-parameters; is this an LDM checkpoint (written by LDMModule.saveCheckpoint)?", ckpt.dir);
  }
  return section as Record<string, unknown>;
}

/**
 * A VAE whose latent_dim differs from the denoiser's cannot feed it: refuse before anything
 * else is compared, with the config key to fix.
 */
function checkVAELatentDim(vae: VAEModule, hparams: LDMHparams, vaePath: string | null, ckptDir: string): void {
  if (vae.config.latentDim === hparams.denoiser.latentDim) return;
  throw new ConfigError(
    `the VAE${vaePath ? ` at ${vaePath}` : ""} has latent_dim ${vae.config.latentDim} but the LDM checkpoint ${ckptDir} was built for latent_dim ${hparams.denoiser.latentDim}; ` +
      "point vae_ckpt_path at the VAE this LDM was trained with (or retrain the LDM on this VAE).",
    "ldm_module.vae_ckpt_path",
  );
}

async function vaeFor(ckpt: Checkpoint, section: Record<string, unknown>, hparams: LDMHparams, opts: LoadLDMOptions): Promise<{ vae: VAEModule; path: string | null }> {
  if (opts.vae) {
    checkVAELatentDim(opts.vae, hparams, opts.vaeCkptPath ?? null, ckpt.dir);
    return { vae: opts.vae, path: opts.vaeCkptPath ?? null };
  }
  const stored = opts.vaeCkptPath ?? (typeof section.vae_ckpt_path === "string" ? section.vae_ckpt_path : null);
  if (!stored) throw new CheckpointError("names no vae_ckpt_path; pass { vae } or { vaeCkptPath } to loadFromCheckpoint.", ckpt.dir);
  const path = resolveStoredPath(stored);
  if (!existsSync(path)) {
    throw new CheckpointError(`its VAE checkpoint ${path} does not exist; pass { vaeCkptPath } pointing at the VAE this LDM was trained with.`, ckpt.dir);
  }
  const { vae, checkpoint } = await loadVAE(path);
  try {
    checkVAELatentDim(vae, hparams, path, ckpt.dir);
  } catch (e) {
    vae.dispose();
    throw e;
  }
  const expected = ckpt.meta.meta.vaeSha256;
  if (typeof expected === "string" && expected !== checkpoint.manifest.sha256) {
    vae.dispose();
    throw new CheckpointError(
      `the VAE at ${path} is not the one this LDM was trained with (weights SHA-256 ${checkpoint.manifest.sha256.slice(0, 12)}…, expected ${expected.slice(0, 12)}…); ` +
        "pass { vaeCkptPath } pointing at that VAE, or retrain the LDM on the new VAE.",
      ckpt.dir,
    );
  }
  return { vae, path };
}

/** Reads an LDM checkpoint directory and rebuilds the module (eval mode). */
export async function loadLDM(dir: string, opts: LoadLDMOptions = {}): Promise<LDMModule> {
  const { LDMModule } = await import("./ldm_module.ts");
  const ckpt = await readCheckpoint(dir);
  const section = modelSection(ckpt);
  const hparams = ldmHparamsFromYaml(section, "ldm_module");
  const { vae, path } = await vaeFor(ckpt, section, hparams, opts);
  const meta = ckpt.meta.meta;
  const latentStd = typeof meta.latentStd === "number" ? meta.latentStd : undefined;
  const numAtoms = meta.numAtoms ? NumAtomsSampler.fromJSON(meta.numAtoms) : null;
  const ldm = new LDMModule({ vae, hparams, rng: new Rng(ckpt.meta.rng?.seed ?? 0), latentStd, numAtoms, vaeCkptPath: path });
  restoreCheckpoint(ckpt, { module: ldm, optimizer: opts.optimizer, scheduler: opts.scheduler, ema: opts.ema, rng: opts.rng });
  if (meta.noiseRng) ldm.noiseRng.setState(meta.noiseRng as RngState);
  return ldm.eval();
}
