"""benchmarks/peers.py's timing discipline and its report (TRL itself is an optional extra,
so the TRL arms run only in the benchmark; their loss checks are asserted there)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

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


def _t(mean: float, cpu: float = 1.0, n: int = 8) -> dict[str, float]:
    return {"median": mean, "mean": mean, "low": mean * 0.9, "high": mean * 1.1, "cpu": cpu, "n": n}


def test_update_steps_are_timed_in_whole_kl_cycles():
    assert peers.update_repeats(4, 8) == 8 and peers.update_repeats(9, 8) == 16 and peers.update_repeats(3, 1) == 3


def test_trl_bf16_that_did_not_change_the_loss_is_refused():
    same = {"simbench fp32": 0.67, "TRL fp32": 0.67, "TRL bf16=True": 0.67}
    with pytest.raises(AssertionError, match="bf16 path did not run"):
        peers.check_losses(same)
    peers.check_losses({**same, "TRL bf16=True": 0.68})


def _machine(cpu: str) -> dict:
    return {"cpu": cpu, "usable_cores": 2, "memory_gb": 23.5, "torch": "2.13", "threads": 2,
            "load": (0.1, 0.1, 0.1), "date": "2026-12-08"}


def _run(run_s: float, last: int) -> dict:
    return {"seconds": run_s + 10, "cpu_seconds": 2 * run_s, "run_seconds": run_s, "passes": {0: [0, 16], 40: [last, 16]}}


def test_report_has_one_section_per_machine_with_amortised_ratios_against_trls_best(tmp_path):
    here = {
        "machine": _machine("AMD EPYC"), "flags": "avx2 fma", "command": "python benchmarks/peers.py",
        "wall_seconds": 600.0, "matmul": {"fp32 (MKL)": 60.0, "bf16 (oneDNN)": 0.7}, "bandwidth_gbs": 27.0,
        "update": {"kl_every": 8, "tokens": 180,
                   "timings": {"simbench fp32": _t(4.0), "simbench bf16, KL every 8": _t(2.0),
                               "TRL fp32": _t(4.0), "TRL bf16=True": _t(3.0)},
                   "losses": {"simbench fp32": 0.67, "simbench bf16, KL every 8": 0.68, "TRL fp32": 0.67,
                              "TRL bf16=True": 0.69},
                   "quality": {"tokens": 720, "mean_abs_advantage": 0.22, "mean_gap": 0.01, "max_gap": 0.15}},
        "decode": {"fp32 batch 1": {**_t(2.6), "tokens_per_second": 24.6},
                   "fp32 batch 16": {**_t(8.0), "tokens_per_second": 128.0},
                   "bf16 batch 16": {**_t(5.0), "tokens_per_second": 204.8}},
        "llama_cpp": {**_t(0.7), "tokens_per_second": 91.0},
        "episode": {"fp32": [_run(190, 12), _run(200, 12), _run(180, 12)],
                    "bf16, KL every 8": [_run(140, 11), _run(150, 10), _run(145, 11)]},
    }
    other = {"machine": _machine("Intel Xeon"), "flags": "avx512_bf16 amx_bf16", "command": "python benchmarks/peers.py",
             "wall_seconds": 900.0, "matmul": {"fp32 (MKL)": 364.0, "bf16 (oneDNN)": 1832.0}}
    previous = tmp_path / "PEERS.json"
    previous.write_text(json.dumps({"machines": {"Intel Xeon (avx512_bf16 amx_bf16)": other}}))
    data = peers.merged(previous, peers.machine_label(here), here)
    assert list(data["machines"]) == ["Intel Xeon (avx512_bf16 amx_bf16)", "AMD EPYC (avx2 fma)"]
    text = render(data)
    assert "## AMD EPYC (avx2 fma)" in text and "## Intel Xeon (avx512_bf16 amx_bf16)" in text
    assert "| bf16 (oneDNN) | 1832 |" in text and "| bf16 (oneDNN) | 1 |" in text
    assert "Not measured like for like on this machine." in text  # the Intel section's update step
    assert "1.50x and 2.00x with `simbench bf16, KL every 8`, **met**" in text
    assert "| TRL fp32 | 4.00 [3.60, 4.40] | 1.00 | 1.00x | 0.75x | 0.670000 |" in text
    assert "27.0 GB/s" in text and "bf16 batch 16: 12.8 decode steps/s" in text
    assert "| 190 [180, 200] |" in text and "0/16 / 10/16; 0/16 / 11/16" in text
    assert "Fastest: `bf16, KL every 8`, 1.31x the fp32 hf row on this machine (**not met**" in text
    here["update"]["timings"]["simbench bf16, KL every 8"] = _t(2.5)
    assert "1.20x and 1.60x with `simbench bf16, KL every 8`, **not met**" in render(data)
