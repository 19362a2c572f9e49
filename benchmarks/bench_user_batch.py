"""Wall time of one update batch of `openai` user follow-ups at concurrency 1 vs 4.

The episode asks the user for a whole batch's follow-ups in one `follow_up_many` call; the
OpenAI-compatible user sends `concurrency` requests at a time. This measures what that buys
against a real local endpoint: llama.cpp's server (llama-cpp-python[server]) serving
SmolLM2-135M's GGUF on 127.0.0.1, started here unless --base-url names a running one.
Whether concurrency helps depends on the server: llama_cpp.server answers one completion at a
time, so on it concurrency can at most overlap HTTP and prompt handling.

    python benchmarks/bench_user_batch.py                    # starts the server, batch 8, 3 repeats
    python benchmarks/bench_user_batch.py --base-url http://127.0.0.1:8000/v1 --model NAME

Measure on a quiet machine: a CPU shared with other jobs makes both numbers meaningless.
The concurrency levels alternate batch by batch, in swapped order on every repeat, and the
table records the server's CPU seconds (from /proc, when this script started the server) next
to wall time, with the load average and CPU flags.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))

from machine_facts import process_cpu_seconds  # noqa: E402  (benchmarks/)

from simbench.persona.library import get_preference  # noqa: E402
from simbench.prompts import load_prompts  # noqa: E402
from simbench.runner.provenance import cpu_flags  # noqa: E402
from simbench.users.base import FollowUpRequest  # noqa: E402
from simbench.users.openai_compat import OpenAIUser  # noqa: E402

ALIAS = "smollm2-135m"
LONG_ANSWER = (
    "DNS, the Domain Name System, translates names such as example.com into IP addresses. "
    "Your computer asks a resolver, which asks the root servers, then the top-level domain "
    "servers, then the domain's authoritative servers, and caches the answer for its TTL!"
)


def start_server() -> tuple[subprocess.Popen, str]:
    """llama.cpp's OpenAI-compatible server on a free port (the test suite's command)."""
    from conftest import free_port, smollm2_gguf  # tests/integration/conftest.py

    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2_gguf()),
               "--model_alias", ALIAS, "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base_url + "/models", timeout=2):
                return process, base_url
        except OSError:
            time.sleep(0.25)
    process.kill()
    raise SystemExit("llama.cpp server did not start within 60 s")


def batch(size: int, seed: int) -> list[FollowUpRequest]:
    """One update batch: shipped training prompts answered at length, user wants concise."""
    prompts = load_prompts("builtin:train")[:size]
    concise = [get_preference("concise")]
    return [FollowUpRequest(p.text, LONG_ANSWER, concise, random.Random(seed * 1000 + i))
            for i, p in enumerate(prompts)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", help="a running OpenAI-compatible endpoint (default: start llama.cpp)")
    parser.add_argument("--model", default=ALIAS, help="model name the endpoint serves")
    parser.add_argument("--batch", type=int, default=8, help="follow-ups per batch (an update batch)")
    parser.add_argument("--repeats", type=int, default=3, help="timed batches per concurrency")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args(argv)

    process, base_url = (None, args.base_url) if args.base_url else start_server()
    load_before = os.getloadavg()
    try:
        users = {level: OpenAIUser(base_url, args.model, api_key_env=None, concurrency=level, max_tokens=48)
                 for level in args.concurrency}
        for user in users.values():
            user.follow_up_many(batch(2, seed=99))  # warm-up
        seconds: dict[int, list[float]] = {level: [] for level in users}
        server_cpu: dict[int, list[float]] = {level: [] for level in users}
        for repeat in range(args.repeats):
            order = list(users) if repeat % 2 == 0 else list(reversed(users))
            for level in order:
                cpu = process_cpu_seconds(process.pid) if process is not None else float("nan")
                started = time.perf_counter()
                replies = users[level].follow_up_many(batch(args.batch, seed=repeat))
                seconds[level].append(time.perf_counter() - started)
                cpu_after = process_cpu_seconds(process.pid) if process is not None else float("nan")
                server_cpu[level].append(cpu_after - cpu)
                assert len(replies) == args.batch and all(r.text for r in replies)
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=10)
    load_after = os.getloadavg()
    base = statistics.median(seconds[args.concurrency[0]])
    print(f"cores {os.cpu_count()}, flags: {cpu_flags()}; load average before {load_before[0]:.2f}, "
          f"after {load_after[0]:.2f}; levels alternate per batch, order swapped each repeat")
    print(f"| concurrency | batch | median wall s ({args.repeats} batches) | min-max | server CPU s | "
          "s per follow-up | speed-up |")
    print("|---|---|---|---|---|---|---|")
    for level, values in seconds.items():
        median = statistics.median(values)
        cpu = statistics.median(server_cpu[level])
        print(f"| {level} | {args.batch} | {median:.2f} | {min(values):.2f}-{max(values):.2f} | {cpu:.2f} | "
              f"{median / args.batch:.2f} | {base / median:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
