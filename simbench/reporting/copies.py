"""Two folders of the same run in one results folder (a copy, a rerun into a new folder):
the leaderboard counts each run once, keeping a readable copy, and lists the others.

A run counted twice would weigh double in every mean and interval, and a broken copy chosen
as a baseline would drop the good runs that compare against it with the broken one's reason.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Sequence

from simbench.errors import InputError
from simbench.reporting.peers import comparable_key

# Config fields two copies of one run may differ in without being different runs.
_NOT_THE_RUN = ("persona", "device", "checkpoint_every")


def cell_of(manifest: dict[str, Any]) -> tuple:
    """What makes two run folders the same run: learner, persona (content), seed, model, length,
    probe prompts and every other setting."""
    config = {k: v for k, v in (manifest.get("config") or {}).items() if k not in _NOT_THE_RUN}
    return manifest.get("learner"), comparable_key(manifest), json.dumps(config, sort_keys=True, default=str)


def keep_one_copy(runs: Sequence[tuple[Path, dict[str, Any]]], read: Callable[[Path], Any]
                  ) -> tuple[list[tuple[Path, dict[str, Any]]], list[dict[str, str]]]:
    """`runs` with one folder per run (`cell_of`), and the copies left out with why.

    Of the copies of one run, the first by folder name that `read` accepts (no InputError) is
    kept; the others are listed as "duplicate of <kept>" (with their own problem, if any).
    When no copy reads, all are kept and fail with their own reasons.
    """
    groups: dict[tuple, list[tuple[Path, dict[str, Any]]]] = defaultdict(list)
    for path, manifest in sorted(runs, key=lambda run: run[0].name):
        groups[cell_of(manifest)].append((path, manifest))
    kept, left_out = [], []
    for copies in groups.values():
        if len(copies) == 1:
            kept.extend(copies)
            continue
        problems: dict[Path, str] = {}
        for path, _ in copies:  # every copy is read, so a broken one is listed as broken too
            try:
                read(path)
            except InputError as exc:
                problems[path] = str(exc)
        readable = [copy for copy in copies if copy[0] not in problems]
        if not readable:
            kept.extend(copies)
            continue
        winner = readable[0]
        kept.append(winner)
        for path, _ in copies:
            if path != winner[0]:
                reason = f"duplicate of {winner[0].name}"
                if path in problems:
                    reason += f" (this copy is unreadable: {problems[path]})"
                left_out.append({"run": path.name, "reason": reason})
    return sorted(kept, key=lambda run: run[0].name), left_out
