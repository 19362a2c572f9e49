"""The stacked-LoRA micro-benchmark's harness runs every arm on the tiny model and sizes a
member's memory from the adapter shapes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tinymodels import single_torch_thread

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_multi_lora import measure  # noqa: E402


def test_every_arm_is_timed_and_a_members_memory_is_its_adapter_and_adam_moments():
    args = argparse.Namespace(model="tiny", samples=1, response_tokens=4, decode_rows=1, decode_tokens=2, repeats=1)
    with single_torch_thread():
        result = measure(args, members=2)
    arms = ("train_single", "train_stacked", "decode_single", "decode_stacked", "decode_base")
    assert all(result[arm] > 0 for arm in arms)
    # 2 layers x (q: 64->64, k: 64->32, v: 64->32, o: 64->64) at rank 8, fp32, times 3 copies
    per_layer = 8 * ((64 + 64) + (64 + 32) + (64 + 32) + (64 + 64))
    assert result["member_mb"] == 3 * 2 * per_layer * 4 / 2**20
