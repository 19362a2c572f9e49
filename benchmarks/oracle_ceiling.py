"""Which in-context oracle is a real ceiling? Held-out adherence of the frozen model and each
in-context oracle variant, per preference, from one model load (issue 12, item 4).

The oracles never update, so their adherence is one greedy probe pass with the preference
active (exactly what a run's probes would score). Not a test: a measurement.

    python benchmarks/oracle_ceiling.py --model smollm2-135m \
        --preferences concise no-exclamation no-lists --probes 16 --max-new-tokens 64 --seed 0
"""

from __future__ import annotations

import argparse
import json
import sys
import time

ARMS = ("frozen", "in-context-oracle", "in-context-oracle-user", "in-context-oracle-fewshot",
        "in-context-oracle-fewshot:statement=system")


def arm_options(arm: str) -> tuple[str, dict[str, str]]:
    """"name:key=value,key=value" -> (name, learner options)."""
    name, _, options = arm.partition(":")
    return name, dict(pair.split("=", 1) for pair in options.split(",") if pair)


def measure(model_name: str, preferences: list[str], probes: int, max_new_tokens: int, seed: int,
            arms: list[str], device: str = "cpu") -> dict[str, dict[str, float]]:
    """{arm: {preference: share of probe answers passing}}."""
    from simbench.learners import LEARNERS
    from simbench.learners.base import LearnerContext
    from simbench.persona.library import get_preference
    from simbench.prompts import load_prompts
    from simbench.runner.episode import EpisodeSpec, probe
    from simbench.runner.parts import load_model
    from simbench.teaching.measure import make_backend, single_phase_parts

    model, tokenizer = load_model(model_name, device)
    backend = make_backend(model, tokenizer, max_new_tokens)
    by_id = {pid: get_preference(pid) for pid in preferences}
    pool = load_prompts("builtin:probe")[:probes]
    spec = EpisodeSpec(interactions=1, batch_size=1, probe_every=1, seed=seed)
    table: dict[str, dict[str, float]] = {}
    for arm in arms:
        name, options = arm_options(arm)
        learner = LEARNERS.get(name).from_config(
            LearnerContext(model=model, tokenizer=tokenizer, seed=seed, options=options))
        table[arm] = {}
        for pid in preferences:
            parts = single_phase_parts(by_id, (pid,), [], pool, backend, learner)
            records = probe(parts, spec, 0).records
            table[arm][pid] = sum(r.checks[pid].passed for r in records) / len(records)
            print(f"{arm} {pid}: {table[arm][pid]:.2f}", file=sys.stderr, flush=True)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--preferences", nargs="+", default=["concise", "no-exclamation", "no-lists"])
    parser.add_argument("--probes", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--arms", nargs="+", default=list(ARMS), help="Learners, NAME or NAME:key=value,...")
    parser.add_argument("--json", help="Also write the table as JSON to this file.")
    args = parser.parse_args()
    started = time.perf_counter()
    table = measure(args.model, args.preferences, args.probes, args.max_new_tokens, args.seed, args.arms)
    print("| arm | " + " | ".join(f"`{p}`" for p in args.preferences) + " |")
    print("|---|" + "---|" * len(args.preferences))
    for arm, row in table.items():
        print(f"| `{arm}` | " + " | ".join(f"{row[p]:.2f}" for p in args.preferences) + " |")
    print(f"\n{args.probes} probes, {args.max_new_tokens} new tokens, seed {args.seed}, "
          f"{time.perf_counter() - started:.0f} s")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"args": vars(args), "adherence": table}, handle, indent=2)


if __name__ == "__main__":
    main()
