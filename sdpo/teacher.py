"""Hindsight teachers: which weights score the teacher context (x with o, y).

live: the current weights (paper 1). ema: an exponential moving average of the LoRA weights,
swapped in for the teacher pass. trust_region: logits interpolated between the base model
(adapters off) and the current weights, which keeps the teacher near the base (paper 2).
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator, Protocol

import torch

from sdpo.adapters import trainable_parameters
from sdpo.hindsight import ResponseBatch
from sdpo.scoring import response_logits


class Teacher(Protocol):
    """Produces detached teacher logits at the response positions of a batch."""

    name: str

    def logits(self, model: Any, batch: ResponseBatch) -> torch.Tensor:
        """(B, T, V) teacher logits for `batch` (no gradient)."""
        ...

    def after_step(self, model: Any) -> None:
        """Called after every APPLIED optimizer step (skipped steps do not call it)."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """Tensors and numbers to checkpoint (empty when the teacher has no state)."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict` returned."""
        ...


class _StatelessTeacher:
    """A teacher with no state of its own: nothing to update after a step, nothing to save."""

    def after_step(self, model: Any) -> None:
        del model

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        del state


class LiveTeacher(_StatelessTeacher):
    """The current policy itself; one no-grad forward pass per batch."""

    name = "live"

    def __init__(self, model: Any, config: Any) -> None:
        del model, config  # nothing to keep: the teacher IS the model

    def logits(self, model: Any, batch: ResponseBatch) -> torch.Tensor:
        with torch.no_grad(), _eval_mode(model):
            return response_logits(model, batch)


class EMATeacher:
    """EMA of the trainable (LoRA) weights, swapped into the model for the teacher pass.

    Starts at the adapter's initial weights (for a fresh LoRA: exactly the base model).
    """

    name = "ema"

    def __init__(self, model: Any, config: Any) -> None:
        self.decay = float(config.ema_decay)
        self.average = {n: p.detach().clone() for n, p in trainable_parameters(model).items()}

    def logits(self, model: Any, batch: ResponseBatch) -> torch.Tensor:
        with torch.no_grad(), _eval_mode(model), _swapped(model, self.average):
            return response_logits(model, batch)

    def after_step(self, model: Any) -> None:
        with torch.no_grad():
            for name, param in trainable_parameters(model).items():
                self.average[name].mul_(self.decay).add_(param.detach(), alpha=1.0 - self.decay)

    def state_dict(self) -> dict[str, Any]:
        return {"decay": self.decay, "average": {n: t.clone() for n, t in self.average.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        missing = set(self.average) - set(state.get("average", {}))
        if missing:
            raise KeyError(f"EMA state lacks {sorted(missing)[:3]}")
        self.decay = float(state["decay"])
        for name in self.average:
            self.average[name].copy_(state["average"][name])


class TrustRegionTeacher(_StatelessTeacher):
    """logits = (1 − mix)·base + mix·current on the hindsight context.

    Costs one extra no-grad forward (the base pass runs with the adapters disabled).
    """

    name = "trust_region"

    def __init__(self, model: Any, config: Any) -> None:
        if not hasattr(model, "disable_adapter"):
            raise TypeError("the trust-region teacher needs a peft model (adapters to switch off)")
        self.mix = float(config.trust_region_mix)

    def logits(self, model: Any, batch: ResponseBatch) -> torch.Tensor:
        with torch.no_grad(), _eval_mode(model):
            with model.disable_adapter():
                base = response_logits(model, batch)
            current = response_logits(model, batch)
        return torch.lerp(base, current, self.mix)


TEACHERS: dict[str, Callable[[Any, Any], Teacher]] = {
    LiveTeacher.name: LiveTeacher,
    EMATeacher.name: EMATeacher,
    TrustRegionTeacher.name: TrustRegionTeacher,
}


def make_teacher(model: Any, config: Any) -> Teacher:
    """The teacher named by `config.teacher`, bound to `model` (already wrapped with LoRA)."""
    try:
        factory = TEACHERS[config.teacher]
    except KeyError:
        raise ValueError(f"unknown teacher {config.teacher!r}; choices: {', '.join(TEACHERS)}") from None
    return factory(model, config)


@contextlib.contextmanager
def _eval_mode(model: Any) -> Iterator[None]:
    # The teacher must be deterministic: no LoRA dropout, whatever mode the caller left.
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


@contextlib.contextmanager
def _swapped(model: Any, weights: dict[str, torch.Tensor]) -> Iterator[None]:
    params = trainable_parameters(model)
    saved = {n: params[n].detach().clone() for n in weights}
    try:
        with torch.no_grad():
            for name, value in weights.items():
                params[name].copy_(value)
        yield
    finally:
        with torch.no_grad():
            for name, value in saved.items():
                params[name].copy_(value)
