"""`simbench signal`: per-token hindsight advantages of a model on signal cases, relevant vs
unrelated follow-ups, and the shift of the stop-or-continue decision; JSON, HTML and PNGs.

Thin layer over `sdpo.signal` / `sdpo.signal_report`; bad input exits 2 with one line.
"""

from __future__ import annotations

import platform
import sys
import time
from typing import Optional

import typer

from simbench.errors import InputError
from simbench.run_defaults import default_of

BUILTIN_CASES = "builtin:signal_cases"


def cases_ref(value: str) -> str:
    """`--cases builtin` (or `builtin:signal_cases`) means the shipped cases; else a file path."""
    return BUILTIN_CASES if value.strip() == "builtin" else value


def signal_command(
    cases: str = typer.Option("builtin", help="Signal cases JSONL file, or 'builtin' for the shipped cases."),
    model: str = typer.Option(default_of("model"), help="Policy model: short name, local folder or cached HF id."),
    out: str = typer.Option(..., help="Folder for signal.json, summary.json, signal.html and PNG heatmaps."),
    limit: Optional[int] = typer.Option(None, min=1, help="Only the first N cases."),
    device: str = typer.Option(default_of("device"), help="Torch device."),
) -> None:
    """Score each case's response under no follow-up, an unrelated one and a relevant one."""
    from simbench.prompts import load_signal_cases
    from simbench.runner.parts import load_model
    from simbench.runner.preflight import check_device, check_model_available, check_out_dir, out_path

    selected = load_signal_cases(cases_ref(cases))
    if limit is not None:
        selected = selected[:limit]
    folder = out_path(out)
    check_out_dir(folder)
    check_device(device)
    check_model_available(model)
    started = time.perf_counter()
    policy, tokenizer = load_model(model, device)
    loaded = time.perf_counter()

    from sdpo import __version__ as sdpo_version
    from sdpo.hindsight import DEFAULT_HINDSIGHT_TEMPLATE
    from sdpo.signal import analyse_cases, preference_line, summarise, summary_line
    from sdpo.signal_report import write_report

    def progress(index: int, result: object) -> None:
        print(f"[{index + 1}/{len(selected)}] {selected[index].id}", file=sys.stderr, flush=True)

    from sdpo.errors import SDPOError

    try:
        results = analyse_cases(policy, tokenizer, selected, DEFAULT_HINDSIGHT_TEMPLATE, on_case=progress)
    except SDPOError as exc:
        raise InputError(f"--model {model}: {exc.where}", exc.problem, exc.hint) from None
    summary = summarise(results)
    meta = {
        "model": model,
        "cases": cases_ref(cases),
        "case_count": len(results),
        "device": device,
        "hindsight_template": DEFAULT_HINDSIGHT_TEMPLATE,
        "sdpo_version": sdpo_version,
        "python": platform.python_version(),
        "load_seconds": round(loaded - started, 2),
        "analysis_seconds": round(time.perf_counter() - loaded, 2),
    }
    paths = write_report(folder, results, meta, summary)
    typer.echo(summary_line(summary))
    for name, part in summary.by_preference.items():
        typer.echo(preference_line(name, part))
    typer.echo(f"wrote {paths.html}, {paths.signals}, {paths.summary} and {len(paths.heatmaps) + 1} PNGs")


def register(app: typer.Typer) -> None:
    app.command("signal")(signal_command)
