#!/usr/bin/python3
"""PyTorch reference for bench/ldm.ts: the same DiT as src/ldm_module/denoiser.ts (latent
tokens -> Linear, sinusoidal timestep MLP, adaLN-Zero blocks with masked attention and a
tanh-GELU MLP, adaLN final layer to 2*latent channels), timed on the CPU for
  - one training step: forward on q-sampled latents, MSE on eps, backward, AdamW;
  - DDIM sampling: `steps` forward passes of a batch (no grad), the model cost of sampling.
The weights are random (timing only). Run with Debian's /usr/bin/python3 (python3-torch).
Prints one JSON line: {"impl": "torch", "ms_step": .., "ms_forward_sampling_batch": .., ...}
"""
import argparse, json, math, time
import torch
import torch.nn as nn

p = argparse.ArgumentParser()
p.add_argument("--batch", type=int, default=64)
p.add_argument("--tokens", type=int, default=12)
p.add_argument("--latent", type=int, default=8)
p.add_argument("--dim", type=int, default=128)
p.add_argument("--heads", type=int, default=4)
p.add_argument("--depth", type=int, default=4)
p.add_argument("--sample-batch", type=int, default=100)
p.add_argument("--steps", type=int, default=50)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--repeats", type=int, default=10)
a = p.parse_args()
torch.manual_seed(0)
torch.set_num_threads(a.threads)


def modulate(x, shift, scale):
    return x * (1 + scale[:, None]) + shift[:, None]


class Block(nn.Module):
    def __init__(s, d, h):
        super().__init__()
        s.h = h
        s.norm1 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        s.norm2 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        s.qkv, s.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        s.fc1, s.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        s.ada = nn.Sequential(nn.SiLU(), nn.Linear(d, 6 * d))

    def forward(s, x, c, mask):
        B, N, D = x.shape
        sm, cm, gm, sf, cf, gf = s.ada(c).chunk(6, dim=1)
        q, k, v = s.qkv(modulate(s.norm1(x), sm, cm)).reshape(B, N, 3, s.h, D // s.h).permute(2, 0, 3, 1, 4)
        att = ((q @ k.transpose(-2, -1)) / math.sqrt(D // s.h)).masked_fill(~mask[:, None, None, :], -1e9).softmax(-1)
        x = x + gm[:, None] * s.proj((att @ v).transpose(1, 2).reshape(B, N, D))
        hdn = nn.functional.gelu(s.fc1(modulate(s.norm2(x), sf, cf)), approximate="tanh")
        return x + gf[:, None] * s.fc2(hdn)


class DiT(nn.Module):
    def __init__(s, c, d, h, depth):
        super().__init__()
        s.x_embedder = nn.Linear(c, d)
        s.t_embedder = nn.Sequential(nn.Linear(256, d), nn.SiLU(), nn.Linear(d, d))
        s.blocks = nn.ModuleList([Block(d, h) for _ in range(depth)])
        s.norm_final = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        s.final_ada = nn.Sequential(nn.SiLU(), nn.Linear(d, 2 * d))
        s.linear = nn.Linear(d, 2 * c)

    def forward(s, x, t, mask):
        half = 128
        freqs = torch.exp(-math.log(10000) * torch.arange(half) / half)
        args = t[:, None].float() * freqs[None]
        c = s.t_embedder(torch.cat([torch.cos(args), torch.sin(args)], -1))
        h = s.x_embedder(x)
        for b in s.blocks:
            h = b(h, c, mask)
        shift, scale = s.final_ada(c).chunk(2, dim=1)
        return s.linear(modulate(s.norm_final(h), shift, scale)) * mask[..., None]


model = DiT(a.latent, a.dim, a.heads, a.depth)
opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0)


def make_mask(b):
    mask = torch.ones(b, a.tokens, dtype=torch.bool)
    mask[:, a.tokens * 3 // 4:] = False
    return mask


mask = make_mask(a.batch)
x0 = torch.randn(a.batch, a.tokens, a.latent)


def step():
    t = torch.randint(0, 1000, (a.batch,))
    noise = torch.randn_like(x0)
    ab = (1 - torch.linspace(1e-4, 0.02, 1000)).cumprod(0)[t][:, None, None]
    xt = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
    opt.zero_grad()
    out = model(xt, t, mask)
    loss = ((out[..., : a.latent] - noise) ** 2 * mask[..., None]).sum() / (mask.sum() * a.latent)
    loss.backward()
    opt.step()


for _ in range(3):
    step()
t0 = time.perf_counter()
for _ in range(a.repeats):
    step()
ms_step = (time.perf_counter() - t0) / a.repeats * 1e3

smask = make_mask(a.sample_batch)
z = torch.randn(a.sample_batch, a.tokens, a.latent)
with torch.no_grad():
    model(z, torch.full((a.sample_batch,), 999), smask)
    t0 = time.perf_counter()
    for i in range(a.steps):
        z = z - 0.01 * model(z, torch.full((a.sample_batch,), 999 - 20 * i), smask)[..., : a.latent]
    s_sample = time.perf_counter() - t0
print(json.dumps({"impl": "torch", "torch": torch.__version__, "ms_step": round(ms_step, 2),
                  "s_sampling_batch": round(s_sample, 3), "structures_per_s": round(a.sample_batch / s_sample, 2)}))
