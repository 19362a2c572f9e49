"""AdamW written out, for optimizer state that lives in slices of shared tensors.

A population keeps every member's adapter in one stacked tensor, so no `torch.optim`
optimizer can own a member's state. `adamw_update` is torch.optim.AdamW's single-tensor
update (amsgrad off, not maximizing) applied to one slice; `AdamWState` converts to and
from the `state_dict` of a torch AdamW, so checkpoints stay readable by single runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import torch

BETAS = (0.9, 0.999)
EPS = 1e-8


def adamw_update(
    param: torch.Tensor,
    grad: torch.Tensor,
    exp_avg: torch.Tensor,
    exp_avg_sq: torch.Tensor,
    step: int,
    lr: float,
    weight_decay: float,
) -> None:
    """One AdamW update of `param` in place (`step`: the count including this update, from 1).
    Same operations in the same order as torch's single-tensor AdamW, so equal results."""
    beta1, beta2 = BETAS
    if weight_decay != 0:
        param.mul_(1 - lr * weight_decay)
    exp_avg.lerp_(grad, 1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    step_size = lr / (1 - beta1 ** float(step))
    denom = (exp_avg_sq.sqrt() / (1 - beta2 ** float(step)) ** 0.5).add_(EPS)
    param.addcdiv_(exp_avg, denom, value=-step_size)


@dataclass
class AdamWState:
    """One member's AdamW state: moments per parameter slice, update count, lr, weight decay."""

    lr: float
    weight_decay: float
    step: int = 0
    exp_avg: list[torch.Tensor] = field(default_factory=list)
    exp_avg_sq: list[torch.Tensor] = field(default_factory=list)

    def update(self, params: Sequence[torch.Tensor], grads: Sequence[torch.Tensor]) -> None:
        """Apply one update to `params` (views of the member's slices) from `grads`."""
        if not self.exp_avg:  # torch creates the moments lazily, as zeros, on the first step
            self.exp_avg = [torch.zeros_like(p) for p in params]
            self.exp_avg_sq = [torch.zeros_like(p) for p in params]
        self.step += 1
        with torch.no_grad():
            for param, grad, avg, avg_sq in zip(params, grads, self.exp_avg, self.exp_avg_sq, strict=True):
                adamw_update(param, grad, avg, avg_sq, self.step, self.lr, self.weight_decay)

    def state_dict(self, count: int) -> dict[str, Any]:
        """The `state_dict()` a torch AdamW over `count` parameters would give in this state."""
        template = torch.optim.AdamW([torch.zeros(1, requires_grad=True)], lr=self.lr, weight_decay=self.weight_decay)
        group = dict(template.state_dict()["param_groups"][0], params=list(range(count)))
        state = {
            index: {"step": torch.tensor(float(self.step)), "exp_avg": avg.clone(), "exp_avg_sq": avg_sq.clone()}
            for index, (avg, avg_sq) in enumerate(zip(self.exp_avg, self.exp_avg_sq, strict=True))
        }
        return {"state": state, "param_groups": [group]}

    @classmethod
    def from_state_dict(cls, saved: dict[str, Any], params: Sequence[torch.Tensor]) -> "AdamWState":
        """The state a torch AdamW `state_dict` describes, for `params` (shapes are checked).
        lr and weight decay come from the saved group, as `torch.optim` restores them."""
        (group,) = saved["param_groups"]
        if len(group["params"]) != len(params):
            raise ValueError(f"optimizer state for {len(group['params'])} parameters, need {len(params)}")
        if tuple(group["betas"]) != BETAS or group["eps"] != EPS or group.get("amsgrad") or group.get("maximize"):
            raise ValueError("optimizer state uses AdamW settings other than the defaults")
        out = cls(lr=float(group["lr"]), weight_decay=float(group["weight_decay"]))
        entries = [saved["state"].get(index, saved["state"].get(str(index))) for index in group["params"]]
        if all(entry is None for entry in entries):
            return out
        for entry, param in zip(entries, params, strict=True):
            for key in ("exp_avg", "exp_avg_sq"):
                if entry is None or tuple(entry[key].shape) != tuple(param.shape):
                    raise ValueError(f"optimizer {key} does not fit a parameter of shape {tuple(param.shape)}")
            out.exp_avg.append(entry["exp_avg"].to(param.device, param.dtype).clone())
            out.exp_avg_sq.append(entry["exp_avg_sq"].to(param.device, param.dtype).clone())
        out.step = int(float(entries[0]["step"]))
        return out
