"""The end-of-run table's data: adherence per preference at the start, each phase end, and the
end (the CLI's display draws it)."""

from __future__ import annotations

from pathlib import Path

from simbench.metrics import load_run_logs
from simbench.metrics.curves import adherence_curves, phase_windows


def adherence_columns(run_dir: Path) -> tuple[list[str], dict[str, list[float]]]:
    """Column labels and, per preference, adherence at the start, at each phase's last probe
    and at the end.

    Each column is labelled by the probe time whose values it shows ("phase 1's last probe,
    t=8"), which is not the phase's end when no probe falls on it; a phase with no probe
    after it starts gets "phase 2: no probe" and dashes. Phases are numbered from 1.
    """
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

