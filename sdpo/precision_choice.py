"""Which precision path a run takes, by measurement: `resolve("auto" | "fp32" | "bf16")`.

On first use per machine, `measure` runs the known-error probe on both paths and times them on
a small matmul and a tiny training step (a second or two; seconds more where bf16 is emulated).
The result is cached per (CPU model, CPU flags, torch version) under the user cache folder
(`$SIMBENCH_CACHE/precision`, beside the model cache). `choose` is a pure function of that
measurement: the faster path among those whose probe shows the error their name promises.
An explicit "bf16" whose probe fails is refused: a path that did not run is never recorded.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from sdpo.cache import cache_base
from sdpo.files import write_replacing
from sdpo.precision import CHOICES, PATHS, ProbeResult, bf16_weight_shadows, cpu_flags, cpu_model, probe_error

# Flags that decide how fast (or whether) bf16 runs: part of the cache key.
KEY_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile", "neon", "asimd", "bf16")
MEASUREMENT_FORMAT = 1


class PrecisionUnavailable(ValueError):
    """The path asked for does not run as named here (device or failed probe)."""


@dataclass(frozen=True)
class PathChoice:
    """The path a run uses and why, as the manifest records it."""

    path: str
    reason: str


@dataclass
class Measurement:
    """Probe results and start-up timings of each path on one machine (`key`)."""

    key: dict[str, str]
    measured: str
    probes: dict[str, ProbeResult]
    seconds: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per path that passed its probe: median seconds of "matmul" and "step"."""

    def to_json(self) -> dict[str, Any]:
        return {"format": MEASUREMENT_FORMAT, "key": self.key, "measured": self.measured,
                "probes": {p: asdict(r) for p, r in self.probes.items()}, "seconds": self.seconds}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Measurement":
        return cls(key=dict(data["key"]), measured=str(data["measured"]),
                   probes={p: ProbeResult(**r) for p, r in data["probes"].items()},
                   seconds={p: {k: float(v) for k, v in s.items()} for p, s in data["seconds"].items()})


def machine_key() -> dict[str, str]:
    """What a measurement depends on: CPU model, its bf16-relevant flags, torch's version."""
    import torch

    present = cpu_flags()
    return {"cpu": cpu_model(), "flags": " ".join(f for f in KEY_FLAGS if f in present), "torch": torch.__version__}


def cache_file(key: dict[str, str]) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return cache_base() / "precision" / f"{digest}.json"


def cached_measurement(measure_now: Callable[[], Measurement] | None = None) -> Measurement:
    """This machine's measurement: read from the cache, else taken now and cached (atomically).
    An unreadable or foreign cache file is measured over, never trusted."""
    key = machine_key()
    path = cache_file(key)
    try:
        data = json.loads(path.read_text())
        if data.get("format") == MEASUREMENT_FORMAT and data.get("key") == key:
            return Measurement.from_json(data)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    measurement = (measure_now or measure)()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_replacing(path, json.dumps(measurement.to_json(), indent=2) + "\n")
    return measurement


def measure(repeats: int = 3) -> Measurement:
    """Probe both paths, then time those that pass: medians of `repeats` after a warm-up."""
    probes = {path: probe_error(path) for path in PATHS}
    seconds = {}
    for path in PATHS:
        if probes[path].computes_as_named():
            seconds[path] = {"matmul": _median_seconds(_matmul(path), repeats),
                             "step": _median_seconds(_tiny_step(path), repeats)}
    return Measurement(key=machine_key(), measured=time.strftime("%Y-%m-%d"), probes=probes, seconds=seconds)


def choose(measurement: Measurement) -> PathChoice:
    """The faster of the paths that passed their probe (matmul + step seconds), and why."""
    where = f"{measurement.key.get('cpu', '?')}, {measurement.key.get('flags') or 'no SIMD flags'}"
    when = f"measured {measurement.measured}, {where}"
    bf16 = measurement.probes.get("bf16")
    if bf16 is None or not bf16.computes_as_named() or "bf16" not in measurement.seconds:
        error = "not run" if bf16 is None else f"error {bf16.error:.1e}"
        return PathChoice("fp32", f"bf16 failed its known-error probe ({error}; {when})")
    if "fp32" not in measurement.seconds:
        return PathChoice("bf16", f"fp32 failed its known-error probe ({when})")
    fp32_total, bf16_total = (sum(measurement.seconds[p].values()) for p in ("fp32", "bf16"))
    parts = ", ".join(f"{k} {measurement.seconds['bf16'][k] / measurement.seconds['fp32'][k]:.2g}x the time"
                      for k in ("matmul", "step"))
    if bf16_total < fp32_total:
        return PathChoice("bf16", f"bf16 {fp32_total / bf16_total:.2f}x faster in start-up timing ({parts}; {when})")
    return PathChoice("fp32", f"bf16 {bf16_total / fp32_total:.2f}x slower in start-up timing ({parts}; {when})")


