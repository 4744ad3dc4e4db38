#!/usr/bin/python3
"""float64 references for reward normalisation and the MMD reward (run by hand with Debian torch).

The formulas are the seed's (Chemeleon2 `standardize`, `normalize`, mean subtraction, clip,
`mmd_reward`), written out here in torch float64 on inputs that are exactly representable in
float32, so the TypeScript float32 results can be compared at 1e-5 relative.

Group-wise normalisation applies the per-batch formula to each group. A singleton group, where
torch.std gives NaN, is defined as zeros (crystal-grpo's documented rule). The MMD reference
builds all three kernel matrices, including the N x N reference one, exactly as the seed does,
so it checks our leave-one-out algebra that never builds it.

Usage: /usr/bin/python3 scripts/parity/normalize_reference.py
Writes test/fixtures/rl_module/normalize_reference.json and test/fixtures/metrics/mmd_reference.json.
"""
import json
import os

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
SEED = 1234


def f32(x):
    """Round to float32 and back: the TS side sees exactly these numbers."""
    return np.asarray(x, dtype=np.float32).astype(np.float64)


def standardize(x, eps):
    if len(x) < 2:
        return torch.zeros_like(x)
    if x.std() < eps:
        return torch.zeros_like(x)
    return (x - x.mean()) / (x.std() + eps)


def minmax(x, eps):
    if x.max() - x.min() < eps:
        return torch.zeros_like(x)
    return ((x - x.min()) / (x.max() - x.min() + eps)).clamp(0.0, 1.0)


FNS = {
    "std": standardize,
    "norm": minmax,
    "subtract_mean": lambda x, eps: x - x.mean(),
    "clip": lambda x, eps: x.clamp(-1.0, 1.0),
    None: lambda x, eps: x.clone(),
}


def grouped(values, fn, eps, group_ids):
    x = torch.tensor(values)
    out = torch.zeros_like(x)
    for g in dict.fromkeys(group_ids):
        idx = torch.tensor([i for i, gi in enumerate(group_ids) if gi == g])
        out[idx] = FNS[fn](x[idx], eps)
    return out.tolist()


def input_vectors(rng):
    """Named inputs: plain random, heavy ties, constant, wide range, groups with constant members."""
    cases = {
        "random64": f32(rng.normal(0.3, 1.7, 64)),
        "random320": f32(rng.normal(-2.0, 0.5, 320)),
        "ties": f32(rng.integers(0, 4, 40) * 0.25),
        "constant": f32(np.full(16, 0.7)),
        "tiny_spread": f32(0.5 + rng.normal(0, 1e-6, 12)),
        "wide": f32(rng.uniform(-30, 30, 25)),
        "pair": f32([0.1, 0.9]),
    }
    grouped_in = f32(rng.normal(0, 1, 320))
    grouped_in[64:128] = np.float32(0.25)  # one constant group of 64
    grouped_in[192:256] = f32(rng.integers(0, 2, 64))  # one group of 0/1 ties
    cases["grouped320"] = grouped_in
    return cases


def normalize_cases(rng):
    cases = []
    vectors = input_vectors(rng)
    for name, x in vectors.items():
        n = len(x)
        groupings = [("batch", None, [0] * n)]
        if name == "grouped320":
            groupings.append(("groupSize64", 64, [i // 64 for i in range(n)]))
            ids = list(rng.integers(0, 7, n))
            ids[5], ids[17] = 100, 101  # two singleton groups
            groupings.append(("groupIds", None, [int(i) for i in ids]))
        if name == "random64":
            groupings.append(("groupSize8", 8, [i // 8 for i in range(n)]))
        for grouping, size, ids in groupings:
            for fn in FNS:
                for eps in (1e-4, 1e-2):
                    case = {"input": name, "grouping": grouping, "fn": fn, "eps": eps,
                            "expected": grouped(x.tolist(), fn, eps, ids)}
                    if size:
                        case["groupSize"] = size
                    if grouping == "groupIds":
                        case["groupIds"] = ids
                    cases.append(case)
    return {k: v.tolist() for k, v in vectors.items()}, cases


def zero_variance(x, size, eps):
    groups = [x[i:i + size] for i in range(0, len(x), size)]
    return sum(1 for g in groups if len(g) < 2 or torch.tensor(g).std() < eps) / len(groups)


def mmd_seed(z_gen, z_ref):
    """The seed's estimator with all three kernels (deliberately the N x N one too)."""
    def poly_k(a, b):
        return (a @ b.T / a.shape[-1] + 1) ** 3

    m, n = len(z_gen), len(z_ref)
    k_gg, k_rr, k_gr = poly_k(z_gen, z_gen), poly_k(z_ref, z_ref), poly_k(z_gen, z_ref)
    r_term = (k_rr.sum() - k_rr.trace()) / (n * (n - 1))
    g = k_gg.sum() - k_gg.trace()
    c = k_gr.sum()
    full = g / (m * (m - 1)) + r_term - 2 * c / (m * n)
    s = k_gg.sum(dim=1) - k_gg.diagonal()
    t = k_gr.sum(dim=1)
    drop = (g - 2 * s) / ((m - 1) * (m - 2)) + r_term - 2 * (c - t) / ((m - 1) * n)
    return float(-full), (drop - full).tolist(), float(r_term)


def mmd_cases(rng):
    cases = []
    for m, n, d, scale in ((3, 2, 8, 1.0), (10, 50, 8, 1.0), (64, 300, 8, 2.0), (40, 120, 32, 0.5), (320, 200, 8, 1.0)):
        z_gen = f32(rng.normal(0.2, scale, (m, d)))
        z_ref = f32(rng.normal(0.0, scale, (n, d)))
        r, r_indiv, r_term = mmd_seed(torch.tensor(z_gen), torch.tensor(z_ref))
        cases.append({"M": m, "N": n, "d": d, "zGen": z_gen.tolist(), "zRef": z_ref.tolist(),
                      "r": r, "rIndiv": r_indiv, "referenceTerm": r_term})
    return cases


def write(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(obj, fh, separators=(",", ":"))
    os.replace(tmp, path)
    print(f"{path}: {os.path.getsize(path)} bytes")


def main():
    rng = np.random.default_rng(SEED)
    inputs, cases = normalize_cases(rng)
    g = inputs["grouped320"]
    zv = [{"groupSize": s, "eps": 1e-4, "expected": zero_variance(g, s, 1e-4)} for s in (1, 8, 64, 320)]
    write("test/fixtures/rl_module/normalize_reference.json",
          {"torch": torch.__version__, "seed": SEED, "inputs": inputs, "cases": cases, "zeroVariance": zv})
    write("test/fixtures/metrics/mmd_reference.json",
          {"torch": torch.__version__, "seed": SEED, "cases": mmd_cases(np.random.default_rng(SEED + 1))})


if __name__ == "__main__":
    main()
