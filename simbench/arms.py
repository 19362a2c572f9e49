"""Arm names: a learner plus what it learns from (`feedback`), written `<learner>+unrelated`
for the unrelated-feedback control. Pure string rules, shared by the learner registry, the
runner, provenance and the reports, so a name means the same thing everywhere.

Whether a learner learns from follow-ups at all is declared where it registers
(`LEARNERS.register(name, learns_from_feedback=True)`); this module only reads names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Feedback = Literal["user", "unrelated"]
FEEDBACK: tuple[Feedback, ...] = ("user", "unrelated")
"""What a feedback-driven arm learns from: the user's follow-ups, or (the control) unrelated
user messages in their place."""

UNRELATED = "+unrelated"
ALIASES = {"sdpo-unrelated": "sdpo-token" + UNRELATED}
"""Older names of arms; results written under them still read and pair with their learner."""


@dataclass(frozen=True)
class Arm:
    """A registered learner and the feedback it is given."""

    learner: str
    feedback: Feedback = "user"

    @property
    def name(self) -> str:
        """The arm's canonical name (`sdpo-token+unrelated`, never an alias)."""
        return arm_name(self.learner, self.feedback)


def parse_arm(name: str) -> Arm:
    """`sdpo-logit+unrelated` -> Arm("sdpo-logit", "unrelated"); aliases resolve first."""
    name = ALIASES.get(name, name)
    if name.endswith(UNRELATED):
        return Arm(name[: -len(UNRELATED)], "unrelated")
    return Arm(name)


def arm_name(learner: str, feedback: Feedback = "user") -> str:
    return learner + UNRELATED if feedback == "unrelated" else learner


def is_derived(name: str) -> bool:
    """Whether `name` is a twin or an alias (a name no learner may register itself)."""
    return name in ALIASES or name.endswith(UNRELATED)


def twin_name(learner: str) -> str:
    """The name of `learner`'s unrelated-feedback control run."""
    return arm_name(learner, "unrelated")


def control_names(learner: str) -> tuple[str, ...]:
    """Arm names whose runs are `learner`'s unrelated-feedback control (aliases too)."""
    twin = twin_name(learner)
    return (twin, *(old for old, new in ALIASES.items() if new == twin))


def base_learner(name: str) -> str:
    """The learner an arm runs (`sdpo-logit+unrelated` -> `sdpo-logit`)."""
    return parse_arm(name).learner


def alias_of(name: str) -> str | None:
    """The canonical arm an older name stands for (None for a canonical name)."""
    return ALIASES.get(name)
