"""Episode measurements: where one interaction's time goes, generation batching, memory vs length.

Real episodes run through `simbench.runner.run.execute`; time is attributed by stage from the
logs' `seconds` fields, plus two thin timing wrappers (generate calls, teacher pass) that only
observe. Memory runs each episode length in a fresh subprocess so peak RSS is comparable.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from bench_update import TimedTeacher

HERE = Path(__file__).resolve().parent
TINY = "tiny"  # model name meaning "2-layer random Llama with SmolLM2's tokenizer"


class TimedBackend:
    """Delegates to a policy backend and records (requests, greedy?, seconds) per generate call."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[dict[str, Any]] = []

    def generate(self, requests: Sequence[Any]) -> list[Any]:
        started = time.perf_counter()
        out = self.inner.generate(requests)
        self.calls.append({
            "requests": len(requests),
            "greedy": all(r.greedy for r in requests),
            "seconds": time.perf_counter() - started,
            "tokens": sum(len(g.token_ids) for g in out),
        })
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def tiny_loader(name: str, device: str) -> tuple[Any, Any]:
    """A fresh 2-layer random Llama (hidden 64) with SmolLM2's tokenizer and chat template."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from sdpo.models import load_tokenizer

    del name
    tokenizer = load_tokenizer("smollm2-135m")
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True,
    )
    return LlamaForCausalLM(config).to(device).eval(), tokenizer


def loader_for(model: str) -> Callable[[str, str], tuple[Any, Any]]:
    from simbench.runner.parts import load_model

    return tiny_loader if model == TINY else load_model


def episode_config(model: str, interactions: int, batch_size: int, probe_every: int, probe_prompts: int,
                   general_questions: int, max_new_tokens: int) -> Any:
    from simbench.config import build_config

    return build_config(dict(
        persona="concise", learner="sdpo-token", model="smollm2-135m" if model == TINY else model,
        interactions=interactions, batch_size=batch_size, probe_every=probe_every,
        probe_prompts=probe_prompts, general_questions=general_questions,
        max_new_tokens=max_new_tokens, seed=0,
    ))


@dataclass
class EpisodeRun:
    """One instrumented episode: its run folder, session seconds and the wrappers' records."""

    run_dir: Path
    seconds: float
    backend: TimedBackend
    teacher: TimedTeacher | None
    learner: Any
    rss_mb: list[tuple[int, float]] = field(default_factory=list)
    heap_mb: list[tuple[int, float | None]] = field(default_factory=list)


def current_rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def malloc_in_use_mb() -> float | None:
    """Bytes glibc malloc has handed out and not got back (heap + mmapped chunks), in MiB.

    Unlike RSS this excludes memory freed but kept by the allocator, so it tells growth that
    something holds on to apart from allocator retention. None where mallinfo2 is missing.
    """
    import ctypes

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost",
        )]

    try:
        mallinfo2 = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return None
    mallinfo2.restype = MallInfo2
    info = mallinfo2()
    return (info.uordblks + info.hblkhd) / 2**20


