"""The `rules` user: checkers decide, phrasing varies, the rng alone makes it deterministic."""

from __future__ import annotations

import random
import re

import pytest

from simbench.errors import InputError
from simbench.persona.preference import CheckResult, Preference
from simbench.users.base import USERS, FollowUpRequest
from simbench.users.rules import THANKS, UNRELATED_MESSAGES, RulesUser, unrelated_message


def _pref(pid: str, banned: str, complaints=(), praise=(), description=None) -> Preference:
    """A preference violated whenever `banned` occurs in the response."""

    def check(text: str) -> CheckResult:
        return CheckResult(False, f"contains {banned!r}") if banned in text else CheckResult(True)

    return Preference(
        id=pid,
        description=description or f"Answers that never contain the word {banned}.",
        checker=check,
        complaints=complaints,
        praise=praise,
    )


SHORT = _pref(
    "pref-short-x1",
    "LONG",
    complaints=("Please keep it to two sentences.", "I'd like a much shorter answer next time."),
    praise=("Nice and short, thanks.",),
)
PLAIN = _pref(
    "pref-plain-x2",
    "FANCY",
    complaints=("Use plain everyday words instead.", "Write it like you'd explain it to a friend."),
    praise=("Love how plain that is.",),
)
QUIET = _pref("pref-quiet-x3", "LOUD", complaints=("Tone it down and drop the exclamation marks.",))


def _body(sentence: str) -> str:
    """A complaint as it may appear after an opener: first letter's case is free."""
    return sentence[1:-1]


def test_same_rng_seed_gives_the_same_follow_ups():
    user = RulesUser(irrelevant_rate=0.3)
    responses = ["LONG text", "fine", "LONG FANCY", "FANCY"]

    def run(seed: int):
        rng = random.Random(seed)
        return [user.follow_up("q", r, [SHORT, PLAIN], rng) for r in responses]

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_a_violated_preference_gets_one_of_its_complaints():
    user = RulesUser()
    for seed in range(40):
        follow_up = user.follow_up("q", "a LONG answer", [SHORT, PLAIN], random.Random(seed))
        assert follow_up.violated == ("pref-short-x1",)
        assert any(_body(c) in follow_up.text for c in SHORT.complaints), follow_up.text
        assert not any(_body(c) in follow_up.text for c in PLAIN.complaints)
        assert follow_up.meta == {
            "irrelevant": False,
            "checked": {"pref-short-x1": False, "pref-plain-x2": True},
            "kind": "complaint",
        }


def test_phrasing_varies_beyond_one_sentence_per_preference():
    user = RulesUser()
    texts = {user.follow_up("q", "LONG", [SHORT], random.Random(seed)).text for seed in range(60)}
    assert len(texts) >= 12


def test_several_violations_mention_one_or_two_in_persona_order():
    user = RulesUser()
    active = [SHORT, PLAIN, QUIET]
    counts = set()
    for seed in range(80):
        follow_up = user.follow_up("q", "LONG FANCY LOUD", active, random.Random(seed))
        counts.add(len(follow_up.violated))
        order = [p.id for p in active if p.id in follow_up.violated]
        assert list(follow_up.violated) == order
        for pref in active:
            mentioned = any(_body(c) in follow_up.text for c in pref.complaints)
            assert mentioned == (pref.id in follow_up.violated), follow_up.text
        assert follow_up.meta["checked"] == {p.id: False for p in active}
    assert counts == {1, 2}


def test_nothing_violated_gives_praise_or_thanks_and_no_violations():
    user = RulesUser(praise_rate=0.5)
    kinds = set()
    for seed in range(60):
        follow_up = user.follow_up("q", "a calm reply", [SHORT, PLAIN], random.Random(seed))
        assert follow_up.violated == ()
        kinds.add(follow_up.meta["kind"])
        if follow_up.meta["kind"] == "praise":
            assert follow_up.text in SHORT.praise + PLAIN.praise
        else:
            assert follow_up.text in THANKS
    assert kinds == {"praise", "thanks"}


def test_no_active_preferences_gives_a_neutral_thanks():
    follow_up = RulesUser().follow_up("q", "anything", [], random.Random(0))
    assert follow_up.violated == ()
    assert follow_up.meta["kind"] == "thanks"
    assert follow_up.meta["checked"] == {}


def test_irrelevant_rate_one_always_sends_unrelated_messages_and_still_records_checks():
    user = RulesUser(irrelevant_rate=1.0)
    for seed in range(20):
        follow_up = user.follow_up("q", "LONG", [SHORT], random.Random(seed))
        assert follow_up.text in UNRELATED_MESSAGES
        assert follow_up.violated == ()
        assert follow_up.meta["irrelevant"] is True
        assert follow_up.meta["checked"] == {"pref-short-x1": False}


def test_irrelevant_rate_sets_the_share_of_unrelated_messages():
    user = RulesUser(irrelevant_rate=0.25)
    rng = random.Random(3)
    share = sum(user.follow_up("q", "LONG", [SHORT], rng).meta["irrelevant"] for _ in range(2000)) / 2000
    assert 0.21 < share < 0.29


def test_text_never_names_a_preference_id():
    from simbench.persona.library import BUILTIN

    hyphenated = [p for p in BUILTIN.values() if "-" in p.id]
    user = RulesUser(irrelevant_rate=0.1)
    for seed in range(200):
        rng = random.Random(seed)
        active = rng.sample(hyphenated, 3) + [SHORT, PLAIN]
        text = user.follow_up("q", "LONG FANCY! 😀 - item\n- item", active, rng).text
        assert not any(p.id in text for p in active), text


def test_sentences_run_on_after_openers_without_breaking_capitals():
    user = RulesUser()
    texts = [user.follow_up("q", "LONG", [SHORT], random.Random(seed)).text for seed in range(80)]
    assert all(text[0].isupper() for text in texts)
    assert not any(re.search(r"\bi'd\b", text) for text in texts)  # "I'd" stays capital
    assert any(", please keep it" in text for text in texts)  # run-on opener lowercases


def test_a_preference_without_phrasings_falls_back_to_its_description():
    bare = _pref("pref-bare-x9", "BAD", description="Answers in exactly one sentence.")
    follow_up = RulesUser().follow_up("q", "BAD", [bare], random.Random(0))
    assert "nswers in exactly one sentence." in follow_up.text
    assert follow_up.violated == ("pref-bare-x9",)


def test_unrelated_pool_is_large_varied_and_seeded():
    assert len(set(UNRELATED_MESSAGES)) >= 30
    picks = [unrelated_message(random.Random(seed)) for seed in range(200)]
    assert len(set(picks)) >= 25
    assert picks == [unrelated_message(random.Random(seed)) for seed in range(200)]


@pytest.mark.parametrize("field, value", [("irrelevant_rate", 1.5), ("praise_rate", -0.1)])
def test_rates_outside_zero_one_are_input_errors(field, value):
    with pytest.raises(InputError, match=field):
        RulesUser(**{field: value})


def test_batch_equals_one_by_one_calls_with_each_request_rng():
    user = RulesUser(irrelevant_rate=0.2)
    items = [("q", "LONG", [SHORT]), ("q", "fine", [SHORT, PLAIN]), ("q", "FANCY", [PLAIN])]
    batch = user.follow_up_many([FollowUpRequest(*item, random.Random(i)) for i, item in enumerate(items)])
    assert batch == [user.follow_up(*item, random.Random(i)) for i, item in enumerate(items)]


def test_rules_user_is_registered_by_name():
    assert USERS.get("rules") is RulesUser
