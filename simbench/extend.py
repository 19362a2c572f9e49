"""What an out-of-tree learner, user simulator, backend, judge or preference imports.

A plugin module registers its entries when imported: `@LEARNERS.register("mine",
learns_from_feedback=True)` on a learner class, `register_preference(Preference(...))` for a
preference, and likewise `USERS`, `BACKENDS` and `JUDGES`. Load it with `--plugin` (a dotted
module or a .py file) on any command, or from a package's `simbench.plugins` entry point.
Importing this module imports no torch; `simbench.extend.SDPOLearner` (the built-in SDPO arm,
to compose or subclass) loads on first use, so it is left out of `__all__`.
"""

from __future__ import annotations

from typing import Any

from simbench.arms import FEEDBACK, Feedback
from simbench.backends import BACKENDS
from simbench.backends.base import (
    BackendContext,
    Generation,
    GenerationRequest,
    PolicyBackend,
)
from simbench.judge import JUDGES, Judge
from simbench.learners import LEARNERS
from simbench.learners.base import Learner, LearnerContext, Turn, UpdateResult
from simbench.persona.library import PREFERENCES, register_preference
from simbench.persona.preference import CheckResult, Preference
from simbench.plugins import GROUP, load_plugin
from simbench.users import USERS
from simbench.users.base import FollowUp, FollowUpRequest, UserContext, UserSimulator

__all__ = [
    "BACKENDS", "FEEDBACK", "GROUP", "JUDGES", "LEARNERS", "PREFERENCES", "USERS",
    "BackendContext", "CheckResult", "Feedback", "FollowUp", "FollowUpRequest", "Generation",
    "GenerationRequest", "Judge", "Learner", "LearnerContext", "PolicyBackend", "Preference",
    "Turn", "UpdateResult", "UserContext", "UserSimulator", "load_plugin",
    "register_preference",
]


def __getattr__(name: str) -> Any:
    if name == "SDPOLearner":  # imports torch: only for a plugin that builds on it
        from simbench.learners.sdpo import SDPOLearner

        return SDPOLearner
    raise AttributeError(f"module 'simbench.extend' has no attribute {name!r}")
