"""Arm names (simbench/arms.py): `<learner>+unrelated` is the learner under unrelated feedback,
and the old alias `sdpo-unrelated` still names sdpo-token's control."""

from __future__ import annotations

from simbench.arms import (
    Arm,
    alias_of,
    arm_name,
    base_learner,
    control_names,
    is_derived,
    parse_arm,
)


def test_a_twin_name_parses_to_its_learner_and_unrelated_feedback():
    assert parse_arm("sdpo-logit+unrelated") == Arm("sdpo-logit", "unrelated")
    assert parse_arm("mine") == Arm("mine", "user")
    assert arm_name("mine", "unrelated") == Arm("mine", "unrelated").name == "mine+unrelated"
    assert base_learner("mine+unrelated") == "mine"


def test_the_old_alias_still_names_sdpo_tokens_control():
    assert parse_arm("sdpo-unrelated") == Arm("sdpo-token", "unrelated")
    assert alias_of("sdpo-unrelated") == "sdpo-token+unrelated" and alias_of("sdpo-token+unrelated") is None
    assert control_names("sdpo-token") == ("sdpo-token+unrelated", "sdpo-unrelated")
    assert control_names("mine") == ("mine+unrelated",)
    assert is_derived("sdpo-unrelated") and is_derived("x+unrelated") and not is_derived("sdpo-token")
