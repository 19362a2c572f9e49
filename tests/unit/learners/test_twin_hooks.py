"""`<learner>+unrelated` twins build and check options through their learner's own hooks
(`from_config`, `check_options`), so preflight refuses a twin's bad option before a model loads."""

from __future__ import annotations

import pytest

from simbench.arms import twin_name
from simbench.errors import InputError
from simbench.learners import LEARNERS
from simbench.learners.unrelated import UnrelatedFeedback
from simbench.runner.preflight import check_learner_options

FEEDBACK_DRIVEN = ("in-context-memory", "sft-hindsight", "sdpo-token", "sdpo-logit")


@pytest.mark.parametrize("learner", FEEDBACK_DRIVEN)
def test_every_feedback_driven_learner_has_a_hooked_twin(learner):
    assert LEARNERS.learns_from_feedback(learner) and twin_name(learner) in LEARNERS.names()
    twin = LEARNERS.get(twin_name(learner))
    assert issubclass(twin, UnrelatedFeedback) and twin.base == learner
    assert LEARNERS.get("sdpo-unrelated").base == "sdpo-token"


@pytest.mark.parametrize(("twin", "options", "field"), [
    ("sdpo-logit+unrelated", {"lr": -1.0}, "lr"),
    ("sft-hindsight+unrelated", {"lr": 0.0}, "lr"),
    ("sdpo-unrelated", {"signal_samples": -1}, "signal_samples"),
    ("in-context-memory+unrelated", {"memory_size": 0}, "memory_size"),
])
def test_preflight_checks_a_twins_options_as_its_learners(twin, options, field):
    with pytest.raises(InputError, match=rf"--learner-option: {twin.replace('+', '[+]')}: .*{field}"):
        check_learner_options(twin, options, seed=0)
    check_learner_options(twin, {}, seed=0)  # the defaults pass
