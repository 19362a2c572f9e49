"""Speed and memory harness: sdpo's update step vs a three-pass reference, one interaction's
time by stage, roofline, and peak RSS over long episodes; writes benchmarks/RESULTS.md.

Everything runs in this one process on the same model and batch, except the long-episode
memory runs, which each get a fresh subprocess so their peak RSS is comparable. From the
repository root:

    python benchmarks/run.py            # SmolLM2-135M, ~6 min on 2 idle cores
    python benchmarks/run.py --quick    # tiny random Llama, a smoke test (< 1 min)
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# Runs from a bare checkout too (the harness modules sit next to this file).
for entry in (str(HERE.parent), str(HERE)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from bench_episode import TINY  # noqa: E402

FULL = dict(
    model="smollm2-135m", batch=8, response_tokens=96, repeats=5, matmul_size=2048,
    episode_interactions=16, episode_new_tokens=96, memory_lengths=(50, 200),
    memory_new_tokens=16, real_memory=False, speed_new_tokens=32,
)
QUICK = dict(
    model=TINY, batch=2, response_tokens=8, repeats=5, matmul_size=256,
    episode_interactions=4, episode_new_tokens=6, memory_lengths=(25, 50),
    memory_new_tokens=4, real_memory=False, speed_new_tokens=4,
)
LOSS_TOLERANCE = 1e-4  # relative: the same math, only the head's matmul shapes differ


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny random Llama and small sizes (smoke test)")
    parser.add_argument("--model", help="policy model (default smollm2-135m; 'tiny' = 2-layer random Llama)")
    parser.add_argument("--batch", type=int, help="update batch size B (default 8)")
    parser.add_argument("--response-tokens", type=int, help="response length of the update batch (default 96)")
    parser.add_argument("--repeats", type=int, help="timed repetitions after one warm-up (default 5, at least 5)")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's default)")
    parser.add_argument(
        "--real-memory", action="store_true",
        help="also run the 50/200-interaction memory episodes with the real model (~6 more minutes)",
    )
    parser.add_argument("--note", help="a sentence about the conditions of this run, printed in RESULTS.md")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md", help="markdown file to write")
    for hidden in ("--child-episode", "--child-new-tokens"):
        parser.add_argument(hidden, type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-model", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    settings = dict(QUICK if args.quick else FULL)
    for key in ("model", "batch", "response_tokens", "repeats"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    if args.real_memory:
        settings["real_memory"] = True
    for key in ("batch", "response_tokens"):
        if settings[key] < 1:
            parser.error(f"--{key.replace('_', '-')} must be >= 1, got {settings[key]}")
    if settings["repeats"] < 5:
        parser.error(f"--repeats must be >= 5 (the medians need them), got {settings['repeats']}")
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads must be >= 1, got {args.threads}")
    args.settings = settings
    return args


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def measure(settings: dict[str, Any], threads: int, scratch: Path) -> dict[str, Any]:
    """All in-process measurements, then the memory subprocesses."""
    import torch
    from bench_episode import (
        breakdown,
        episode_config,
        generation_speed,
        loader_for,
        memory_run,
        run_instrumented,
    )
    from bench_update import compare_updates, matmul_peak, synthetic_samples

    from simbench.prompts import load_prompts

    out: dict[str, Any] = {"settings": settings}
    peak, peak_times = matmul_peak(settings["matmul_size"], settings["repeats"])
    out["matmul"] = {"size": settings["matmul_size"], "gflops": peak, "median_seconds": peak_times.median}
    log(f"matmul peak {peak:.1f} GFLOP/s")

    prompts = [p.text for p in load_prompts("builtin:train")]
    model, tokenizer = loader_for(settings["model"])(settings["model"], "cpu")
    out["parameters"] = sum(p.numel() for p in model.parameters())
    out["generation"] = [
        generation_speed(model, tokenizer, prompts, batch, settings["speed_new_tokens"])
        for batch in (1, settings["batch"])
    ]
    log(f"generation tok/s: {[round(g['tokens_per_second'], 1) for g in out['generation']]}")
    samples = synthetic_samples(tokenizer, prompts, settings["batch"], settings["response_tokens"])
    comparison = compare_updates(model, tokenizer, samples, settings["repeats"], progress=log)
    difference = abs(comparison.sdpo_loss - comparison.reference_loss)
    if difference > LOSS_TOLERANCE * max(abs(comparison.reference_loss), 1e-3):
        raise AssertionError(
            f"reference loss {comparison.reference_loss!r} != sdpo loss {comparison.sdpo_loss!r}: "
            "the two pipelines no longer compute the same update"
        )
    out["update"] = comparison
    del model

    config = episode_config(
        settings["model"], settings["episode_interactions"], batch_size=settings["batch"],
        probe_every=settings["episode_interactions"], probe_prompts=4, general_questions=2,
        max_new_tokens=settings["episode_new_tokens"],
    )
    log("breakdown episode")
    run = run_instrumented(config, scratch / "breakdown", settings["model"])
    out["breakdown"] = breakdown(run)
    out["breakdown"]["batch"] = settings["batch"]
    del run

    models = [TINY] + ([settings["model"]] if settings["real_memory"] and settings["model"] != TINY else [])
    out["memory"] = []
    for name in models:
        new_tokens = settings["memory_new_tokens"] if name == settings["model"] else QUICK["memory_new_tokens"]
        for length in settings["memory_lengths"]:
            log(f"memory episode: {name}, {length} interactions (subprocess)")
            out["memory"].append(memory_run(length, name, new_tokens, threads, timeout=900))
    out["threads"] = torch.get_num_threads()
    return out


def child(args: argparse.Namespace) -> int:
    """The long-episode subprocess: run it and print its figures as one JSON line."""
    from bench_episode import memory_child

    figures = memory_child(args.child_episode, args.child_model, args.child_new_tokens, args.child_out)
    print(json.dumps(figures))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    import tempfile

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.child_episode:
        return child(args)

    from bench_report import machine, render

    command = "python benchmarks/run.py" + "".join(f" {shlex.quote(a)}" for a in (sys.argv[1:] if argv is None else argv))
    before = machine()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="simbench-bench-") as scratch:
        results = measure(args.settings, torch.get_num_threads(), Path(scratch))
    results["wall_seconds"] = time.perf_counter() - started
    results["machine"] = before
    results["load_after"] = os.getloadavg()
    results["command"] = command
    results["note"] = args.note
    text = render(results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    log(f"wrote {args.output} ({results['wall_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
