"""Cost of `simbench sweep --executor ray` on one machine, and throughput per core.

Runs the same sweep (default: `concise` x {sdpo-token, frozen} x seeds {0, 1}, SmolLM2-135M,
short episodes) through the real CLI, each configuration into a fresh folder:

  local          --executor local (one run at a time in one process, torch on every core)
  ray-serial     --executor ray --cpus-per-run <cores>: one run at a time, as many threads:
                 the same work as `local`, so the difference is Ray's overhead (starting
                 Ray, a worker process per cell that imports torch and loads the model)
  ray-1thread    --executor ray --cpus-per-run 1: <cores> single-thread runs at once

ray-serial vs ray-1thread is the throughput question: N concurrent single-thread runs vs one
N-thread run at a time. Ray is started by each sweep on this machine; as root, each sweep runs
in a network namespace of its own with only loopback (`unshare -n`), because a Ray started
here otherwise talks to itself over the machine's outward-facing address. Each configuration runs `--repeats` times, alternating (the order
reversed on every other repeat), and the table shows the median wall time next to the machine's
CPU seconds over the sweep (all processes, from /proc/stat: Ray's raylet and workers are not
children this script could account for), with the CPU's SIMD flags. The markdown goes into RESULTS.md between two marker lines
(replaced on a rerun, appended the first time). Timings on a shared machine are noise: the
file records the load averages before (once settled) and after, and flags a load before above
half the core count.

    python benchmarks/bench_ray.py --repeats 3      # SmolLM2: 3 x 3 sweeps of 4 cells
    python benchmarks/bench_ray.py --quick --output /tmp/ray.md   # tiny random Llama: checks the harness
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from machine_facts import machine_cpu_seconds  # benchmarks/, the script's folder

from simbench.runner.provenance import cpu_flags

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BEGIN, END = "<!-- bench_ray: begin -->", "<!-- bench_ray: end -->"
SWEEP = {"personas": ["concise"], "learners": ["sdpo-token", "frozen"], "seeds": ["0", "1"]}
SETTINGS = {"interactions": 8, "batch_size": 4, "probe_every": 8, "probe_prompts": 4, "general_questions": 2,
            "max_new_tokens": 48}
QUICK = {"interactions": 8, "batch_size": 2, "probe_every": 4, "probe_prompts": 2, "general_questions": 1,
         "max_new_tokens": 8}


SETTLE_S = 180.0


def settled_load(limit_s: float = SETTLE_S, quiet: float = 0.5) -> tuple[float, float, float]:
    """The load average once its 1-minute value is below `quiet` (or after `limit_s`): it still
    carries whatever ran in the last minutes, which is not contention during the sweeps."""
    deadline = time.monotonic() + limit_s
    while os.getloadavg()[0] > quiet and time.monotonic() < deadline:
        time.sleep(5)
    return os.getloadavg()


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny random Llama, tiny episodes (harness check)")
    parser.add_argument("--model", default="smollm2-135m", help="policy model (default smollm2-135m)")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each configuration (median reported)")
    parser.add_argument("--note", help="a sentence about the conditions of this run, printed with the table")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md", help="markdown file to update")
    return parser.parse_args(argv)


def configurations(cores: int) -> dict[str, list[str]]:
    return {
        "local": ["--executor", "local"],
        "ray-serial": ["--executor", "ray", "--cpus-per-run", str(cores)],
        "ray-1thread": ["--executor", "ray", "--cpus-per-run", "1"],
    }


def tiny_model(folder: Path) -> str:
    sys.path.insert(0, str(HERE))
    from bench_episode import tiny_loader

    model, tokenizer = tiny_loader("tiny", "cpu")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def loopback_only() -> list[str]:
    """A command prefix that runs the command in a fresh loopback-only network namespace, or
    nothing when this process may not create one."""
    prefix = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]
    if shutil.which("unshare") and shutil.which("ip") and os.geteuid() == 0:
        if subprocess.run([*prefix, "true"], capture_output=True).returncode == 0:
            return prefix
    return []


def sweep(args: list[str], out: Path, config: Path, env: dict[str, str]) -> dict[str, Any]:
    """One `simbench sweep` in a subprocess: wall seconds, and the cells' own seconds from sweep.json."""
    command = [*loopback_only(), sys.executable, "-m", "simbench", "sweep", "--personas", *SWEEP["personas"],
               "--learners", *SWEEP["learners"], "--seeds", *SWEEP["seeds"], "--config", str(config),
               "--out", str(out), "--quiet", *args]
    cpu, started = machine_cpu_seconds(), time.perf_counter()
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - started, machine_cpu_seconds() - cpu
    if result.returncode != 0:
        raise SystemExit(f"error: {' '.join(command)} exited {result.returncode}: {result.stderr.strip()[-2000:]}")
    runs = json.loads((out / "sweep.json").read_text())["runs"]
    positions = [json.loads((out / name / "manifest.json").read_text())["position"] for name in runs]
    return {"wall": wall, "cpu": cpu, "cell_seconds": sum(r["seconds"] for r in runs.values()), "cells": len(runs),
            "interactions": sum(positions)}


