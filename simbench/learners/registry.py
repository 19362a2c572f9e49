"""The learner registry: learners by name, and the arms derived from them.

A learner declares at registration whether it learns from the user's follow-ups
(`learns_from_feedback=True`); every such learner then has its unrelated-feedback control,
`<learner>+unrelated` (learners/unrelated.py), without registering it, and older aliases
(simbench/arms.py) resolve to their arm. Names are parsed by simbench/arms.py alone.
"""

from __future__ import annotations

from typing import Any, Callable

from simbench.arms import ALIASES, Feedback, is_derived, parse_arm, twin_name
from simbench.errors import InputError
from simbench.learners.unrelated import UnrelatedFeedback, twin_class
from simbench.registry import Registry, suggest


class LearnerRegistry(Registry[Any]):
    """Learners, plus the `<learner>+unrelated` twin of each feedback-driven one."""

    def __init__(self) -> None:
        super().__init__("learner", flag="--learner")
        self._feedback_driven: set[str] = set()
        self._twins: dict[str, type[UnrelatedFeedback]] = {}

    def register(self, name: str, learns_from_feedback: bool = False) -> Callable[[Any], Any]:
        """Decorator: register a learner class under `name`; `learns_from_feedback` gives it an
        unrelated-feedback twin (declare it for any learner whose update reads follow-ups)."""
        self._refuse_derived(name)
        decorate = super().register(name)

        def register_learner(obj: Any) -> Any:
            decorate(obj)
            self._declare(name, learns_from_feedback)
            return obj

        return register_learner

    def register_lazy(self, name: str, target: str, learns_from_feedback: bool = False) -> None:
        self._refuse_derived(name)
        super().register_lazy(name, target)
        self._declare(name, learns_from_feedback)

    def _refuse_derived(self, name: str) -> None:
        if is_derived(name):
            raise ValueError(f"learner name {name!r} is reserved: `+unrelated` twins and aliases are derived "
                             "from `learns_from_feedback=True`")

    def _declare(self, name: str, learns_from_feedback: bool) -> None:
        if learns_from_feedback:
            self._feedback_driven.add(name)

    def learns_from_feedback(self, learner: str) -> bool:
        """Whether registered learner `learner` learns from follow-ups (has a twin)."""
        return Registry.__contains__(self, learner) and learner in self._feedback_driven

    def feedback_of(self, arm: str) -> Feedback | None:
        """"unrelated" for a control arm, "user" for a feedback-driven learner, else None."""
        parsed = parse_arm(arm)
        if parsed.feedback == "unrelated":
            return "unrelated"
        return "user" if self.learns_from_feedback(parsed.learner) else None

    def names(self) -> list[str]:
        """Learners, their twins and the aliases that resolve (what `--learner` accepts)."""
        learners = super().names()
        twins = [twin_name(n) for n in learners if n in self._feedback_driven]
        aliases = [old for old, new in ALIASES.items() if new in twins]
        return sorted([*learners, *twins, *aliases])

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str) or not is_derived(name):
            return super().__contains__(name)
        return self.learns_from_feedback(parse_arm(name).learner)

    def target(self, name: str) -> Any:
        return self._twin(name) if is_derived(name) else super().target(name)

    def get(self, name: str) -> Any:
        return self._twin(name) if is_derived(name) else super().get(name)

    def _twin(self, name: str) -> type[UnrelatedFeedback]:
        """The control class of twin or alias `name` (built once; no learner module imported)."""
        learner = parse_arm(name).learner
        if not super().__contains__(learner):
            raise InputError(self.flag, f"unknown {self.kind} {name!r}", suggest(name, self.names()))
        if learner not in self._feedback_driven:
            twins = ", ".join(n for n in self.names() if is_derived(n) and n not in ALIASES)
            raise InputError(self.flag, f"{learner} does not learn from follow-ups, so it has no "
                             "unrelated-feedback twin", f"twins exist for: {twins}")
        if name not in self._twins:
            doc = f"Alias of {ALIASES[name]} (the control's name in earlier results)." if name in ALIASES else None
            self._twins[name] = twin_class(learner, self, doc)
        return self._twins[name]


LEARNERS = LearnerRegistry()
