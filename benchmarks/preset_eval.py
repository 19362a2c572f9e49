"""Measure one model for the feedback-reading preset's table (simbench/preset/evaluate.py).

    python benchmarks/preset_eval.py --model smollm2-135m-fr --phase in-context --out results/preset-fr/fr-in-context.json
    python benchmarks/preset_eval.py --model smollm2-135m-fr --phase sdpo --preferences concise,formal \
        --seeds 0,1,2 --out results/preset-fr/fr-sdpo.json

Run the base model's twin with the same flags; benchmarks/preset_table.py pairs them. Two
models can be measured side by side with --threads 1 each (2 x 1-thread processes give more
throughput than one 2-thread process on this 2-core machine; benchmarks/RESULTS.md). The
output is written atomically when the phase is done.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--adapter", help="a recipe's adapter folder: measure --model with it merged in")
    parser.add_argument("--phase", choices=("in-context", "sdpo"), required=True)
    parser.add_argument("--preferences", default="", help="comma-separated (default: trained + held out)")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--probes", type=int, default=48)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--micro-steps", type=int, default=4)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)

    import torch

    from simbench.preset.evaluate import in_context, sdpo_micro
    from simbench.preset.rewrites import HELD_OUT, TRAINED
    from simbench.runner.parts import load_model
    from simbench.runner.provenance import cpu_flags

    if args.threads:
        torch.set_num_threads(args.threads)
    preferences = [p for p in args.preferences.split(",") if p] or [*TRAINED, *HELD_OUT]
    started, cpu_started = time.perf_counter(), time.process_time()

    def tick(info: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f} s] {args.model}: {info}", flush=True)

    model_name = args.model
    if args.adapter:  # merged once into a scratch folder, loaded like any local model
        import tempfile

        from sdpo.models import resolve_model_folder
        from sdpo.presets import merge_adapter

        model_name = tempfile.mkdtemp(prefix="preset-eval-")
        merge_adapter(Path(resolve_model_folder(args.model)), Path(args.adapter), Path(model_name))
    load = lambda: load_model(model_name, "cpu")  # noqa: E731
    if args.phase == "in-context":
        model, tokenizer = load()
        result = in_context(model, tokenizer, preferences, args.probes, args.max_new_tokens, tick)
    else:
        seeds = [int(s) for s in args.seeds.split(",")]
        result = {"micro": sdpo_micro(load, preferences, seeds, args.probes, args.max_new_tokens,
                                      args.micro_steps, args.lr, tick)}
    result["meta"] = {
        "command": " ".join(["python", *sys.argv]), "model": args.model, "adapter": args.adapter, "phase": args.phase,
        "preferences": preferences, "probes": args.probes, "max_new_tokens": args.max_new_tokens,
        "micro_steps": args.micro_steps, "lr": args.lr, "threads": torch.get_num_threads(),
        "seconds": round(time.perf_counter() - started, 1), "cpu_seconds": round(time.process_time() - cpu_started, 1),
        "cpu_flags": cpu_flags(), "torch": torch.__version__,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = out.with_suffix(".partial")
    scratch.write_text(json.dumps(result, indent=1) + "\n")
    os.replace(scratch, out)
    tick(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
