#!/usr/bin/python3
"""Float64 reference for src/ldm_module/diffusion (Gaussian diffusion of the LDM).

Run by hand with Debian's interpreter (never from `npm test`):

    /usr/bin/python3 scripts/parity/diffusion_reference.py

Writes test/fixtures/ldm_module/diffusion_reference.json. Every formula below is written from
the papers' equations, independently of the TypeScript code:
  - Ho et al. 2020 (DDPM): q(x_t|x_0), posterior q(x_{t-1}|x_t,x_0), eps parameterisation;
  - Nichol & Dhariwal 2021 (improved DDPM): linear schedule scaled by 1000/T, cosine schedule,
    learned-range variance, L_hybrid = L_simple + L_vlb with stop-gradient on the mean,
    discretised Gaussian decoder at t = 0, timestep respacing (their section rule, and the
    integer-stride "ddimN" rule of their released sampler);
  - Song et al. 2021 (DDIM), eq. 12 with sigma_t(eta).
Inputs are drawn with a fixed numpy seed and rounded to float32, so the float32 TypeScript
run sees exactly the same inputs.
"""
import json
import math
import os

import numpy as np

T = 1000
B, N, C = 4, 5, 3
rng = np.random.default_rng(20251127)


def f32(a):
    """Rounds to float32 and back: inputs both sides represent exactly."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


# ---------------------------------------------------------------- schedules
def linear_betas(steps):
    scale = 1000.0 / steps
    return np.linspace(scale * 1e-4, scale * 0.02, steps, dtype=np.float64)


def cosine_betas(steps, max_beta=0.999):
    abar = lambda tau: math.cos((tau + 0.008) / 1.008 * math.pi / 2) ** 2
    return np.array([min(1 - abar((i + 1) / steps) / abar(i / steps), max_beta) for i in range(steps)])


def coefficients(betas):
    alphas = 1.0 - betas
    ac = np.cumprod(alphas)
    ac_prev = np.concatenate([[1.0], ac[:-1]])
    post_var = betas * (1.0 - ac_prev) / (1.0 - ac)
    return {
        "betas": betas,
        "alphasCumprod": ac,
        "alphasCumprodPrev": ac_prev,
        "alphasCumprodNext": np.concatenate([ac[1:], [0.0]]),
        "sqrtAlphasCumprod": np.sqrt(ac),
        "sqrtOneMinusAlphasCumprod": np.sqrt(1.0 - ac),
        "logOneMinusAlphasCumprod": np.log(1.0 - ac),
        "sqrtRecipAlphasCumprod": np.sqrt(1.0 / ac),
        "sqrtRecipm1AlphasCumprod": np.sqrt(1.0 / ac - 1.0),
        "posteriorVariance": post_var,
        "posteriorLogVarianceClipped": np.log(np.concatenate([[post_var[1]], post_var[1:]])),
        "posteriorMeanCoef1": betas * np.sqrt(ac_prev) / (1.0 - ac),
        "posteriorMeanCoef2": (1.0 - ac_prev) * np.sqrt(alphas) / (1.0 - ac),
    }


# ---------------------------------------------------------------- respacing
def py_round(x):
    return int(round(x))  # Python 3 round: half to even


def kept_steps(steps, spec):
    if spec.startswith("ddim"):
        want = int(spec[4:])
        for stride in range(1, steps):
            if len(range(0, steps, stride)) == want:
                return sorted(range(0, steps, stride))
        raise ValueError(spec)
    counts = [int(c) for c in spec.split(",")]
    size_per, extra = divmod(steps, len(counts))
    out, start = [], 0
    for j, count in enumerate(counts):
        size = size_per + (1 if j < extra else 0)
        stride = 1 if count <= 1 else (size - 1) / (count - 1)
        cur = 0.0
        for _ in range(count):
            out.append(start + py_round(cur))
            cur += stride
        start += size
    return sorted(set(out))


def respaced_betas(base_betas, kept):
    ac = np.cumprod(1.0 - base_betas)
    out, last = [], 1.0
    for k in kept:
        out.append(1.0 - ac[k] / last)
        last = ac[k]
    return np.array(out)


# ---------------------------------------------------------------- the maths, float64
def at(arr, t):
    return np.asarray(arr)[np.asarray(t)][:, None, None]


def q_sample(c, x0, t, noise):
    return at(c["sqrtAlphasCumprod"], t) * x0 + at(c["sqrtOneMinusAlphasCumprod"], t) * noise


def posterior_mean(c, x0, xt, t):
    return at(c["posteriorMeanCoef1"], t) * x0 + at(c["posteriorMeanCoef2"], t) * xt


def p_mean_variance(c, out, xt, t, var_type="learned_range"):
    eps, v = out[..., :C], out[..., C:]
    x0_hat = at(c["sqrtRecipAlphasCumprod"], t) * xt - at(c["sqrtRecipm1AlphasCumprod"], t) * eps
    min_log = at(c["posteriorLogVarianceClipped"], t)
    max_log = at(np.log(c["betas"]), t)
    if var_type == "learned_range":
        frac = (v + 1.0) / 2.0
        logvar = frac * max_log + (1.0 - frac) * min_log
    elif var_type == "fixed_small":
        logvar = np.broadcast_to(min_log, xt.shape)
    else:  # fixed_large: beta_t, with the posterior variance of step 1 at t = 0
        large = np.concatenate([[c["posteriorVariance"][1]], c["betas"][1:]])
        logvar = np.broadcast_to(at(np.log(large), t), xt.shape)
    return {"mean": posterior_mean(c, x0_hat, xt, t), "logVariance": logvar, "variance": np.exp(logvar), "predXstart": x0_hat, "eps": eps}


def normal_kl(m1, lv1, m2, lv2):
    return 0.5 * (-1.0 + lv2 - lv1 + np.exp(lv1 - lv2) + (m1 - m2) ** 2 * np.exp(-lv2))


def phi(x):
    return 0.5 * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def discretized_loglik(x, mean, log_scale):
    inv = np.exp(-log_scale)
    cdf_plus = phi(inv * (x - mean + 1.0 / 255))
    cdf_min = phi(inv * (x - mean - 1.0 / 255))
    lo = np.log(np.maximum(cdf_plus, 1e-12))
    hi = np.log(np.maximum(1.0 - cdf_min, 1e-12))
    mid = np.log(np.maximum(cdf_plus - cdf_min, 1e-12))
    return np.where(x < -0.999, lo, np.where(x > 0.999, hi, mid))


def gaussian_loglik(x, mean, log_scale):
    return -0.5 * math.log(2 * math.pi) - log_scale - 0.5 * ((x - mean) / np.exp(log_scale)) ** 2


def masked_mean(v, mask):
    return (v * mask[:, :, None]).sum(axis=(1, 2)) / (mask.sum(axis=1) * v.shape[2])


def training_losses(c, out, x0, t, noise, mask, decoder, steps, loss_type):
    # x_t is the model's input, a float32 tensor in the seed as here: round it like the
    # TypeScript run does, so the comparison measures the loss maths, not that rounding
    # (at t = 0 the decoder resolves 1/255 with sigma ~ 0.009, which magnifies it ~100x).
    xt = f32(q_sample(c, x0, t, noise))
    p = p_mean_variance(c, out, xt, t)  # stop-gradient changes no value
    true_mean = posterior_mean(c, x0, xt, t)
    true_lv = at(c["posteriorLogVarianceClipped"], t)
    kl = masked_mean(normal_kl(true_mean, true_lv, p["mean"], p["logVariance"]), mask) / math.log(2)
    ll = discretized_loglik if decoder == "discretized" else gaussian_loglik
    nll = masked_mean(-ll(x0, p["mean"], 0.5 * p["logVariance"]), mask) / math.log(2)
    vb = np.where(np.asarray(t) == 0, nll, kl)
    if loss_type == "rescaled_mse":
        vb = vb * steps / 1000.0
    mse = masked_mean((noise - out[..., :C]) ** 2, mask)
    return {"mse": mse, "vb": vb, "loss": mse + vb}


def ddim_step(c, out, xt, t, eta):
    p = p_mean_variance(c, out, xt, t)
    ab, abp = at(c["alphasCumprod"], t), at(c["alphasCumprodPrev"], t)
    sigma = eta * np.sqrt((1 - abp) / (1 - ab)) * np.sqrt(1 - ab / abp)
    mean = np.sqrt(abp) * p["predXstart"] + np.sqrt(1 - abp - sigma ** 2) * p["eps"]
    return {"mean": mean, "std": np.broadcast_to(sigma, xt.shape)}


def p_step(c, out, xt, t):
    p = p_mean_variance(c, out, xt, t)
    nonzero = (np.asarray(t) != 0).astype(np.float64)[:, None, None]
    return {"mean": p["mean"], "std": nonzero * np.exp(0.5 * p["logVariance"])}


# ---------------------------------------------------------------- fixture
def tolist(a):
    return np.asarray(a, dtype=np.float64).tolist()


def main():
    base = coefficients(linear_betas(T))
    x0 = f32(rng.normal(size=(B, N, C)) * 1.5)
    noise = f32(rng.normal(size=(B, N, C)))
    xt = f32(rng.normal(size=(B, N, C)))
    model_out = f32(np.concatenate([rng.normal(size=(B, N, C)), rng.uniform(-1, 1, size=(B, N, C))], axis=2))
    train_out = f32(np.concatenate([noise + 0.3 * rng.normal(size=(B, N, C)), rng.uniform(-1, 1, size=(B, N, C))], axis=2))
    mask = np.ones((B, N))
    mask[1, 3:] = 0
    mask[2, 1:] = 0
    t_base = [0, 1, 500, 999]

    specs = {s: kept_steps(T, s) for s in ["ddim50", "250", "ddim25", "10,15,20", "ddim10"]}
    ddim50 = coefficients(respaced_betas(base["betas"], specs["ddim50"]))
    s250 = coefficients(respaced_betas(base["betas"], specs["250"]))
    t_ddim, t_250 = [0, 1, 25, 49], [0, 1, 100, 249]

    pmv = p_mean_variance(base, model_out, xt, t_base)
    post_mean = posterior_mean(base, x0, xt, t_base)
    ref = {
        "T": T, "shape": [B, N, C],
        "inputs": {"x0": tolist(x0), "noise": tolist(noise), "xt": tolist(xt), "modelOut": tolist(model_out),
                   "trainOut": tolist(train_out), "mask": tolist(mask), "tBase": t_base, "tDdim": t_ddim, "t250": t_250},
        "schedule": {k: tolist(v) for k, v in base.items()},
        "cosineBetas": tolist(cosine_betas(T)),
        "kept": specs,
        "respacedBetas": {"ddim50": tolist(ddim50["betas"]), "250": tolist(s250["betas"])},
        "qSample": tolist(q_sample(base, x0, t_base, noise)),
        "qPosterior": {"mean": tolist(post_mean), "variance": tolist(at(base["posteriorVariance"], t_base)[:, 0, 0]),
                       "logVariance": tolist(at(base["posteriorLogVarianceClipped"], t_base)[:, 0, 0])},
        "pMeanVariance": {k: tolist(pmv[k]) for k in ["mean", "variance", "logVariance", "predXstart"]},
        "fixedLogVariance": {v: tolist(p_mean_variance(base, model_out[..., :C], xt, t_base, v)["logVariance"][:, 0, 0])
                             for v in ["fixed_small", "fixed_large"]},
        "ddim": {str(eta): {k: tolist(v) for k, v in ddim_step(ddim50, model_out, xt, t_ddim, eta).items()} for eta in [1.0, 0.3, 0.0]},
        "pStep250": {k: tolist(v) for k, v in p_step(s250, model_out, xt, t_250).items()},
        "losses": {
            "discretized": {k: tolist(v) for k, v in training_losses(base, train_out, x0, t_base, noise, mask, "discretized", T, "rescaled_mse").items()},
            "gaussian": {k: tolist(v) for k, v in training_losses(base, train_out, x0, t_base, noise, mask, "gaussian", T, "rescaled_mse").items()},
            "rescaled250": {k: tolist(v) for k, v in training_losses(s250, train_out, x0, t_250, noise, mask, "discretized", 250, "rescaled_mse").items()},
        },
    }
    path = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "ldm_module", "diffusion_reference.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(ref, fh)
    os.replace(tmp, path)
    print(f"wrote {os.path.normpath(path)} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
