/**
 * Timestep respacing (ADM's `space_timesteps` / `SpacedDiffusion`): sample with a subset of
 * the training steps. Keeping steps S = {s₀ < s₁ < …} of a diffusion with cumulative products
 * ᾱ, the respaced diffusion has βₖ = 1 − ᾱ_{sₖ}/ᾱ_{sₖ₋₁} (ᾱ before s₀ is 1), so its
 * cumulative products are exactly ᾱ at the kept steps, and its `timestepMap` sends step k back
 * to sₖ, the timestep the model was trained on.
 */
// Python round() (half to even) reproduces ADM's section spacing: crystal/ is upstream of ldm_module/.
import { roundHalfEven } from "../../crystal/linalg.ts";
import { DiffusionError } from "./errors.ts";
import { GaussianDiffusion } from "./gaussian_diffusion.ts";

/**
 * How to respace: `"ddimN"` (N steps with one integer stride, ADM's DDIM rule), `"N"` or N
 * (N evenly spaced steps), `"10,15,20"` (section counts: the steps are split into equal
 * sections, each evenly spaced with its count), or an explicit array of kept step indices.
 */
export type RespacingSpec = string | number | readonly number[];

/** "ddimN": the smallest integer stride i with |range(0, T, i)| = N; every i-th step from 0. */
function ddimSteps(numTimesteps: number, count: number, spec: string): number[] {
  for (let stride = 1; stride < numTimesteps; stride++) {
    if (Math.ceil(numTimesteps / stride) === count) {
      return Array.from({ length: count }, (_, k) => k * stride);
    }
  }
  // ADM's stride search starts at 1 < T, so with T = 1 it finds nothing; "ddim1" keeps the one step.
  if (count === numTimesteps) return Array.from({ length: count }, (_, k) => k);
  throw new DiffusionError(`timestep_respacing "${spec}": cannot make exactly ${count} steps out of ${numTimesteps} with an integer stride; try another N or "${count}".`);
}

/**
 * Section counts: T steps split into len(counts) sections (the first T mod len sections one
 * step longer); section j keeps counts[j] steps at rounded fractional stride (size−1)/(count−1).
 */
function sectionSteps(numTimesteps: number, counts: number[], spec: string): number[] {
  const sizePer = Math.floor(numTimesteps / counts.length);
  const extra = numTimesteps % counts.length;
  const steps: number[] = [];
  let start = 0;
  counts.forEach((count, j) => {
    const size = sizePer + (j < extra ? 1 : 0);
    if (size < count) throw new DiffusionError(`timestep_respacing "${spec}": cannot divide a section of ${size} steps into ${count}.`);
    const stride = count <= 1 ? 1 : (size - 1) / (count - 1);
    let cur = 0;
    for (let k = 0; k < count; k++) {
      steps.push(start + roundHalfEven(cur));
      cur += stride;
    }
    start += size;
  });
  return steps;
}

function parseCounts(spec: string): number[] {
  const counts = spec.split(",").map((part) => Number(part.trim()));
  if (counts.some((c) => !Number.isInteger(c) || c < 1)) {
    throw new DiffusionError(`timestep_respacing "${spec}" is not understood; use "ddim50", "250", "10,15,20", or "" for all steps.`);
  }
  return counts;
}

/**
 * The kept step indices (sorted, unique) of a diffusion with `numTimesteps` steps. An empty
 * string keeps every step (the seed's `timestep_respacing: ""`).
 */
export function spaceTimesteps(numTimesteps: number, spec: RespacingSpec): number[] {
  let steps: number[];
  if (typeof spec === "number") steps = sectionSteps(numTimesteps, parseCounts(String(spec)), String(spec));
  else if (typeof spec === "string") {
    const s = spec.trim();
    if (s === "") steps = Array.from({ length: numTimesteps }, (_, i) => i);
    else if (s.startsWith("ddim")) steps = ddimSteps(numTimesteps, parseCounts(s.slice(4))[0], s);
    else steps = sectionSteps(numTimesteps, parseCounts(s), s);
  } else steps = checkExplicitSteps(spec, numTimesteps);
  return [...new Set(steps)].sort((a, b) => a - b);
}

function checkExplicitSteps(steps: readonly number[], numTimesteps: number): number[] {
  if (steps.length === 0) throw new DiffusionError("respacing: the list of kept timesteps is empty; keep at least one step.");
  const seen = new Set<number>();
  for (const s of steps) {
    if (!Number.isInteger(s) || s < 0 || s >= numTimesteps) {
      throw new DiffusionError(`respacing: kept timestep ${s} is not an integer in [0, ${numTimesteps}).`);
    }
    if (seen.has(s)) throw new DiffusionError(`respacing: kept timestep ${s} is listed twice; list each step once.`);
    seen.add(s);
  }
  return [...steps];
}

/**
 * A diffusion over the kept steps of `base` (same model types and loss), whose `timestepMap`
 * gives the model the original timesteps. Respacing a respaced diffusion composes the maps.
 *
 *     const sampler = spacedDiffusion(diffusion, "ddim50");   // steps 0, 20, …, 980
 */
export function spacedDiffusion(base: GaussianDiffusion, spec: RespacingSpec): GaussianDiffusion {
  const kept = spaceTimesteps(base.numTimesteps, spec);
  const ac = base.alphasCumprod;
  let last = 1;
  const betas = kept.map((k) => {
    const beta = 1 - ac[k] / last;
    last = ac[k];
    return beta;
  });
  const timestepMap = kept.map((k) => base.timestepMap[k]);
  return new GaussianDiffusion({ ...base.options, betas, timestepMap });
}
