"""Named optimizer parameter groups (weight decay on weights only) and applying scheduled values to them."""

from __future__ import annotations

import torch


def named_param_groups(modules: dict[str, torch.nn.Module], weight_decay: float) -> list[dict]:
    """Parameter groups ``"{name}"`` (weights, ``weight_decay``) then ``"{name}_no_wd"`` (biases and every
    parameter with fewer than 2 dimensions, weight decay 0, ``"wd_exclude": True``) for each module.

    Frozen parameters (``requires_grad=False``) and empty groups are left out. Decayed groups come first, in the
    order of ``modules``, then the excluded ones, as in the official ``init_opt`` (encoder, predictor, encoder
    no-WD, predictor no-WD), so optimizer states line up by position. As there, the predictor's 3-D mask tokens
    are weight-decayed.
    """
    decay, no_decay = [], []
    for name, module in modules.items():
        params = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        excluded = [p for n, p in params if p.ndim < 2 or n.endswith("bias")]
        ids = {id(p) for p in excluded}
        decay.append({"name": name, "params": [p for _, p in params if id(p) not in ids],
                      "weight_decay": weight_decay, "wd_exclude": False})
        no_decay.append({"name": f"{name}_no_wd", "params": excluded, "weight_decay": 0.0, "wd_exclude": True})
    return [g for g in decay + no_decay if g["params"]]


def apply_lr_wd(optimizer: torch.optim.Optimizer, lr: float, weight_decay: float) -> None:
    """Set every group's learning rate (times its optional ``"lr_scale"``) and the weight decay of the groups
    not flagged ``"wd_exclude"`` (the official schedulers' rule)."""
    for group in optimizer.param_groups:
        group["lr"] = lr * group.get("lr_scale", 1.0)
        if not group.get("wd_exclude", False):
            group["weight_decay"] = weight_decay