def markdown(results: dict[str, list[dict[str, Any]]], meta: dict[str, Any]) -> str:
    cores = meta["cores"]
    median = {name: statistics.median(r["wall"] for r in runs) for name, runs in results.items()}
    interactions = results["local"][0]["interactions"]
    rows = []
    for name, runs in results.items():
        cell = statistics.median(r["cell_seconds"] / r["cells"] for r in runs)
        cpu = statistics.median(r["cpu"] for r in runs)
        spread = f"{min(r['wall'] for r in runs):.1f}-{max(r['wall'] for r in runs):.1f}"
        rows.append(f"| `{name}` | {' '.join(configurations(cores)[name])} | {median[name]:.1f} | {spread} | "
                    f"{cpu:.0f} | {cell:.1f} | "
                    f"{interactions / median[name]:.3f} | {median[name] / median['local']:.2f} |")
    overhead = median["ray-serial"] - median["local"]
    gain = median["ray-serial"] / median["ray-1thread"]
    # The load after is the sweep's own (it keeps every core busy); only the load before,
    # taken once the tail of earlier work has settled, says whether others shared the CPU.
    contended = meta["load_before"][0] > cores / 2
    lines = [
        BEGIN,
        "## Ray executor: overhead and throughput per core (`benchmarks/bench_ray.py`)",
        "",
        f"`{meta['command']}` on {meta['date']}: {cores} cores (flags: {meta['flags']}), model `{meta['model']}`, "
        f"sweep {' x '.join(str(len(v)) for v in SWEEP.values())} = {results['local'][0]['cells']} cells of "
        f"{interactions // results['local'][0]['cells']} interactions ({json.dumps(meta['settings'])}), "
        f"median of {meta['repeats']} run(s) each, alternating, order reversed every other repeat. Load average before "
        f"(after waiting up to {SETTLE_S:.0f} s for it to settle) / after (the sweeps' own load): "
        f"{' / '.join(f'{v:.2f}' for v in meta['load_before'])} ; {' / '.join(f'{v:.2f}' for v in meta['load_after'])}"
        + (" — **contended: other jobs shared the CPU, read the timings as noise**." if contended else "."),
    ]
    if meta.get("note"):
        lines += ["", f"Note: {meta['note']}"]
    lines += [
        "",
        "| configuration | flags | sweep wall s (median) | min-max | machine CPU s | s per cell (inside the worker) "
        "| interactions/s | vs local |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"- Ray's overhead on this sweep (ray-serial − local, same threads, one run at a time): "
        f"{overhead:+.1f} s ({overhead / results['local'][0]['cells']:+.1f} s per cell).",
        f"- {cores} concurrent single-thread runs vs one {cores}-thread run at a time: "
        f"{gain:.2f}x the throughput.",
        END,
    ]
    return "\n".join(lines) + "\n"


def write_section(path: Path, section: str) -> None:
    text = path.read_text() if path.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section.rstrip("\n") + rest.split(END, 1)[1]
    else:
        text = text + ("\n" if text and not text.endswith("\n") else "") + ("\n" if text else "") + section
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    scratch = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    try:
        settings = dict(QUICK if args.quick else SETTINGS)
        settings["model"] = tiny_model(scratch / "tiny") if args.quick else args.model
        config = scratch / "config.json"
        config.write_text(json.dumps(settings))
        # Token auth off: each sweep's Ray is private to its namespace, and left unset Ray would
        # write ~/.ray/auth_token, which changes how later `ray start` clusters behave.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
               "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
        env.pop("OMP_NUM_THREADS", None)  # each configuration sets its own threads
        meta = {"command": " ".join(["python benchmarks/bench_ray.py", *(argv if argv is not None else sys.argv[1:])]),
                "date": time.strftime("%Y-%m-%d %H:%M %Z"), "cores": cores, "model": settings["model"] if not args.quick
                else "tiny random Llama", "settings": {k: v for k, v in settings.items() if k != "model"},
                "repeats": args.repeats, "note": args.note, "load_before": settled_load(), "flags": cpu_flags()}
        results: dict[str, list[dict[str, Any]]] = {name: [] for name in configurations(cores)}
        for repeat in range(args.repeats):
            order = list(configurations(cores).items())
            for name, flags in (order if repeat % 2 == 0 else order[::-1]):
                print(f"[{repeat + 1}/{args.repeats}] {name} ...", file=sys.stderr, flush=True)
                results[name].append(sweep(flags, scratch / f"{name}-{repeat}", config, env))
                print(f"    {results[name][-1]['wall']:.1f} s", file=sys.stderr, flush=True)
        meta["load_after"] = os.getloadavg()
        section = markdown(results, meta)
        write_section(args.output, section)
        print(section)
        return 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
