"""Writing a run's report pages: report.md and the self-contained report.html.

Its own module because it sits above both renderers (markdown.py, html.py), which sit above
the report's content (run_report.py): each imports only downward, so there is no cycle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simbench.logs.io import write_atomic
from simbench.reporting.html import run_report_html
from simbench.reporting.markdown import run_report_markdown
from simbench.reporting.run_report import build_run_report


def write_run_report(
    run_dir: str | Path, out: str | Path | None = None, bootstrap: int = 1000, judge: Any = None
) -> tuple[Path, Path]:
    """Write report.md and report.html into `out` (default: the run folder); return both paths."""
    report = build_run_report(run_dir, bootstrap=bootstrap, judge=judge)
    folder = Path(out) if out is not None else report.run_dir
    folder.mkdir(parents=True, exist_ok=True)
    md_path, html_path = folder / "report.md", folder / "report.html"
    # Atomic writes: a symbolic link planted at either name is replaced, never written through.
    write_atomic(md_path, run_report_markdown(report))
    write_atomic(html_path, run_report_html(report))
    return md_path, html_path
