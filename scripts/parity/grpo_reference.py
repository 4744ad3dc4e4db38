#!/usr/bin/python3
"""Float64 torch reference for src/rl_module/grpo.ts (the GRPO loss of a diffusion policy).

Run by hand with Debian's interpreter (never from `npm test`):

    /usr/bin/python3 scripts/parity/grpo_reference.py

Writes test/fixtures/rl_module/grpo_reference.json: a fixed trajectory (zs, old means,
stds, new means, mask, advantages) and, per diffusion step and per setting, the log-probs,
ratio, log-ratio, clipped surrogate, k3 KL, entropy term, clip fraction and the loss under
each aggregation. The formulas are written from the GRPO/PPO description in
../shared/REFERENCE.md (RL section), in torch float64, independently of the TypeScript:

    logp      = mean over masked latent entries of log N(z_{i+1}; mean_i, std_i^2)
    ratio     = exp(new - old)
    surrogate = min(ratio * A, clamp(ratio, 1 - eps, 1 + eps) * A)
    kl        = exp(old - new) - 1 - (old - new)
    entropy   = -new
    loss_i    = mean_b(-surrogate + beta * kl - gamma * entropy)          ("grpo", the seed)
Aggregations (TRL's loss_type with tokens = masked latent entries, n_b per sample, L = max n_b):
    bnpo      = sum_b n_b * l_b / sum_b n_b
    dr_grpo   = sum_b n_b * l_b / (B * L)
The last step has std = 0 (deterministic DDIM) and is skipped.
Inputs are rounded to float32 so the float32 TypeScript run sees exactly the same numbers.
"""
import json
import math
import os

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(20251127)
T, B, N, C = 4, 6, 5, 8


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


num_atoms = np.array([5, 3, 1, 4, 2, 5])
mask = f32((np.arange(N)[None, :] < num_atoms[:, None]).astype(np.float64))
# Per-step std as in DDIM (one value per step and sample), last step deterministic.
step_std = [0.35, 0.2, 0.08, 0.0]
# How far the "current" policy's means moved from the rollout's, in units of std.
step_shift = [0.0, 0.01, 0.05, 0.0]

zs = [f32(rng.standard_normal((B, N, C)))]
means_old, stds, means_new = [], [], []
for i in range(T):
    mo = f32(0.9 * zs[-1] + 0.1 * rng.standard_normal((B, N, C)))
    sd = f32(np.full((B, N, C), step_std[i]))
    z_next = f32(mo + sd * rng.standard_normal((B, N, C)))
    mn = f32(mo + step_shift[i] * sd * rng.standard_normal((B, N, C)))
    means_old.append(mo)
    stds.append(sd)
    means_new.append(mn)
    zs.append(z_next)
raw_rewards = rng.standard_normal(B)
adv = f32((raw_rewards - raw_rewards.mean()) / (raw_rewards.std(ddof=1) + 1e-4))


def log_prob(x, mean, std, m):
    x, mean, std, m = (torch.tensor(v) for v in (x, mean, std, m))
    dens = -((x - mean) ** 2) / (2 * std**2) - torch.log(std) - 0.5 * math.log(2 * math.pi)
    mm = m[:, :, None]
    return (dens * mm).sum(dim=(1, 2)) / (m.sum(dim=1) * x.shape[2])


SETTINGS = [
    {"name": "seed_defaults", "clip_ratio": 0.001, "kl_weight": 1.0, "entropy_weight": 1e-5},
    {"name": "wide_clip", "clip_ratio": 0.2, "kl_weight": 0.5, "entropy_weight": 0.01},
]
tokens = torch.tensor(mask.sum(axis=1) * C)
L = float(tokens.max())


def step_terms(i, s):
    old = log_prob(zs[i + 1], means_old[i], stds[i], mask)
    new = log_prob(zs[i + 1], means_new[i], stds[i], mask)
    a = torch.tensor(adv)
    eps = s["clip_ratio"]
    ratio = torch.exp(new - old)
    surr = torch.min(ratio * a, torch.clamp(ratio, 1 - eps, 1 + eps) * a)
    kl = torch.exp(old - new) - 1 - (old - new)
    ent = -new
    per = -surr + s["kl_weight"] * kl - s["entropy_weight"] * ent
    clip_frac = ((ratio < 1 - eps) | (ratio > 1 + eps)).double().mean()
    return {
        "old_log_probs": old.tolist(),
        "new_log_probs": new.tolist(),
        "ratio_per_sample": ratio.tolist(),
        "ratio": float(ratio.mean()),
        "log_ratio": float((new - old).mean()),
        "surrogate": float(surr.mean()),
        "kl": float(kl.mean()),
        "entropy": float(ent.mean()),
        "clip_frac": float(clip_frac),
        "loss": {
            "grpo": float(per.mean()),
            "bnpo": float((per * tokens).sum() / tokens.sum()),
            "dr_grpo": float((per * tokens).sum() / (B * L)),
        },
    }


out = {
    "shape": {"T": T, "B": B, "N": N, "C": C},
    "zs": [z.tolist() for z in zs],
    "means_old": [m.tolist() for m in means_old],
    "means_new": [m.tolist() for m in means_new],
    "stds": [s.tolist() for s in stds],
    "mask": mask.tolist(),
    "advantages": adv.tolist(),
    "settings": [],
}
for s in SETTINGS:
    steps = [step_terms(i, s) for i in range(T) if step_std[i] > 0]
    active = len(steps)
    out["settings"].append({
        **s,
        "steps": steps,
        # Accumulated objective: our 1/T_active (stochastic steps) and the seed's 1/T (all steps).
        "total_loss_active": {k: sum(st["loss"][k] for st in steps) / active for k in ("grpo", "bnpo", "dr_grpo")},
        "total_loss_seed": sum(st["loss"]["grpo"] for st in steps) / T,
    })

path = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "rl_module", "grpo_reference.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", os.path.normpath(path), os.path.getsize(path), "bytes")
for s in out["settings"]:
    for i, st in enumerate(s["steps"]):
        print(s["name"], i, "ratio", st["ratio"], "kl", st["kl"], "loss", st["loss"]["grpo"], "clip", st["clip_frac"])
