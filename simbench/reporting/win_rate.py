"""The paper's headline metric: how often a judge prefers a learner's answers to the frozen
model's, for the persona's wishes.

At the last probe time both runs share, each probe prompt's answer of the learner is
compared with the frozen arm's answer to the same prompt (same seed and settings), on the
criterion "the user wants: <descriptions of the preferences active then>". The judge is
asked in both orders (simbench/judge.py): agreement names a winner, disagreement is a tie.
A pair scores 1 (learner wins), 0.5 (tie) or 0; the win rate is their mean, with a t-interval
over users (seeds), or over prompts with one user (metrics/paired.py). Verdicts come from the judge's
reply cache when it has them, so a second leaderboard over the same runs asks nothing.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Sequence

from simbench.judge import JudgeResult, position_bias
from simbench.metrics.paired import RATE, paired_interval
from simbench.persona.library import BUILTIN

SCORE = {"current": 1.0, "tie": 0.5, "base": 0.0}
DESCRIPTION = ("win rate of the learner's probe answers against the frozen model's answers to the same "
               "prompts at the last probe, judged pairwise by the LLM judge on the persona's active wishes "
               "(both orders asked, disagreement = tie counted half; 0.5 = no better than frozen)")


def criterion(preference_ids: Sequence[str]) -> str:
    """What the judge compares on: the active wishes, as the users' descriptions say them."""
    wishes = [BUILTIN[pid].description if pid in BUILTIN else pid for pid in preference_ids]
    return "The user wants: " + " ".join(w.rstrip(".") + "." for w in wishes)


def active_at(schedule: Sequence[Any], t: int) -> list[str]:
    """Preferences of the phase in force for the interactions just before probe time `t`."""
    phases = sorted(schedule, key=lambda p: p.at)
    current = phases[0]
    for phase in phases:
        if phase.at <= max(t - 1, 0):
            current = phase
    return list(current.preferences)


def judge_items(logs: Any, frozen: Any) -> list[tuple[str, str, str, str]]:
    """(prompt, learner answer, frozen answer, criterion) per probe prompt at the last common time."""
    mine = {(r.t, r.probe_id): r for r in logs.probes}
    base = {(r.t, r.probe_id): r for r in frozen.probes}
    common = sorted({t for t, _ in mine} & {t for t, _ in base})
    if not common:
        return []
    t = common[-1]
    wish = criterion(active_at(logs.schedule, t))
    return [(mine[key].prompt, mine[key].response, base[key].response, wish)
            for key in sorted(k for k in mine if k[0] == t and k in base)]


def win_rate_cell(pairs: Sequence[tuple[int, Any, Any]], judge: Any) -> dict[str, Any] | None:
    """Win rate over (seed, learner logs, frozen logs) run pairs, with its paired interval,
    the share of ties and the judge's position-bias rate; None without pairs."""
    by_seed: dict[int, list[float]] = defaultdict(list)
    results: list[JudgeResult] = []
    for run_seed, logs, frozen in pairs:
        verdicts = judge.compare_many(judge_items(logs, frozen))
        results += verdicts
        by_seed[run_seed] += [SCORE[v.winner] for v in verdicts]
    paired = paired_interval([by_seed[s] for s in sorted(by_seed)], bounds=RATE)  # a win rate, not a difference
    if paired is None:
        return None
    return {"mean": paired.mean, "lo": paired.lo, "hi": paired.hi, "pairs": paired.n,
            "n_seeds": paired.n_seeds, "n_runs": len(pairs),
            "ties": sum(r.winner == "tie" for r in results) / len(results),
            "position_bias": position_bias(results),
            "method": paired.method}