def resolve(choice: str, device: str = "cpu",
            measurement: Callable[[], Measurement] = cached_measurement) -> PathChoice:
    """The path a run uses for `choice` on `device`, with the reason the manifest records.

    "fp32" is taken as asked. "auto" is fp32 off the CPU (these are CPU paths) and `choose`'s
    pick on it. "bf16" is honoured on a CPU whose probe shows bf16-sized error (even where it is
    slower: allowed for measuring) and raises PrecisionUnavailable elsewhere.
    """
    if choice not in CHOICES:
        raise ValueError(f"matmul precision must be one of {', '.join(CHOICES)}, got {choice!r}")
    on_cpu = str(device).startswith("cpu")
    if choice == "fp32":
        return PathChoice("fp32", "asked for")
    if not on_cpu:
        if choice == "bf16":
            raise PrecisionUnavailable(
                f"matmul precision bf16 is a CPU path; device {device!r} runs fp32 (use fp32 or auto)")
        return PathChoice("fp32", f"device {device}: the bf16 path is a CPU path")
    measured = measurement()
    if choice == "auto":
        return choose(measured)
    probe = measured.probes.get("bf16")
    if probe is None or not probe.computes_as_named():
        shown = "no result" if probe is None else f"error {probe.error:.1e} vs fp64, not bf16-sized"
        raise PrecisionUnavailable(f"the bf16 path does not compute in bf16 on this CPU ({shown}; "
                                   f"{measured.key.get('cpu')}, measured {measured.measured})")
    return PathChoice("bf16", f"asked for; known-error probe {probe.error:.1e} (bf16-sized)")


def _median_seconds(action: Callable[[], Any], repeats: int) -> float:
    action()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _frozen_stack(sizes: tuple[int, ...], seed: int = 0) -> Any:
    import torch

    torch.manual_seed(seed)
    layers = [torch.nn.Linear(a, b, bias=False) for a, b in zip(sizes, sizes[1:])]
    return torch.nn.Sequential(*layers).requires_grad_(False)


def _matmul(path: str, size: int = 512, rows: int = 128) -> Callable[[], Any]:
    """One frozen (size x size) projection of `rows` activations on the path's weights (the
    copies made beforehand, as a step makes them once for all its passes)."""
    import torch

    layer, x = _frozen_stack((size, size)), torch.randn(rows, size)
    weight = layer[0].weight.to(torch.bfloat16) if path == "bf16" else layer[0].weight

    def run() -> Any:
        with torch.no_grad():
            return torch.nn.functional.linear(x.to(weight.dtype), weight).float()

    return run


def _tiny_step(path: str, width: int = 384, hidden: int = 1024, tokens: int = 256, rank: int = 8) -> Callable[[], Any]:
    """A frozen MLP block with a trainable low-rank adapter beside it: shadows made, forward,
    fp32 loss, backward into the adapter through the frozen weights (an update's shape)."""
    import torch

    up, down = _frozen_stack((width, hidden), 1), _frozen_stack((hidden, width), 2)
    lora_a = torch.nn.Parameter(torch.randn(rank, width) * 0.01)
    lora_b = torch.nn.Parameter(torch.randn(width, rank) * 0.01)
    x = torch.randn(tokens, width)
    model = torch.nn.ModuleList([up, down])

    def run() -> Any:
        with bf16_weight_shadows(model, path):
            out = down(torch.nn.functional.silu(up(x))) + (x @ lora_a.T) @ lora_b.T
            loss = out.square().mean()
            loss.backward()
        lora_a.grad = lora_b.grad = None
        return loss

    return run
