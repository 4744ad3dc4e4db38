/**
 * Engine benchmark: one training step (forward + backward + AdamW) and one forward pass of
 * 4 pre-norm transformer blocks (batch 64, 20 tokens, width 256, 8 heads, FFN 1024, GELU,
 * last quarter of the keys masked), against PyTorch running the same workload
 * (../shared/bench/torch_transformer_step.py) on the same CPU in the same invocation.
 *
 *     node --import tsx bench/engine.ts [--backend auto|wasm|cpu] [--threads N]
 *                                      [--rounds 3] [--repeats 5] [--no-torch]
 *                                      [--impl raw|modules]
 *
 * `--impl modules` (default) builds the model from the library's TransformerBlock + AdamW
 * (transformer_modules.ts), i.e. what users of src/nn get: Linear with the bias fused into
 * the GEMM, the fused GELU and LayerNorm kernels (src/nn/kernels). `--impl raw` builds it
 * from plain tf ops (transformer_workload.ts) and so measures the bare engine; modules
 * measured faster than raw (forward −7%, step −12% on a quiet 2-core Xeon), which is why
 * they are the default.
 *
 * Rounds alternate torch and ours so that both see the same machine load; each side's
 * time is the median over its samples (ours: per iteration; torch: per run, each run the
 * mean of `--repeats` iterations as the script reports it). The last line printed is one
 * JSON object: {"ratio_step", "ratio_forward", "ours_step_s", "torch_step_s",
 * "ours_forward_s", "torch_forward_s", "backend", "threads", ...}; ratios are ours / torch
 * (null when torch is unavailable, with the reason under "torch_note").
 */
import { spawnSync } from "node:child_process";
import os from "node:os";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { tf } from "../src/nn/tf.ts";
import { initBackend, type BackendRequest } from "../src/nn/backend.ts";
import { adamWState, buildWorkload, forwardLoss, trainStep, DEFAULT_WORKLOAD } from "./transformer_workload.ts";
import { buildModuleWorkload, type ModuleWorkload } from "./transformer_modules.ts";

const PYTHON = "/usr/bin/python3";
const TORCH_SCRIPT = fileURLToPath(new URL("../../shared/bench/torch_transformer_step.py", import.meta.url));

interface Args {
  backend: BackendRequest;
  threads?: number;
  rounds: number;
  repeats: number;
  torch: boolean;
  impl: "raw" | "modules";
}

function parseArgs(argv: string[]): Args {
  const args: Args = { backend: "auto", rounds: 3, repeats: 5, torch: true, impl: "modules" };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === "--no-torch") args.torch = false;
    else if (flag === "--backend" && value) (args.backend = value as BackendRequest), i++;
    else if (flag === "--threads" && value) (args.threads = Number(value)), i++;
    else if (flag === "--rounds" && value) (args.rounds = Number(value)), i++;
    else if (flag === "--repeats" && value) (args.repeats = Number(value)), i++;
    else if (flag === "--impl" && (value === "raw" || value === "modules")) (args.impl = value), i++;
    else throw new Error(`bench/engine.ts: unknown or incomplete option "${flag}"; see the usage at the top of the file`);
  }
  return args;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Why torch cannot run here, or undefined when it can. */
function torchUnavailable(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  if (!existsSync(TORCH_SCRIPT)) return `${TORCH_SCRIPT} not found`;
  const probe = spawnSync(PYTHON, ["-c", "import torch"], { encoding: "utf8" });
  return probe.status === 0 ? undefined : `${PYTHON} cannot import torch (apt-get install -y python3-torch)`;
}

/** One run of the torch script; returns its per-iteration means in seconds. */
function runTorch(threads: number, repeats: number): { step: number; forward: number; version: string } {
  const c = DEFAULT_WORKLOAD;
  const res = spawnSync(PYTHON, [TORCH_SCRIPT, "--threads", String(threads), "--repeats", String(repeats), "--batch", String(c.batch),
    "--tokens", String(c.tokens), "--dim", String(c.dim), "--heads", String(c.heads), "--layers", String(c.layers), "--mlp-ratio", String(c.mlpRatio)], { encoding: "utf8" });
  const line = res.stdout.trim().split("\n").pop() ?? "";
  if (res.status !== 0 || !line.startsWith("{")) throw new Error(`torch reference failed (exit ${res.status}): ${res.stderr.slice(-500)}`);
  const out = JSON.parse(line) as { ms_step: number; ms_forward: number; torch: string };
  return { step: out.ms_step / 1e3, forward: out.ms_forward / 1e3, version: out.torch };
}

