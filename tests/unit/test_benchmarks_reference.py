"""The benchmark's reference pipeline computes sdpo's loss with three passes; the harness runs.

The speed-up the harness reports is only meaningful if both pipelines do the same update:
same loss value on the same weights, three decoder passes vs two, and the FLOP formula and
stage attribution it reports are checked on hand-sized cases.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_episode import malloc_in_use_mb, overhead_share, stage_seconds  # noqa: E402
from bench_report import _memory_cause  # noqa: E402
from bench_update import forward_flops, synthetic_samples  # noqa: E402
from reference_sdpo import ReferenceUpdater, reference_loss  # noqa: E402

from sdpo.config import SDPOConfig  # noqa: E402
from sdpo.updater import SDPOUpdater  # noqa: E402

PROMPTS = ["How do I boil an egg?", "Explain what a hash map is, with an example in Python code."]


@pytest.fixture(autouse=True)
def one_thread():
    # Tiny-model ops only slow down when split across threads on a shared 2-core machine.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _samples(tokenizer, batch=3, tokens=7):
    samples = synthetic_samples(tokenizer, PROMPTS, batch, tokens)
    # Unequal lengths exercise padding in both pipelines.
    return [dataclasses.replace(s, response_ids=s.response_ids[: tokens - i]) for i, s in enumerate(samples)]


@pytest.mark.parametrize("centre", [False, True])
def test_reference_loss_equals_sdpo_token_loss_on_the_same_weights(tiny_model, smol_tokenizer, centre):
    updater = SDPOUpdater(tiny_model, smol_tokenizer, SDPOConfig(centre_advantages=centre, lr=1e-2))
    samples = _samples(smol_tokenizer)
    updater.step(samples)  # move the LoRA weights off their no-op start
    with torch.no_grad():
        expected, tokens = reference_loss(updater.model, smol_tokenizer, samples, centre=centre)
    got = updater.step(samples).loss
    assert tokens == 7 + 6 + 5
    assert abs(float(expected)) > 1e-6
    assert math.isclose(got, float(expected), rel_tol=1e-5, abs_tol=1e-8)


def test_reference_runs_three_decoder_passes_where_sdpo_runs_two(tiny_model, smol_tokenizer):
    updater = SDPOUpdater(tiny_model, smol_tokenizer)
    reference = ReferenceUpdater(updater.model, smol_tokenizer)
    calls = []
    decoder = updater.model.get_base_model().model
    handle = decoder.register_forward_hook(lambda module, args, output: calls.append(1))
    samples = _samples(smol_tokenizer)
    try:
        updater.step(samples)
        sdpo_passes = len(calls)
        reference.step(samples)
        reference_passes = len(calls) - sdpo_passes
    finally:
        handle.remove()
    assert (sdpo_passes, reference_passes) == (2, 3)


def test_reference_step_trains_the_lora_weights(tiny_model, smol_tokenizer):
    updater = SDPOUpdater(tiny_model, smol_tokenizer)
    reference = ReferenceUpdater(updater.model, smol_tokenizer, lr=1e-2)
    before = {n: p.detach().clone() for n, p in updater.model.named_parameters() if p.requires_grad}
    record = reference.step(_samples(smol_tokenizer))
    after = dict(updater.model.named_parameters())
    assert record.tokens == 18 and math.isfinite(record.loss)
    assert any(not torch.equal(before[n], after[n]) for n in before)


def test_reference_updater_refuses_a_model_without_adapters(tiny_model, smol_tokenizer):
    for param in tiny_model.parameters():
        param.requires_grad_(False)
    with pytest.raises(ValueError, match="attach LoRA"):
        ReferenceUpdater(tiny_model, smol_tokenizer)


def test_forward_flops_counts_linear_weights_attention_and_head(tiny_model):
    # make_tiny_llama: hidden 64, intermediate 128, 2 layers, 4 heads of 16, 2 KV heads.
    per_layer = 64 * 64 + 2 * (64 * 32) + 64 * 64 + 3 * (64 * 128)
    batch, length, head_positions = 2, 10, 3
    expected = (
        2 * 2 * per_layer * batch * length
        + 4 * 2 * 64 * batch * length**2
        + 2 * 64 * tiny_model.config.vocab_size * head_positions
    )
    assert forward_flops(tiny_model, batch, length, head_positions) == expected


def _write(folder: Path, name: str, rows: list[dict]) -> None:
    (folder / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_stage_seconds_charges_a_probe_share_to_general_questions_too(tmp_path):
    _write(tmp_path, "interactions", [{"seconds": {"generate": 1.0, "user": 0.1}}] * 4)
    _write(tmp_path, "updates", [{"seconds": 2.5, "stats": {"seconds": 2.0}}])
    # One probe at t=0: 2 prompts + 2 general questions answered in one 4-second call.
    _write(tmp_path, "probes", [{"t": 0, "seconds": 1.0}] * 2)
    _write(tmp_path, "general", [{"t": 0}] * 2)
    stages = stage_seconds(tmp_path)
    assert stages == pytest.approx({"generate": 4.0, "user": 0.4, "update": 2.5, "update_step": 2.0, "probe": 4.0})
    assert overhead_share(stages, 11.0) == pytest.approx(0.1 / 11.0)


def test_stage_seconds_totals_drift_scoring_when_the_run_logged_it(tmp_path):
    for name in ("interactions", "updates", "probes", "general"):
        _write(tmp_path, name, [])
    _write(tmp_path, "drift", [{"t": 0, "seconds": 0.25}, {"t": 8, "seconds": 0.5}])
    assert stage_seconds(tmp_path) == pytest.approx({"drift": 0.75})


def test_malloc_in_use_counts_a_live_allocation():
    before = malloc_in_use_mb()
    if before is None:
        pytest.skip("no glibc mallinfo2 here")
    block = bytearray(64 * 2**20)
    held = malloc_in_use_mb()
    del block
    assert held - before > 60
    assert malloc_in_use_mb() < held - 60


@pytest.mark.parametrize(
    "growth, rss_drift, heap_drift, says",
    [
        (0.02, 30.0, 0.0, "nothing grows"),
        (0.12, 80.0, 1.0, "glibc keeps freed heap pages"),
        (0.12, 80.0, 75.0, "memory in use grows"),
    ],
)
def test_memory_verdict_tells_allocator_retention_from_growth_in_use(growth, rss_drift, heap_drift, says):
    assert says in _memory_cause(growth, rss_drift, heap_drift)


@pytest.mark.slow
def test_quick_harness_writes_every_section_within_a_minute(tmp_path):
    output = tmp_path / "RESULTS.md"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--threads", "1", "--output", str(output)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stderr[-2000:]
    text = output.read_text()
    for heading in ("## Machine", "## Targets", "## Update step", "## One interaction", "## Long episodes"):
        assert heading in text
    assert not re.search(r"\bnan\b", text, re.IGNORECASE), "a figure came out as nan"
    assert text.count("**met**") + text.count("**not met**") == 4
    assert seconds < 60, f"--quick took {seconds:.0f} s"
