"""What a report says about a flip: the new wish's curve and change from τ, the old wish's
curve beside the matching no-flip run, and one verdict (metrics/flip_verdict.py), for the
run report's section and the leaderboard's verdict lines.

Below reporting/pairs.py (which calls it), so it imports no report module but format.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from simbench.metrics.curves import adherence_curves, phase_windows
from simbench.metrics.flip import first_flip, flip_against_no_flip, identical_before
from simbench.metrics.flip_verdict import flip_verdict, signed, verdict_words
from simbench.metrics.run_summary import UnlearningRow
from simbench.metrics.unlearning import MIN_TO_UNLEARN
from simbench.reporting.format import Section, fmt
from simbench.reporting.leaderboard_schema import Leaderboard, PairedCell


def flip_end(logs: Any, tau: int) -> int | None:
    """The end of the phase that starts at τ (its probes measure the flip)."""
    for window in phase_windows(logs.schedule, logs.episode_length):
        if window.start == tau:
            return window.end
    return None


def unlearning_applicable(rows: Sequence[UnlearningRow]) -> bool:
    """Whether the old wish had something to unlearn, decided once on the full sample: the mean
    over `rows` (summary unlearning rows of the flipped wish, one per run) of s(τ) - b is at
    least MIN_TO_UNLEARN. Rows without s(τ) or b do not count; none left: not applicable."""
    gaps = [r.s_at_change - r.b for r in rows  # a summary holds NaN as None
            if r.kind == "flip" and r.s_at_change is not None and r.b is not None]
    return bool(gaps) and sum(gaps) / len(gaps) >= MIN_TO_UNLEARN


def with_verdict(out: dict[str, Any], applicable: bool) -> dict[str, Any]:
    """`out` (new_change, old_change, paired, old, new) plus the verdict and its sentence."""
    out["unlearning_applicable"] = applicable
    out["verdict"] = flip_verdict(out["new_change"], out["old_change"], out["paired"], applicable)
    out["verdict_words"] = verdict_words(out["verdict"], out["old"], out["new"], out["new_change"],
                                         out["old_change"], out["paired"], applicable)
    return out


def flip_comparison(logs: Any, no_flip: Any, unlearning: Sequence[UnlearningRow] = ()) -> dict[str, Any] | None:
    """A flip run's curves from τ, its no-flip match's (None: not in the folder) and the verdict;
    `unlearning` is the run summary's unlearning rows (for applicability). None: no flip."""
    flip = first_flip(phase_windows(logs.schedule, logs.episode_length), logs.opposites)
    if flip is None:
        return None
    tau, old, new = flip
    theirs = adherence_curves(no_flip.probes) if no_flip is not None else {}
    out = flip_against_no_flip(adherence_curves(logs.probes), theirs, tau, old, new, end=flip_end(logs, tau))
    out["identical_before_flip"] = identical_before(logs.probes, no_flip.probes, tau) if no_flip is not None else None
    return with_verdict(out, unlearning_applicable([u for u in unlearning if u.preference == old]))


def flip_section(flip: Mapping[str, Any], no_flip: str | None) -> Section:
    """The run report's flip table: new and old wish from the τ probe on, the no-flip run's
    beside them, then the changes from τ, the content test and the verdict."""
    old, new = flip["old"], flip["new"]
    rows = [[str(r["t"]), fmt(r["flip_new"]), fmt(r["flip_old"]), fmt(r["no_flip_old"]), fmt(r["no_flip_new"])]
            for r in flip["rows"]]
    notes = [f"the first row is the probe at τ (the last one at or before t = {flip['tau']}, answered "
             "under the old wish); changes from τ are paired by probe prompt"]
    notes.append(f"'{new}' (the new wish) from τ to the end: {signed(flip['new_change'])}")
    notes.append(f"'{old}' (the old wish) from τ to the end: {signed(flip['old_change'])}")
    if no_flip is None:
        notes.append("no matching no-flip run in this folder (same learner, seed and settings, no change "
                     "at τ): the old wish cannot be compared with a run never told otherwise")
    else:
        same = "yes" if flip["identical_before_flip"] else "NO (probe answers differ)"
        notes.append(f"no-flip run: {no_flip}; the runs are identical up to τ = {flip['tau']}: {same}")
        notes.append(f"'{old}' after τ, flip minus no-flip: {signed(flip['paired'])}"
                     + (f", n = {flip['paired']['n']}, MDD {fmt(flip['paired']['mdd'])}" if flip["paired"] else
                        " (the two runs share no probe time after τ)")
                     + ": below 0 means less of the old wish than without the flip, not that it fell")
    if not flip["unlearning_applicable"]:
        notes.append(f"the unlearning row is not applicable ('{old}' was less than {MIN_TO_UNLEARN} above "
                     "the base at τ): nothing to move away from")
    notes.append(flip["verdict_words"])
    return Section(f"Flip: '{old}' → '{new}' at τ = {flip['tau']}",
                   ["t", f"{new} (new wish, flip run)", f"{old} (old wish, flip run)",
                    f"{old} (no-flip run)", f"{new} (no-flip run)"], rows, notes)


def flip_verdict_lines(board: Leaderboard) -> list[str]:
    """One line per leaderboard row with a flip verdict: learner, model and the verdict."""
    out = []
    for row in board.rows:
        for scenario, cells in row.cells.items():
            cell = cells.get("flip_vs_no_flip")
            if isinstance(cell, PairedCell) and cell.verdict_words:
                out.append(f"{row.learner} ({row.model}), {scenario}: {cell.verdict_words}")
    return out
