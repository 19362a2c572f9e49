"""`simbench signal`: per-token hindsight advantages of a model on signal cases, relevant vs
unrelated follow-ups, and the shift of the stop-or-continue decision; JSON, HTML and PNGs.

Thin layer over `simbench.signal` (simbench/signal_analysis.py); bad input exits 2 with one line.
"""

from __future__ import annotations

import sys
from typing import Any, Optional

import typer

from simbench.run_defaults import default_of


def signal_command(
    cases: str = typer.Option("builtin", help="Signal cases JSONL file, or 'builtin' for the shipped cases."),
    model: str = typer.Option(default_of("model"), help="Policy model: short name, local folder or cached HF id."),
    out: str = typer.Option(..., help="Folder for signal.json, summary.json, signal.html and PNG heatmaps."),
    limit: Optional[int] = typer.Option(None, min=1, help="Only the first N cases."),
    device: str = typer.Option(default_of("device"), help="Torch device."),
) -> None:
    """Score each case's response under no follow-up, an unrelated one and a relevant one."""
    from sdpo.signal import preference_line, summary_line
    from simbench import api

    def progress(index: int, total: int, case: Any) -> None:
        print(f"[{index + 1}/{total}] {case.id}", file=sys.stderr, flush=True)

    done = api.signal(cases, model=model, out=out, limit=limit, device=device, on_case=progress)
    typer.echo(summary_line(done.summary))
    for name, part in done.summary.by_preference.items():
        typer.echo(preference_line(name, part))
    paths = done.paths
    typer.echo(f"wrote {paths.html}, {paths.signals}, {paths.summary} and {len(paths.heatmaps) + 1} PNGs")


def register(app: typer.Typer) -> None:
    app.command("signal")(signal_command)