/** The workload as two closures, whichever way it was built. */
function workload(impl: Args["impl"]): ModuleWorkload {
  if (impl === "modules") return buildModuleWorkload();
  const w = buildWorkload();
  const opt = adamWState(w);
  return { forwardLoss: () => forwardLoss(w), trainStep: () => trainStep(w, opt) };
}

/** Per-iteration wall times (seconds) of `repeats` forward passes and training steps. */
function runOurs(repeats: number, w: ModuleWorkload): { step: number[]; forward: number[] } {
  const forward: number[] = [];
  const step: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    tf.tidy(() => w.forwardLoss().dataSync());
    forward.push((performance.now() - t) / 1e3);
  }
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    w.trainStep();
    step.push((performance.now() - t) / 1e3);
  }
  return { step, forward };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const info = await initBackend({ backend: args.backend, threads: args.threads });
  console.log(`backend ${info.backend}, ${info.threads} thread(s), model from ${args.impl}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  console.log(`  ${info.reasons.join("\n  ")}`);
  const w = workload(args.impl);
  for (let i = 0; i < 3; i++) w.trainStep(); // warm-up, as the torch script does
  const tensorsBefore = tf.memory().numTensors;

  const torchNote = args.torch ? torchUnavailable() : "skipped (--no-torch)";
  const ours = { step: [] as number[], forward: [] as number[] };
  const torch = { step: [] as number[], forward: [] as number[], version: "" };
  for (let r = 0; r < args.rounds; r++) {
    if (!torchNote) {
      const t = runTorch(info.threads, args.repeats);
      torch.step.push(t.step), torch.forward.push(t.forward), (torch.version = t.version);
    }
    const o = runOurs(args.repeats, w);
    ours.step.push(...o.step), ours.forward.push(...o.forward);
    console.log(`round ${r + 1}: ours step ${median(o.step).toFixed(3)} s, forward ${median(o.forward).toFixed(3)} s` +
      (torchNote ? "" : `; torch step ${torch.step[r]!.toFixed(3)} s, forward ${torch.forward[r]!.toFixed(3)} s`));
  }
  if (tf.memory().numTensors !== tensorsBefore) console.log(`warning: tensor count grew from ${tensorsBefore} to ${tf.memory().numTensors}`);

  const oursStep = median(ours.step);
  const oursForward = median(ours.forward);
  const torchStep = torchNote ? null : median(torch.step);
  const torchForward = torchNote ? null : median(torch.forward);
  const ratio = (a: number, b: number | null) => (b === null ? null : Number((a / b).toFixed(3)));
  const result = {
    ratio_step: ratio(oursStep, torchStep),
    ratio_forward: ratio(oursForward, torchForward),
    ours_step_s: Number(oursStep.toFixed(4)),
    torch_step_s: torchStep === null ? null : Number(torchStep.toFixed(4)),
    ours_forward_s: Number(oursForward.toFixed(4)),
    torch_forward_s: torchForward === null ? null : Number(torchForward.toFixed(4)),
    backend: info.backend,
    threads: info.threads,
    impl: args.impl,
    load_avg_1m: Number(os.loadavg()[0]!.toFixed(2)),
    torch: torch.version || null,
    ...(torchNote ? { torch_note: torchNote } : {}),
    samples: { ours: ours.step.length, torch_runs: torch.step.length },
  };
  console.log(`training step: ours ${oursStep.toFixed(3)} s` + (torchStep === null ? "" : `, torch ${torchStep.toFixed(3)} s, ratio ${result.ratio_step}`));
  console.log(`forward:       ours ${oursForward.toFixed(3)} s` + (torchForward === null ? "" : `, torch ${torchForward.toFixed(3)} s, ratio ${result.ratio_forward}`));
  console.log(JSON.stringify(result));
}

await main();
