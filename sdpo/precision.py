"""Matmul precision paths on CPU: exact fp32, or bf16 matmuls around fp32 master weights.

`"bf16"` keeps every weight, LoRA adapter, optimizer state, norm and the residual stream in
fp32 and runs only the big matmuls on the CPU's bf16 units (AVX-512 BF16 / AMX):

- training passes (`bf16_matmuls`): oneDNN's fp32 matmul with bf16 inputs and fp32
  accumulation and output (`torch.backends.mkldnn.matmul.fp32_precision = "bf16"`);
- decoding (`bf16_weight_shadows`): each frozen linear layer multiplies with a bf16 copy of
  its current (LoRA-merged) weight, made once per generate call; activations go in as bf16
  and come out as fp32. Decode steps are small matmuls where the conversion inside oneDNN
  costs more than it saves, so the shadows are made once instead.

On a CPU without native bf16 the emulation is several times slower than fp32, so `"auto"`
picks `"bf16"` only where the CPU reports `avx512_bf16` or `amx_bf16`. Numbers differ from
fp32 in their low bits (measured in benchmarks/RESULTS.md), which is why fp32 is the default
wherever results must reproduce exactly across machines.
"""

from __future__ import annotations

import platform
import types
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

PATHS = ("fp32", "bf16")
CHOICES = PATHS + ("auto",)
BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags(cpuinfo: str | Path = "/proc/cpuinfo") -> frozenset[str]:
    """The CPU's feature flags (Linux /proc/cpuinfo); empty where that cannot be read."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def native_bf16(flags: frozenset[str] | None = None) -> bool:
    """Whether the CPU multiplies bf16 natively (AVX-512 BF16 or AMX), so the bf16 path pays."""
    flags = cpu_flags() if flags is None else flags
    return platform.machine() in ("x86_64", "AMD64") and any(f in flags for f in BF16_FLAGS)


def resolve(choice: str, device: str = "cpu", flags: frozenset[str] | None = None) -> str:
    """The path a run uses for `choice` ("fp32", "bf16" or "auto") on `device`.

    "auto" is "bf16" on a CPU with native bf16 and "fp32" elsewhere (CUDA included: these
    paths are CPU kernels). "bf16" asked for explicitly is honoured on any CPU (slow without
    native support, but allowed for measuring); on CUDA it is an error.
    """
    if choice not in CHOICES:
        raise ValueError(f"matmul precision must be one of {', '.join(CHOICES)}, got {choice!r}")
    on_cpu = str(device).startswith("cpu")
    if choice == "auto":
        return "bf16" if on_cpu and native_bf16(flags) else "fp32"
    if choice == "bf16" and not on_cpu:
        raise ValueError(f"matmul precision bf16 is a CPU path; device {device!r} runs fp32 (use fp32 or auto)")
    return choice


@contextmanager
def bf16_matmuls(path: str = "bf16") -> Iterator[None]:
    """Within the block, fp32 matmuls run on oneDNN's bf16 path (fp32 accumulate and output)
    when `path` is "bf16"; "fp32" changes nothing. The previous setting is restored."""
    if path != "bf16":
        yield
        return
    import torch

    settings = torch.backends.mkldnn.matmul
    previous = settings.fp32_precision
    settings.fp32_precision = "bf16"
    try:
        yield
    finally:
        settings.fp32_precision = previous


@contextmanager
def bf16_weight_shadows(model: Any, path: str = "bf16") -> Iterator[None]:
    """Within the block, every frozen `nn.Linear` of `model` multiplies with a bf16 copy of its
    weight as it is on entry (so enter after merging LoRA); trainable layers stay fp32. For
    no-grad decoding; "fp32" changes nothing. Forwards and weights are untouched afterwards."""
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
