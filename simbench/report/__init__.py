"""Reports built from run folders alone: terminal tables, markdown and self-contained HTML.

`simbench.report` names both this package and the API call that writes a run's report, and
importing any report module makes the package the attribute `simbench.report`; so the
package itself is callable: `simbench.report(run_dir, out=None, bootstrap=1000)` writes
report.md and report.html and returns their paths, whichever of the two the name resolves to.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

from simbench.report.pages import write_run_report


class _CallablePackage(types.ModuleType):
    def __call__(self, run_dir: str | Path, out: str | Path | None = None,
                 bootstrap: int = 1000) -> tuple[Path, Path]:
        return write_run_report(Path(run_dir), Path(out) if out is not None else None, bootstrap=bootstrap)


sys.modules[__name__].__class__ = _CallablePackage
