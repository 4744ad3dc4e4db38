"""Reference trajectory for the AdamW / clip_grad_norm_ / LR-scheduler parity tests.

Run by hand with Debian's torch (never from `npm test`):

    /usr/bin/python3 scripts/parity/adamw_reference.py

Writes test/fixtures/nn/adamw_reference.json: the initial weights of a tiny MLP
(Linear 3->8, exact GELU, Linear 8->2, MSE loss), its data, and after each of 10
AdamW steps (grad clipping to a global norm before every step) the loss, the total
gradient norm returned by clip_grad_norm_ and every parameter (PyTorch layout,
Linear weight [out, in]). Also records learning-rate traces of CosineAnnealingLR
and ReduceLROnPlateau for the scheduler tests.
"""
import json
import os

import torch

torch.manual_seed(1234)
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "nn", "adamw_reference.json")

HP = {"lr": 0.02, "betas": [0.9, 0.95], "eps": 1e-8, "weight_decay": 0.1, "max_norm": 0.5, "steps": 10}


def tolist(t):
    return t.detach().cpu().tolist()


def mlp_trajectory():
    model = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.GELU(), torch.nn.Linear(8, 2))
    x = torch.randn(16, 3)
    y = torch.randn(16, 2)
    init = {k: tolist(v) for k, v in model.state_dict().items()}
    opt = torch.optim.AdamW(model.parameters(), lr=HP["lr"], betas=tuple(HP["betas"]), eps=HP["eps"],
                            weight_decay=HP["weight_decay"])
    steps = []
    for _ in range(HP["steps"]):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), HP["max_norm"])
        opt.step()
        steps.append({"loss": loss.item(), "total_norm": norm.item(),
                      "params": {k: tolist(v) for k, v in model.state_dict().items()}})
    return {"hparams": HP, "x": tolist(x), "y": tolist(y), "init": init, "steps": steps}


def lr_trace(make_sched, n, metrics=None):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    sched = make_sched(opt)
    lrs = [opt.param_groups[0]["lr"]]
    for i in range(n):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        lrs.append(opt.param_groups[0]["lr"])
    return lrs


def scheduler_traces():
    plateau_metrics = [1.0, 0.9, 0.95, 0.9, 0.91, 0.92, 0.89999, 0.93, 0.94, 0.8, 0.85, 0.86, 0.87, 0.88, 0.9,
                       0.91, 0.92, 0.93, 0.94, 0.95]
    out = {"base_lr": 0.1, "plateau_metrics": plateau_metrics}
    out["cosine"] = {"t_max": 8, "eta_min": 0.001,
                     "lrs": lr_trace(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=8, eta_min=0.001), 20)}
    cases = []
    for mode, tmode, patience, cooldown in [("min", "rel", 2, 0), ("min", "abs", 1, 1), ("max", "rel", 2, 0)]:
        kw = dict(mode=mode, factor=0.5, patience=patience, threshold=0.01, threshold_mode=tmode,
                  cooldown=cooldown, min_lr=0.01)
        lrs = lr_trace(lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, **kw), len(plateau_metrics),
                       plateau_metrics)
        cases.append({"options": kw, "lrs": lrs})
    out["plateau"] = cases
    return out


def main():
    data = {"torch_version": torch.__version__, "mlp": mlp_trajectory(), "schedulers": scheduler_traces()}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    tmp = OUT + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f)
    os.replace(tmp, OUT)
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
