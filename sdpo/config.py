"""`SDPOConfig`: every knob of an SDPO update, validated on construction with the bad value named.

Plain dataclass (no torch import) so configuration code can build and check it cheaply;
`from_dict` rejects unknown keys with a did-you-mean hint.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import numbers
from dataclasses import dataclass
from typing import Any, Mapping

from sdpo.errors import ConfigError
from sdpo.hindsight import DEFAULT_HINDSIGHT_TEMPLATE, validate_template
from sdpo.precision import CHOICES as PRECISIONS

LOSSES = ("token", "logit", "sequence")
DIVERGENCES = ("reverse_kl", "forward_kl", "jsd")
TEACHERS = ("live", "ema", "trust_region")


@dataclass(frozen=True)
class SDPOConfig:
    """Configuration of `SDPOUpdater` (defaults worked out on SmolLM2-135M: docs/LOG.md, 2026-11-26)."""

    loss: str = "token"
    """"token" (paper 1: −A_t·log π), "logit" (paper 2: top-K+tail divergence) or
    "sequence" (REINFORCE with the summed advantage as sequence reward)."""
    centre_advantages: bool = False
    """Subtract each sequence's mean advantage (token loss) / the batch-mean reward (sequence loss)."""
    top_k: int = 100
    """Logit loss: size of the student's top-K support (plus one tail bucket)."""
    divergence: str = "reverse_kl"
    """Logit loss: "reverse_kl" KL(student‖teacher), "forward_kl" or "jsd"."""
    alpha: float = 0.5
    """JSD mixture weight of the teacher, in (0, 1)."""
    is_clip: float | None = None
    """Cap on the detached importance ratio π/π_old (uses samples' `old_logprobs`); None: off."""
    lr: float = 5e-4
    """AdamW learning rate."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    lora_r: int = 8
    """LoRA rank."""
    lora_alpha: float = 16.0
    """LoRA scaling numerator (scale = lora_alpha / lora_r)."""
    lora_dropout: float = 0.0
    """LoRA dropout during the student pass."""
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")
    """Module names that receive LoRA adapters."""
    max_grad_norm: float | None = 1.0
    """Clip the global gradient norm to this value; None: no clipping (norm still recorded)."""
    grad_accum: int = 1
    """Split each update batch into this many micro-batches (same gradient, less memory)."""
    teacher: str = "live"
    """"live" (current weights), "ema" (EMA of the LoRA weights) or "trust_region"."""
    ema_decay: float = 0.95
    """EMA teacher: ema ← decay·ema + (1−decay)·current after each applied step."""
    trust_region_mix: float = 0.5
    """Trust-region teacher: logits = (1−mix)·base + mix·current, both on the hindsight context."""
    hindsight_template: str = DEFAULT_HINDSIGHT_TEMPLATE
    """How the follow-up joins the last user turn; exactly the fields {prompt} and {follow_up}."""
    seed: int = 0
    """Seed for the LoRA initialisation."""
    matmul_precision: str = "fp32"
    """Matmuls of the update passes: "fp32" (exact), "bf16" (bf16 copies of the frozen weights,
    fp32 LoRA, optimizer and losses; sdpo/precision.py) or "auto" (the faster path that passes
    the known-error probe, measured once per machine; sdpo/precision_choice.py)."""
    kl_every: int = 1
    """Log the full-vocabulary KL(student ‖ teacher) diagnostic every this many steps (other
    steps record none); it reads all (B, T, V) logits twice, which is not free on CPU."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "target_modules", _modules(self.target_modules))
        _choice("loss", self.loss, LOSSES)
        _choice("divergence", self.divergence, DIVERGENCES)
        _choice("teacher", self.teacher, TEACHERS)
        _choice("matmul_precision", self.matmul_precision, PRECISIONS)
        _flag("centre_advantages", self.centre_advantages)
        _integer("top_k", self.top_k, minimum=1)
        _integer("lora_r", self.lora_r, minimum=1)
        _integer("grad_accum", self.grad_accum, minimum=1)
        _integer("seed", self.seed, minimum=0)
        _integer("kl_every", self.kl_every, minimum=1)
        _number("alpha", self.alpha, low=0.0, high=1.0, open_low=True, open_high=True)
        _number("lr", self.lr, low=0.0, open_low=True)
        _number("weight_decay", self.weight_decay, low=0.0)
        _number("lora_alpha", self.lora_alpha, low=0.0, open_low=True)
        _number("lora_dropout", self.lora_dropout, low=0.0, high=1.0, open_high=True)
        _number("ema_decay", self.ema_decay, low=0.0, high=1.0, open_high=True)
        _number("trust_region_mix", self.trust_region_mix, low=0.0, high=1.0)
        if self.is_clip is not None:
            _number("is_clip", self.is_clip, low=0.0, open_low=True)
        if self.max_grad_norm is not None:
            _number("max_grad_norm", self.max_grad_norm, low=0.0, open_low=True)
        validate_template(self.hindsight_template)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "SDPOConfig":
        """Build from a plain mapping (YAML/JSON); unknown keys raise `ConfigError`."""
        known = [f.name for f in dataclasses.fields(cls)]
        for key in values:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.5)
                hint = f"did you mean {close[0]!r}?" if close else f"known fields: {', '.join(known)}"
                raise ConfigError(str(key), "unknown SDPO config field", hint)
        return cls(**dict(values))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready field values (round-trips through `from_dict`)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["target_modules"] = list(self.target_modules)
        return out


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.5)
        hint = (f"did you mean {close[0]!r}? " if close else "") + f"choices: {', '.join(choices)}"
        raise ConfigError(name, f"bad value {value!r}", hint)


def _flag(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigError(name, f"bad value {value!r}", "use true or false")


def _integer(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ConfigError(name, f"bad value {value!r}", f"need an integer >= {minimum}")


def _number(
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    open_low: bool = False,
    open_high: bool = False,
) -> None:
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real) and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if open_low else value >= low
    if ok and high is not None:
        ok = value < high if open_high else value <= high
    if not ok:
        left = "(" if open_low else "["
        right = ")" if open_high or high is None else "]"
        span = f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
        raise ConfigError(name, f"bad value {value!r}", f"need a number in {span}")


def _modules(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not value or not all(isinstance(m, str) and m for m in value):
        raise ConfigError("target_modules", f"bad value {value!r}", "need a non-empty list of module names")
    return tuple(value)
