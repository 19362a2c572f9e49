"""Matmul precision paths on CPU: exact fp32, or bf16 copies of the frozen weights.

`"bf16"` multiplies every frozen `nn.Linear` (the base model's projections and the output
head) with a bf16 copy of its weight, made when the block is entered; activations go in as
bf16 and come out as fp32. LoRA adapters, optimizer state, norms, the residual stream and
every loss reduction stay fp32; gradients to the activations flow back through the bf16
weights. The same copies serve training passes (`SDPOUpdater.step`) and decoding.

Copies rather than `torch.autocast`: both give the same bf16 error, but autocast converts the
frozen weights again on every forward and also sends the LoRA matmuls to bf16, while one set
of copies serves a step's teacher and student passes. oneDNN's `fp32_precision = "bf16"` flag
is not used: CPUs without AMX silently ignore it and keep computing in fp32.

`probe_error` is the known-error check: a small frozen stack run through a path, compared with
fp64. fp32 shows ~1e-7; real bf16 shows ~1e-3. A path whose error is not bf16-sized does not
compute in bf16, whatever the CPU flags say, and is never used or recorded as bf16.
"""

from __future__ import annotations

import platform
import types
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

PATHS = ("fp32", "bf16")
CHOICES = PATHS + ("auto",)

# Relative max error vs fp64 of the probe (K = 256 sums). bf16 keeps 8 mantissa bits, so its
# products are ~2^-9 off and the probe lands near 3e-3; fp32 lands near 4e-7. Above the upper
# bound the path computes something else (garbage, not rounding).
FP32_ERROR_MAX = 1e-5
BF16_ERROR_RANGE = (1e-4, 3e-2)


def cpu_info(cpuinfo: str | Path = "/proc/cpuinfo") -> dict[str, str]:
    """The first processor's fields of Linux /proc/cpuinfo; empty where that cannot be read."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return {}
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                break
            continue
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields


def cpu_flags(cpuinfo: str | Path = "/proc/cpuinfo") -> frozenset[str]:
    """The CPU's feature flags (Linux /proc/cpuinfo); empty where that cannot be read."""
    info = cpu_info(cpuinfo)
    return frozenset(info.get("flags", info.get("Features", "")).split())


def cpu_model(cpuinfo: str | Path = "/proc/cpuinfo") -> str:
    """The CPU's model name (e.g. "AMD EPYC 7B13"), else the machine type."""
    info = cpu_info(cpuinfo)
    return info.get("model name") or info.get("Model") or platform.machine() or "unknown CPU"


@contextmanager
def bf16_weight_shadows(model: Any, path: str = "bf16") -> Iterator[None]:
    """Within the block, every frozen `nn.Linear` of `model` multiplies with a bf16 copy of its
    weight as it is on entry (so enter after merging LoRA); trainable layers stay fp32.
    Gradients reach the activations through the copies. "fp32" changes nothing. Forwards and
    weights are untouched afterwards."""
    if path != "bf16":
        yield
        return
    import torch

    patched = []
    for module in model.modules():
        if isinstance(module, torch.nn.Linear) and not module.weight.requires_grad and "forward" not in vars(module):
            shadow = module.weight.detach().to(torch.bfloat16)
            bias = None if module.bias is None else module.bias.detach().to(torch.bfloat16)
            module.forward = types.MethodType(_shadowed_forward(shadow, bias), module)
            patched.append(module)
    try:
        yield
    finally:
        for module in patched:
            del module.forward


def _shadowed_forward(weight: Any, bias: Any) -> Any:
    import torch.nn.functional as F

    def forward(self: Any, x: Any) -> Any:
        return F.linear(x.to(weight.dtype), weight, bias).to(x.dtype)

    return forward


@dataclass(frozen=True)
class ProbeResult:
    """Relative max errors vs fp64 of one path on the probe: the output and the gradient that
    flows back to the input (through the frozen weights)."""

    path: str
    output_error: float
    input_grad_error: float

    @property
    def error(self) -> float:
        return max(self.output_error, self.input_grad_error)

    def computes_as_named(self) -> bool:
        """Whether the error is the size the path's name promises (bf16: bf16-sized)."""
        if self.path == "bf16":
            return BF16_ERROR_RANGE[0] <= self.error <= BF16_ERROR_RANGE[1]
        return self.error <= FP32_ERROR_MAX


def probe_error(path: str, size: int = 256, rows: int = 32) -> ProbeResult:
    """Run a seeded two-layer frozen stack forward and backward through `path` and measure its
    error against the same stack in fp64."""
    import torch

    generator = torch.Generator().manual_seed(0)
    stack = torch.nn.Sequential(torch.nn.Linear(size, size, bias=False), torch.nn.Linear(size, size, bias=False))
    with torch.no_grad():
        for layer in stack:
            layer.weight.copy_(torch.randn(size, size, generator=generator) / size**0.5)
    stack.requires_grad_(False)
    x = torch.randn(rows, size, generator=generator)
    upstream = torch.randn(rows, size, generator=generator)

    def run(model: Any, inputs: Any) -> tuple[Any, Any]:
        inputs = inputs.clone().requires_grad_(True)
        out = model(inputs)
        out.backward(upstream.to(out.dtype))
        return out.detach(), inputs.grad

    exact_out, exact_grad = run(stack.double(), x.double())
    stack.float()
    with bf16_weight_shadows(stack, path):
        out, grad = run(stack, x)
    return ProbeResult(path, _relative(out, exact_out), _relative(grad, exact_grad))


def _relative(value: Any, exact: Any) -> float:
    return float((value.double() - exact).abs().max() / exact.abs().max())
