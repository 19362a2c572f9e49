"""The end-of-run table: adherence per preference at the start, each phase end, and the end."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def adherence_columns(run_dir: Path) -> tuple[list[str], dict[str, list[float]]]:
    """Column labels and, per preference, adherence at t=0, at each phase end and at the end."""
    from simbench.metrics import load_run_logs
    from simbench.metrics.curves import adherence_curves, phase_windows

    logs = load_run_logs(run_dir)
    curves = adherence_curves(logs.probes)
    windows = phase_windows(logs.schedule, logs.episode_length)
    points = [("start", 0)] + [
        (f"end of phase {w.index + 1} (t={w.end})", w.end) for w in windows[:-1]
    ]
    last_t = int(max((int(c.t[-1]) for c in curves.values() if c.t.size), default=0))
    points.append((f"end (t={last_t})", last_t))
    labels = [label for label, _ in points]
    values = {pid: [curve.at_or_before(t) for _, t in points] for pid, curve in curves.items()}
    return labels, values


def adherence_table(run_dir: Path) -> Any:
    """A rich Table of `adherence_columns` (or a note when the run has no probes yet)."""
    from rich.table import Table

    table = Table(title=f"adherence per preference: {run_dir}")
    try:
        labels, values = adherence_columns(run_dir)
    except Exception as exc:  # the table is a courtesy: a partial run must still exit cleanly
        table.add_column("note")
        table.add_row(f"no adherence table: {exc}")
        return table
    table.add_column("preference")
    for label in labels:
        table.add_column(label, justify="right")
    for pid, row in values.items():
        table.add_row(pid, *("-" if v != v else f"{v:.2f}" for v in row))
    return table
