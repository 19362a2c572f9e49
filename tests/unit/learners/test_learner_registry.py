"""The learner registry (learners/registry.py): a learner that declares `learns_from_feedback`
gets its `+unrelated` control without registering it; others get none, with a one-line error."""

from __future__ import annotations

import pytest
from plugin_sandbox import sandbox

from simbench.errors import InputError
from simbench.learners import LEARNERS
from simbench.learners.unrelated import UnrelatedFeedback


@pytest.fixture(autouse=True)
def isolated():
    with sandbox():
        yield


def test_any_feedback_driven_learner_gets_a_twin_that_wraps_it():
    @LEARNERS.register("mine", learns_from_feedback=True)
    class Mine:
        """Mine."""

    twin = LEARNERS.get("mine+unrelated")
    assert issubclass(twin, UnrelatedFeedback) and twin.base == "mine" and twin.registry is LEARNERS
    assert LEARNERS.get("mine+unrelated") is twin
    assert {"mine", "mine+unrelated"} <= set(LEARNERS.names())
    assert (LEARNERS.feedback_of("mine"), LEARNERS.feedback_of("mine+unrelated")) == ("user", "unrelated")


def test_a_learner_that_ignores_feedback_has_no_twin():
    LEARNERS.register_lazy("still", "somewhere:Still")
    assert "still+unrelated" not in LEARNERS and "still+unrelated" not in LEARNERS.names()
    assert LEARNERS.feedback_of("still") is None
    with pytest.raises(InputError, match=r"^--learner: still does not learn from follow-ups, so it has no "
                                         r"unrelated-feedback twin \(twins exist for: .*sdpo-token\+unrelated"):
        LEARNERS.target("still+unrelated")
    with pytest.raises(InputError, match=r"unknown learner 'nobody\+unrelated'"):
        LEARNERS.get("nobody+unrelated")


@pytest.mark.parametrize("name", ["mine+unrelated", "sdpo-unrelated"])
def test_twin_and_alias_names_cannot_be_registered(name):
    with pytest.raises(ValueError, match="is reserved"):
        LEARNERS.register(name, learns_from_feedback=True)(type("Mine", (), {}))
