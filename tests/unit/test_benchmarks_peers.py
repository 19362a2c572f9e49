"""benchmarks/peers.py's timing discipline and its report (TRL itself is an optional extra,
so the TRL arm runs only in the benchmark; its loss equality is asserted there)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import peers  # noqa: E402
from peers_report import render  # noqa: E402


def test_arms_alternate_and_swap_order_after_one_warm_up_each():
    calls: list[str] = []
    arms = {name: (lambda n: lambda: calls.append(n))(name) for name in ("a", "b", "c")}
    timings = peers.interleaved(arms, repeats=3)
    assert calls == ["a", "b", "c", "a", "b", "c", "c", "b", "a", "a", "b", "c"]
    assert {t["n"] for t in timings.values()} == {3}
    assert all(t["low"] <= t["median"] <= t["high"] for t in timings.values())


def _t(median: float, cpu: float = 1.0) -> dict[str, float]:
    return {"median": median, "low": median * 0.9, "high": median * 1.1, "cpu": cpu, "n": 4}


def test_report_states_the_ratio_against_trl_and_the_limits():
    results = {
        "machine": {"cpu": "X", "usable_cores": 2, "memory_gb": 23.5, "torch": "2.13", "threads": 2,
                    "load": (0.1, 0.1, 0.1), "date": "2026-12-07"},
        "flags": "avx2 avx512_bf16", "command": "python benchmarks/peers.py", "wall_seconds": 600.0,
        "matmul": {"fp32 (MKL)": 300.0, "fp32 -> bf16 (oneDNN)": 900.0, "bf16 (oneDNN)": 1800.0},
        "bandwidth_gbs": 27.0,
        "update": {"timings": {"simbench fp32": _t(4.0), "simbench bf16": _t(2.5), "TRL fp32": _t(4.0)},
                   "losses": {"simbench fp32": 0.67, "simbench bf16": 0.68, "TRL fp32": 0.67},
                   "quality": {"tokens": 720, "mean_abs_advantage": 0.22, "mean_gap": 0.01, "max_gap": 0.15}},
        "decode": {"fp32 batch 1": {**_t(2.6), "tokens_per_second": 24.6}, "fp32 batch 16": {**_t(8.0), "tokens_per_second": 128.0},
                   "bf16 batch 16": {**_t(5.0), "tokens_per_second": 204.8}},
        "llama_cpp": {**_t(0.7), "tokens_per_second": 91.0},
        "episode": {"fp32": {"seconds": 200, "cpu_seconds": 390, "run_seconds": 190, "passes": {0: [0, 16], 40: [12, 16]}},
                    "bf16, KL every 8": {"seconds": 150, "cpu_seconds": 290, "run_seconds": 140, "passes": {0: [0, 16], 40: [11, 16]}}},
    }
    text = render(results)
    assert "1.60x with `simbench bf16`, **met**" in text
    assert "| bf16 (oneDNN) | 1800 |" in text
    assert "27.0 GB/s" in text and "bf16 batch 16: 12.8 decode steps/s" in text
    assert "best batch-1 arm decodes at 0.27x llama.cpp's 91 tokens/s" in text
    assert "`bf16 batch 16` gives 2.25x" in text
    assert "0/16 / 12/16" in text
    assert "Fastest: `bf16, KL every 8`, 1.36x the fp32 hf row on this machine (**not met**" in text
    assert "1.96x the 275 s" in text
    results["episode"]["llama-cpp backend, bf16, KL every 8"] = {
        "seconds": 60, "cpu_seconds": 110, "run_seconds": 60, "passes": {0: [0, 16], 40: [10, 16]}}
    assert "Fastest: `llama-cpp backend, bf16, KL every 8`, 3.17x the fp32 hf row on this machine (**met**" \
        in render(results)
    results["update"]["timings"]["simbench bf16"] = _t(3.5)
    assert "1.14x with `simbench bf16`, **not met**" in render(results)
