#!/usr/bin/python3
"""PyTorch reference for bench/ldm.ts: the same LDM as src/ldm_module (a transformer VAE around
a DiT over per-atom latents), with random weights (timing only), timed on the CPU for
  - one training step: VAE encoder forward (no grad, posterior mean), q-sample, DiT forward,
    MSE on eps, backward, global grad-norm clip to 1, AdamW;
  - DDIM sampling with eta = 1 on 50 respaced steps of the 1000-step linear schedule: per step
    one DiT call and the DDIM update (x0 from eps, mean, sigma, fresh noise), then one VAE
    decoder forward (atom logits, coordinate and lattice heads).
Shapes come from the command line, so both sides see the same batch: --train-atoms / --sample-atoms
give the real-atom count of each structure (padding to the largest, with a key-padding mask).
Run with Debian's /usr/bin/python3 (python3-torch). Prints one JSON line.
"""
import argparse, json, math, time
import torch
import torch.nn as nn

p = argparse.ArgumentParser()
p.add_argument("--train-atoms", required=True, help="comma-separated site counts of the training batch")
p.add_argument("--sample-atoms", required=True, help="comma-separated site counts of the sampling batch")
p.add_argument("--latent", type=int, default=8)
p.add_argument("--dim", type=int, default=128)
p.add_argument("--heads", type=int, default=4)
p.add_argument("--depth", type=int, default=4)
p.add_argument("--vae-dim", type=int, default=128)
p.add_argument("--vae-heads", type=int, default=4)
p.add_argument("--vae-ffn", type=int, default=512)
p.add_argument("--vae-layers", type=int, default=3)
p.add_argument("--fourier", type=int, default=8)
p.add_argument("--steps", type=int, default=50)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--repeats", type=int, default=10)
a = p.parse_args()
torch.manual_seed(0)
torch.set_num_threads(a.threads)


def modulate(x, shift, scale):
    return x * (1 + scale[:, None]) + shift[:, None]


class Block(nn.Module):
    """adaLN-Zero DiT block with masked attention and a tanh-GELU MLP."""

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
        freqs = torch.exp(-math.log(10000) * torch.arange(128) / 128)
        args = t[:, None].float() * freqs[None]
        c = s.t_embedder(torch.cat([torch.cos(args), torch.sin(args)], -1))
        h = s.x_embedder(x)
        for b in s.blocks:
            h = b(h, c, mask)
        shift, scale = s.final_ada(c).chunk(2, dim=1)
        return s.linear(modulate(s.norm_final(h), shift, scale)) * mask[..., None]


def stack():
    layer = nn.TransformerEncoderLayer(a.vae_dim, a.vae_heads, a.vae_ffn, dropout=0.0, activation="gelu", batch_first=True, norm_first=True)
    return nn.TransformerEncoder(layer, a.vae_layers, norm=nn.LayerNorm(a.vae_dim), enable_nested_tensor=False)


class VAE(nn.Module):
    """Encoder (atom + Fourier-coordinate + lattice tokens) and decoder (latent -> three heads)."""

    def __init__(s):
        super().__init__()
        d = a.vae_dim
        s.atom_embedding, s.frac_embedding, s.lattice_embedding = nn.Linear(100, d, bias=False), nn.Linear(6 * a.fourier, d), nn.Linear(6, d)
        s.encoder, s.quant_proj = stack(), nn.Linear(d, 2 * a.latent)
        s.latent_proj, s.decoder = nn.Linear(a.latent, d), stack()
        s.atom_head, s.coord_head = nn.Linear(d, 100), nn.Linear(d, 6)
        s.lattice_head = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, 6))

    def encode(s, types, frac, lattice, mask):
        args = frac[..., None] * (2 * math.pi * torch.arange(1, a.fourier + 1))
        feats = torch.cat([torch.sin(args), torch.cos(args)], -1).flatten(2)
        tok = s.atom_embedding(nn.functional.one_hot(types, 100).float()) + s.frac_embedding(feats) + s.lattice_embedding(lattice)[:, None]
        return s.quant_proj(s.encoder(tok, src_key_padding_mask=~mask))[..., : a.latent]

    def decode(s, z, mask):
        h = s.decoder(s.latent_proj(z), src_key_padding_mask=~mask)
        pooled = (h * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return s.atom_head(h), s.coord_head(h), s.lattice_head(pooled)


def make_mask(counts):
    n = max(counts)
    return torch.arange(n)[None, :] < torch.tensor(counts)[:, None]


dit, vae = DiT(a.latent, a.dim, a.heads, a.depth), VAE().eval()
opt = torch.optim.AdamW(dit.parameters(), lr=1e-4, weight_decay=0)
betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
alphas_cumprod = torch.cumprod(1 - betas, 0)
train_counts = [int(x) for x in a.train_atoms.split(",")]
mask = make_mask(train_counts)
B, N = mask.shape
types, frac, lattice = torch.randint(0, 100, (B, N)), torch.rand(B, N, 3), torch.rand(B, 6)


def train_step():
    with torch.no_grad():
        x0 = vae.encode(types, frac, lattice, mask)
    t = torch.randint(0, 1000, (B,))
    noise = torch.randn_like(x0)
    ab = alphas_cumprod[t].float()[:, None, None]
    xt = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
    opt.zero_grad()
    out = dit(xt, t, mask)
    loss = ((out[..., : a.latent] - noise) ** 2 * mask[..., None]).sum() / (mask.sum() * a.latent)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(dit.parameters(), 1.0)
    opt.step()


def ddim_sample(counts):
    """DDIM, eta 1, on `steps` evenly spaced timesteps (ADM's "ddim50" respacing), then decode."""
    smask = make_mask(counts)
    use = list(range(0, 1000, 1000 // a.steps))
    ab = alphas_cumprod[use].float()
    x = torch.randn(smask.shape[0], smask.shape[1], a.latent)
    with torch.no_grad():
        for i in reversed(range(len(use))):
            eps = dit(x, torch.full((x.shape[0],), use[i]), smask)[..., : a.latent]
            ab_t, ab_prev = ab[i], (ab[i - 1] if i > 0 else torch.tensor(1.0))
            x0 = (x - (1 - ab_t).sqrt() * eps) / ab_t.sqrt()
            sigma = ((1 - ab_prev) / (1 - ab_t)).sqrt() * (1 - ab_t / ab_prev).sqrt()
            mean = x0 * ab_prev.sqrt() + (1 - ab_prev - sigma**2).clamp(min=0).sqrt() * eps
            x = (mean + (sigma * torch.randn_like(x) if i > 0 else 0)) * smask[..., None]
        return vae.decode(x, smask)


for _ in range(3):
    train_step()
times = []
for _ in range(a.repeats):
    t0 = time.perf_counter()
    train_step()
    times.append(time.perf_counter() - t0)
ms_step = sorted(times)[len(times) // 2] * 1e3

sample_counts = [int(x) for x in a.sample_atoms.split(",")]
ddim_sample(sample_counts[:4])  # warm-up
t0 = time.perf_counter()
ddim_sample(sample_counts)
s_sample = time.perf_counter() - t0
print(json.dumps({"impl": "torch", "torch": torch.__version__, "threads": torch.get_num_threads(), "ms_step": round(ms_step, 2),
                  "s_sampling_batch": round(s_sample, 3), "structures_per_s": round(len(sample_counts) / s_sample, 2)}))
