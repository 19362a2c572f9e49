"""`simbench power RESULTS_DIR`: what a results folder's specificity cells can detect, and how
many users a target minimum detectable difference needs, from the folder's own variance
components (metrics/power.py).

The folder is read as the leaderboard reads it (reporting/leaderboard.py `collect`), and each
feedback-driven learner's runs are paired with their unrelated-feedback twin's by seed and
probe prompt exactly as the leaderboard's `specificity` column pairs them (reporting/pairs.py),
so the achieved MDD printed here is that column's MDD.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

from simbench.errors import InputError
from simbench.metrics.power import UsersNeeded, VarianceComponents, design_mdd, users_needed, variance_components
from simbench.reporting.leaderboard import collect
from simbench.reporting.pairs import control_of, prompt_scores, specificity


@dataclass(frozen=True)
class PowerCell:
    """One specificity cell (learner vs its unrelated-feedback twin, one scenario type):
    its variance components, the MDD it achieves (the leaderboard's: t over users, this
    prompt set), the MDD of the same users and probes counting prompt sampling (shared set,
    `shared_set_mdd`), and the users a target MDD needs per probe count."""

    learner: str
    control: str
    model: str
    scenario: str
    runs: int
    components: VarianceComponents
    achieved_mdd: float
    shared_set_mdd: float | None
    target: float
    needs: list[UsersNeeded]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def power_cells(results_dir: str | Path, target: float = 0.10,
                probes: Sequence[int] = ()) -> list[PowerCell]:
    """Every specificity cell of `results_dir` with what it detects and what `target` needs at
    each of `probes` prompts per user (default: the folder's own probes per user)."""
    if not target > 0:
        raise InputError("--target-mdd", f"{target} is not > 0", "pass a difference such as 0.10")
    bad = [p for p in probes if p < 1]
    if bad:
        raise InputError("--probes", f"{bad[0]} is not >= 1", "pass probe prompts per user, e.g. --probes 24")
    results_dir = Path(results_dir)
    entries, _ = collect(results_dir)
    by_path = {entry.path: entry for entry in entries}
    candidates = [(entry.path, entry.manifest) for entry in entries]
    groups: dict[tuple[str, str, str], list[tuple[int, str, Any, Any, str]]] = defaultdict(list)
    for entry in entries:
        control = control_of(entry.manifest, candidates)
        if control in by_path:
            seed, persona = int(entry.manifest["seed"]), str((entry.manifest.get("persona") or {}).get("id"))
            key = (*entry.row, entry.summary.scenario)
            groups[key].append((seed, persona, entry.logs, by_path[control].logs,
                                str(by_path[control].manifest["learner"])))
    if not groups:
        raise InputError("RESULTS_DIR", f"no specificity pairs in {results_dir}: no feedback-driven learner's "
                         "run has its unrelated-feedback twin there",
                         "sweep `--learners LEARNER,LEARNER+unrelated` over the same seeds")
    cells = []
    for (learner, model, scenario), pairs in sorted(groups.items()):
        cell = _cell(learner, model, scenario, pairs, target, probes)
        if cell is not None:
            cells.append(cell)
    if not cells:
        raise InputError("RESULTS_DIR", f"the specificity pairs in {results_dir} come from one simulated user "
                         "(seed) per cell: variance components need two or more", "sweep more seeds")
    return cells


def _cell(learner: str, model: str, scenario: str, pairs: Sequence[tuple[int, str, Any, Any, str]],
          target: float, probes: Sequence[int]) -> PowerCell | None:
    by_seed: dict[int, dict[str, float]] = defaultdict(dict)
    for seed, persona, mine, theirs, _ in pairs:
        a, b = prompt_scores(mine), prompt_scores(theirs)
        # A user's personas are probed on the same prompt ids: persona keeps them apart.
        by_seed[seed].update({f"{persona}/{p}": a[p] - b[p] for p in sorted(set(a) & set(b))})
    achieved = specificity([(seed, persona, mine, theirs) for seed, persona, mine, theirs, _ in pairs])
    try:
        components = variance_components([by_seed[s] for s in sorted(by_seed)])
    except ValueError:
        return None
    if achieved is None:
        return None
    counts = list(dict.fromkeys(probes)) or [components.probes]
    return PowerCell(
        learner=learner, control=", ".join(sorted({p[4] for p in pairs})), model=model, scenario=scenario,
        runs=len(pairs), components=components, achieved_mdd=float(achieved["mdd"]),
        shared_set_mdd=design_mdd(components, components.users, components.probes, shared=True),
        target=target, needs=[users_needed(components, target, n) for n in counts],
    )
