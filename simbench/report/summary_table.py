"""The end-of-run table: adherence per preference at the start, each phase end, and the end."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def adherence_columns(run_dir: Path) -> tuple[list[str], dict[str, list[float]]]:
    """Column labels and, per preference, adherence at the start, at each phase's last probe
    and at the end.

    Each column is labelled by the probe time whose values it shows ("phase 1's last probe,
    t=8"), which is not the phase's end when no probe falls on it; a phase with no probe
    after it starts gets "phase 2: no probe" and dashes. Phases are numbered from 1.
    """
    from simbench.metrics import load_run_logs
    from simbench.metrics.curves import adherence_curves, phase_windows

    logs = load_run_logs(run_dir)
    curves = adherence_curves(logs.probes)
    windows = phase_windows(logs.schedule, logs.episode_length)
    times = sorted({int(t) for c in curves.values() for t in c.t})
    points: list[tuple[str, int | None]] = [("start (t=0)", 0)] if 0 in times else []
    for w in windows[:-1]:
        inside = [t for t in times if w.start < t <= w.end]
        if inside:
            points.append((f"phase {w.index + 1} last probe (t={inside[-1]})", inside[-1]))
        else:
            points.append((f"phase {w.index + 1}: no probe", None))
    if times:
        points.append((f"end (t={times[-1]})", times[-1]))
    labels = [label for label, _ in points]
    values = {pid: [curve.at_or_before(t) if t is not None else float("nan") for _, t in points]
              for pid, curve in curves.items()}
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
