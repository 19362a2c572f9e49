"""Throughput of `simbench sweep --executor batched` against `--executor local` on the same cells.

For each population size U (default 1 4 8 16 32) the same U cells (`concise` x sdpo-token x
seeds 0..U-1, SmolLM2-135M, short episodes) run twice through the real CLI, each in a fresh
process and folder: one after another (`local`) and as one population (`batched`). The table
gives interactions per CPU-second of each (user + system time of that process alone, from
wait4; imports and the model load included, as a user pays them), their ratio, wall time, and the process's peak RSS with the memory each added member
costs (slope of peak RSS over U). Run it on a quiet machine: it prints the load average before
and after, and a load above half the cores makes every number suspect.

    python benchmarks/bench_population.py                       # SmolLM2, U = 1 4 8 16 32
    python benchmarks/bench_population.py --precision auto      # what `--precision auto` picks
    python benchmarks/bench_population.py --quick               # tiny random Llama: checks the harness
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SETTINGS = {"interactions": 8, "batch_size": 4, "probe_every": 8, "probe_prompts": 4, "general_questions": 2,
            "max_new_tokens": 48}
QUICK = {"interactions": 4, "batch_size": 2, "probe_every": 2, "probe_prompts": 1, "general_questions": 1,
         "max_new_tokens": 4}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, nargs="+", default=[1, 4, 8, 16, 32], help="population sizes U")
    parser.add_argument("--model", default="smollm2-135m", help="policy model (default smollm2-135m)")
    parser.add_argument("--precision", default="fp32", help="--precision of every run: fp32 | bf16 | auto")
    parser.add_argument("--quick", action="store_true", help="tiny random Llama, tiny episodes (harness check)")
    return parser.parse_args(argv)


def tiny_model(folder: Path) -> str:
    sys.path.insert(0, str(HERE))
    from bench_episode import tiny_loader

    model, tokenizer = tiny_loader("tiny", "cpu")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def sweep(members: int, executor: str, out: Path, config: Path) -> dict[str, Any]:
    """One `simbench sweep` of `members` cells in its own process: its CPU seconds and peak RSS
    (wait4 reports them for that child alone), wall seconds and interactions done."""
    command = [sys.executable, "-m", "simbench", "sweep", "--personas", "concise", "--learners", "sdpo-token",
               "--seeds", *map(str, range(members)), "--config", str(config), "--out", str(out), "--quiet",
               "--executor", executor]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    started = time.perf_counter()
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            stderr.seek(0)
            raise SystemExit(f"error: {' '.join(command)} exited {process.returncode}: "
                             f"{stderr.read().decode(errors='replace')[-2000:]}")
    wall = time.perf_counter() - started
    runs = json.loads((out / "sweep.json").read_text())["runs"]
    done = sum(json.loads((out / name / "manifest.json").read_text())["position"] for name in runs)
    return {"cpu": usage.ru_utime + usage.ru_stime, "wall": wall, "rss_mb": usage.ru_maxrss / 1024,
            "interactions": done}


def table(results: dict[int, dict[str, dict[str, Any]]]) -> str:
    sizes = sorted(results)
    rows = ["| U | local int/CPU-s | batched int/CPU-s | batched / local | wall local s | wall batched s "
            "| peak RSS batched MB |", "|---|---|---|---|---|---|---|"]
    for u in sizes:
        local, batched = results[u]["local"], results[u]["batched"]
        rate_local, rate_batched = (r["interactions"] / r["cpu"] for r in (local, batched))
        rows.append(f"| {u} | {rate_local:.3f} | {rate_batched:.3f} | {rate_batched / rate_local:.2f}x "
                    f"| {local['wall']:.0f} | {batched['wall']:.0f} | {batched['rss_mb']:.0f} |")
    if len(sizes) > 1:
        first, last = sizes[0], sizes[-1]
        per_member = (results[last]["batched"]["rss_mb"] - results[first]["batched"]["rss_mb"]) / (last - first)
        rows.append(f"\nMemory per added member (batched, peak RSS slope U={first}..{last}): {per_member:.1f} MB")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    print(f"load average before: {os.getloadavg()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-population-") as scratch_name:
        scratch = Path(scratch_name)
        settings = dict(QUICK if args.quick else SETTINGS)
        settings["model"] = tiny_model(scratch / "tiny") if args.quick else args.model
        settings["precision"] = args.precision
        config = scratch / "settings.json"
        config.write_text(json.dumps(settings))
        results: dict[int, dict[str, dict[str, Any]]] = {}
        for members in args.members:
            results[members] = {executor: sweep(members, executor, scratch / f"{executor}-{members}", config)
                                for executor in ("local", "batched")}
            print(f"U={members}: " + ", ".join(f"{e} {r['cpu']:.1f} CPU-s" for e, r in results[members].items()),
                  flush=True)
    print(table(results))
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