def peak_rss_mb() -> float:
    """This process image's peak RSS. VmHWM, not ru_maxrss: Linux carries ru_maxrss across
    fork+exec, so a subprocess would report its (much larger) parent's peak."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def run_instrumented(config: Any, out: Path, model: str) -> EpisodeRun:
    """`execute` one episode with timing wrappers around generation and the teacher pass."""
    from simbench.runner.episode import BatchDone
    from simbench.runner.parts import build_parts
    from simbench.runner.run import execute

    held: dict[str, Any] = {}

    def factory(inputs: Any) -> Any:
        parts = build_parts(inputs, load=loader_for(model))
        parts.backend = held["backend"] = TimedBackend(parts.backend)
        updater = getattr(parts.learner, "updater", None)
        if updater is not None:
            updater.teacher = held["teacher"] = TimedTeacher(updater.teacher)
        held["learner"] = parts.learner
        return parts

    rss: list[tuple[int, float]] = []
    heap: list[tuple[int, float | None]] = []

    def on_event(event: Any, context: Any) -> None:
        if isinstance(event, BatchDone):
            rss.append((event.t, current_rss_mb()))
            heap.append((event.t, malloc_in_use_mb()))

    result = execute(config, out=out, parts_factory=factory, on_event=on_event)
    if result.status != "complete":
        raise RuntimeError(f"benchmark episode ended {result.status}: {result.message}")
    return EpisodeRun(out, result.seconds, held["backend"], held.get("teacher"), held["learner"], rss, heap)


def _records(run_dir: Path, name: str) -> list[dict[str, Any]]:
    from simbench.logs.io import read_jsonl

    return read_jsonl(run_dir / f"{name}.jsonl")


def stage_seconds(run_dir: Path) -> dict[str, float]:
    """Total seconds by stage from the logs: generate, user, update (+ step), probe, drift
    (scoring the fixed general texts at each probe point; runs without drift.jsonl: 0).

    A probe's records carry each prompt's share of the probe call, which also answered the
    general questions (no `seconds` field): the share is multiplied by both counts.
    """
    totals: dict[str, float] = defaultdict(float)
    for record in _records(run_dir, "interactions"):
        for stage, seconds in record["seconds"].items():
            totals[stage] += seconds
    for update in _records(run_dir, "updates"):
        totals["update"] += update["seconds"]
        totals["update_step"] += update["stats"].get("seconds") or 0.0
    general = defaultdict(int)
    for record in _records(run_dir, "general"):
        general[record["t"]] += 1
    probes: dict[int, list[float]] = defaultdict(list)
    for record in _records(run_dir, "probes"):
        probes[record["t"]].append(record["seconds"])
    for t, shares in probes.items():
        totals["probe"] += shares[0] * (len(shares) + general[t])
    if (run_dir / "drift.jsonl").exists():
        totals["drift"] = sum(r.get("seconds") or 0.0 for r in _records(run_dir, "drift"))
    return dict(totals)


def overhead_share(stages: dict[str, float], session_seconds: float) -> float:
    """Share of the session spent outside generate, user, update and probe (logging,
    checkpoints, the loop itself)."""
    inside = sum(stages.get(k, 0.0) for k in ("generate", "user", "update", "probe"))
    return max(session_seconds - inside, 0.0) / session_seconds


def median_seconds(action: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def breakdown(run: EpisodeRun, repeats: int = 3) -> dict[str, Any]:
    """Per-stage totals and per-interaction seconds of an instrumented run, with the logging
    and checkpoint costs micro-timed (a checkpoint = learner.save; a log line = one JSONL write)."""
    from simbench.logs.io import JsonlWriter

    stages = stage_seconds(run.run_dir)
    interactions = len(_records(run.run_dir, "interactions"))
    teacher = sum(run.teacher.seconds) if run.teacher else 0.0
    lines = sum(len(_records(run.run_dir, name)) for name in ("interactions", "updates", "probes", "general", "signals"))
    with tempfile.TemporaryDirectory() as scratch:
        save_seconds = median_seconds(lambda: run.learner.save(Path(scratch) / "ckpt"), repeats)
        sample = _records(run.run_dir, "interactions")
        writer = JsonlWriter(Path(scratch) / "log.jsonl")
        write_seconds = median_seconds(lambda: [writer.write(r) for r in sample], repeats) / max(len(sample), 1)
        writer.close()
    training_calls = [c for c in run.backend.calls if not c["greedy"]]
    rows = {
        "generation": stages.get("generate", 0.0),
        "user follow-up": stages.get("user", 0.0),
        "teacher pass": teacher,
        "student pass + backward + optimizer": stages.get("update_step", 0.0) - teacher,
        "learner bookkeeping (samples, token signals)": stages.get("update", 0.0) - stages.get("update_step", 0.0),
        "probe": stages.get("probe", 0.0),
    }
    outside = max(run.seconds - sum(rows.values()), 0.0)
    rows["logging + checkpoints + loop"] = outside
    return {
        "interactions": interactions,
        "session_seconds": run.seconds,
        "rows": rows,
        "overhead_share": overhead_share(stages, run.seconds),
        "checkpoint_seconds": save_seconds,
        "checkpoints": _checkpoint_count(run),
        "log_lines": lines,
        "log_write_seconds": write_seconds,
        "training_generate_calls": len(training_calls),
        "requests_per_call": [c["requests"] for c in training_calls],
    }


def _checkpoint_count(run: EpisodeRun) -> int:
    # Checkpoints are written at t=0 and at every batch end that is a multiple of the period;
    # the run folder keeps only the last two, so count from the config instead of the folder.
    config = json.loads((run.run_dir / "manifest.json").read_text())["config"]
    every = config.get("checkpoint_every") or config["probe_every"]
    ends = sorted({t for t, _ in run.rss_mb})
    total = ends[-1] if ends else 0
    return 1 + sum(1 for t in ends if t % every == 0 or t == total)


def generation_speed(model: Any, tokenizer: Any, prompts: Sequence[str], batch: int, new_tokens: int) -> dict[str, float]:
    """Tokens/s of the hf backend decoding `batch` requests together, exactly `new_tokens` each."""
    from simbench.backends.base import GenerationRequest
    from simbench.backends.hf import GenerationConfig, HFBackend

    config = GenerationConfig(max_new_tokens=new_tokens, temperature=0.7, stop_token_ids=(), batch_size=batch)
    backend = HFBackend(model, tokenizer, config)
    requests = [
        GenerationRequest(messages=({"role": "user", "content": prompts[i % len(prompts)]},), seed=i)
        for i in range(batch)
    ]
    backend.generate(requests[:1])  # warm-up
    started = time.perf_counter()
    out = backend.generate(requests)
    seconds = time.perf_counter() - started
    tokens = sum(len(g.token_ids) for g in out)
    return {"batch": batch, "tokens": tokens, "seconds": seconds, "tokens_per_second": tokens / seconds}


# Long episodes: batches of 5, a 2-prompt probe and a checkpoint every 25 interactions.
MEMORY_SETTINGS = dict(batch_size=5, probe_every=25, probe_prompts=2, general_questions=0)


def memory_child(interactions: int, model: str, max_new_tokens: int, out: Path) -> dict[str, Any]:
    """Run one long episode in THIS process and return its cost figures (the child's job)."""
    config = episode_config(model, interactions, max_new_tokens=max_new_tokens, **MEMORY_SETTINGS)
    run = run_instrumented(config, out, model)
    stages = stage_seconds(out)
    settled = MEMORY_SETTINGS["probe_every"]  # after the first probe and checkpoint
    first = next((mb for t, mb in run.rss_mb if t >= settled), None)
    heap_first = next((mb for t, mb in run.heap_mb if t >= settled), None)
    return {
        "model": model,
        "interactions": interactions,
        "max_new_tokens": max_new_tokens,
        "seconds": run.seconds,
        "seconds_per_interaction": run.seconds / interactions,
        "peak_rss_mb": peak_rss_mb(),
        "rss_after_first_checkpoint_mb": first,
        "rss_end_mb": run.rss_mb[-1][1] if run.rss_mb else None,
        "heap_after_first_checkpoint_mb": heap_first,
        "heap_end_mb": run.heap_mb[-1][1] if run.heap_mb else None,
        "overhead_share": overhead_share(stages, run.seconds),
    }


def memory_run(interactions: int, model: str, max_new_tokens: int, threads: int, timeout: float) -> dict[str, Any]:
    """`memory_child` in a fresh Python process (peak RSS covers this episode only)."""
    with tempfile.TemporaryDirectory(prefix="simbench-bench-") as scratch:
        command = [
            sys.executable, str(HERE / "run.py"), "--child-episode", str(interactions),
            "--child-model", model, "--child-new-tokens", str(max_new_tokens),
            "--child-out", str(Path(scratch) / "run"), "--threads", str(threads),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise RuntimeError(f"memory episode ({model}, {interactions}) failed: {' | '.join(tail)}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main_job(precision: str, backend: str = "hf", **learner_options: Any) -> dict[str, Any]:
    """The README's main job (`simbench run`, every other default) on matmul path `precision`
    and generation `backend`: wall and CPU seconds of the run (model loading included) and its
    `concise` adherence curve."""
    import tempfile

    from simbench.api import run

    with tempfile.TemporaryDirectory(prefix="simbench-main-job-") as scratch:
        wall, cpu = time.perf_counter(), time.process_time()
        result = run(out=Path(scratch) / "run", precision=precision, backend=backend,
                     learner_options=learner_options)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        curve: dict[int, list[bool]] = {}
        for record in _records(result.run_dir, "probes"):
            passed = record["checks"]["concise"]["passed"]
            curve.setdefault(record["t"], []).append(bool(passed))
        stages = stage_seconds(result.run_dir)
    return {"seconds": wall, "cpu_seconds": cpu, "run_seconds": result.seconds, "status": str(result.status),
            "stages": {k: round(v, 2) for k, v in stages.items()},
            "curve": {t: sum(v) / len(v) for t, v in sorted(curve.items())},
            "passes": {t: [sum(v), len(v)] for t, v in sorted(curve.items())}}
