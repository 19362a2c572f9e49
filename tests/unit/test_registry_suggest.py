"""simbench's one "did you mean" hint (registry.suggest), used by every unknown-name error."""

from simbench.registry import suggest

CHOICES = ["frozen", "sdpo-token", "sdpo-logit"]


def test_close_match_is_named_and_the_choices_listed():
    assert suggest("sdpo-tokn", CHOICES) == "did you mean 'sdpo-token'? choices: frozen, sdpo-token, sdpo-logit"


def test_long_lists_can_be_left_out_after_a_close_match():
    assert suggest("sdpo-tokn", CHOICES, list_when_close=False) == "did you mean 'sdpo-token'?"


def test_without_a_close_match_the_choices_are_listed_either_way():
    for list_when_close in (True, False):
        assert suggest("zzz", CHOICES, list_when_close) == "choices: frozen, sdpo-token, sdpo-logit"
