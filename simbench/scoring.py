"""Scoring an answer on a preference: its checker, or a judge's verdict on its rubric.

Every place that decides whether an answer satisfies a preference (probes, the users'
reactions, the in-context examples) asks a `Scorer`, so a rubric preference is scored the
same way everywhere: by the run's judge when it has one, and otherwise not at all. A
verdict of None means *not scored* (no judge, or a reply that said neither yes nor no); it
is logged as such and kept out of every adherence number, never counted as a pass or a fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from simbench.logs.schema import CheckOutcome
from simbench.persona.preference import Preference

NO_JUDGE = "not scored: judge-scored preference and the run has no --judge"
UNREADABLE = "not scored: the judge's reply was unparseable (no VERDICT: YES/NO line, no leading YES/NO)"


@dataclass(frozen=True)
class Scorer:
    """Checkers for verifiable preferences; `judge` (a simbench.judge.Judge) for rubrics."""

    judge: Any = None

    def outcomes(self, items: Sequence[tuple[Preference, str, str]]) -> list[CheckOutcome]:
        """The outcome of each (preference, prompt, answer), in order; rubric items go to the
        judge in one batch (its concurrency applies)."""
        out: list[CheckOutcome | None] = [None] * len(items)
        rubric: list[int] = []
        for i, (preference, _, answer) in enumerate(items):
            if preference.verifiable:
                result = preference.check(answer)
                out[i] = CheckOutcome(passed=result.passed, evidence=result.evidence)
            else:
                rubric.append(i)
        if rubric and self.judge is None:
            for i in rubric:
                out[i] = CheckOutcome(passed=None, evidence=NO_JUDGE, scorer="none")
        elif rubric:
            verdicts = self.judge.score_many([(items[i][1], items[i][2], items[i][0].rubric) for i in rubric])
            for i, verdict in zip(rubric, verdicts):
                evidence = "" if verdict.passed else UNREADABLE if verdict.passed is None else _cut(verdict.verdict)
                out[i] = CheckOutcome(passed=verdict.passed, evidence=evidence, scorer="judge")
        return [o for o in out if o is not None]

    def verdicts(self, prompt: str, answer: str, preferences: Sequence[Preference]) -> dict[str, bool | None]:
        """{id: passed} of one answer on each preference (None: not scored)."""
        outcomes = self.outcomes([(p, prompt, answer) for p in preferences])
        return {p.id: o.passed for p, o in zip(preferences, outcomes)}


CHECKERS_ONLY = Scorer()
"""The scorer of a run without a judge: rubric preferences are not scored."""


def _cut(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return "judge: " + (text if len(text) <= limit else text[: limit - 1] + "…")
