"""No simulated user's text breaks the wish it voices, judged by the checkers themselves.

A user who wants a calm tone must not write "Thanks!", one who wants plain text must not
send an emoji, a formal one must not write "That's". Checked exhaustively over every
preference x complaint x opener x closer, and over many seeds of the whole rules user.
"""

from __future__ import annotations

import random

import pytest

from simbench.persona.library import BUILTIN, verifiable_ids
from simbench.users.rules import (
    _CLOSERS,
    _CONNECTORS,
    _OPENERS,
    THANKS,
    RulesUser,
    _as_sentence,
    _attach,
    compose_complaint,
    consistent,
    voiced_by_user,
)

VOICED = [p for p in BUILTIN.values() if p.applies_to_user]
SEEDS = range(150)


def _broken(pref_id: str) -> str:
    """A response that breaks `pref_id`'s checker (found among a few obvious offenders)."""
    pref = BUILTIN[pref_id]
    for text in ("", "Great question! 😀 **Sure**, I'd say maybe it's:\n- one\n- two\nLet me know if you need more!",
                 "It is so.", "Photosynthesis utilizes light. " * 40, "Why? " * 3):
        if not pref.check(text).passed:
            return text
    raise AssertionError(f"no offending response for {pref_id}")


def test_voiced_preferences_are_the_ones_about_how_any_message_reads():
    assert {p.id for p in VOICED} >= {"no-exclamation", "no-emojis", "formal", "no-hedging",
                                       "no-markdown-emphasis"}
    # Wishes about the answer's shape or content do not bind the user's own message.
    assert not {"concise", "detailed", "lists", "emojis", "ends-with-question"} & {p.id for p in VOICED}


@pytest.mark.parametrize("keeper", VOICED, ids=lambda p: p.id)
def test_every_complaint_opener_and_closer_that_can_be_drawn_keeps_the_wish(keeper):
    for voiced in BUILTIN.values():
        keep = [keeper] + ([voiced] if voiced.applies_to_user and voiced is not keeper else [])
        complaints = consistent(voiced.complaints, keep)
        assert complaints, (keeper.id, voiced.id)
        for complaint in complaints:
            for opener in consistent(_OPENERS, keep):
                for closer in consistent(_CLOSERS, keep):
                    text = _attach(opener, _as_sentence(complaint)) + closer
                    for pref in keep:
                        assert pref.check(text).passed, (voiced.id, pref.id, text, pref.check(text).evidence)


@pytest.mark.parametrize("keeper", VOICED, ids=lambda p: p.id)
def test_composed_complaints_about_two_wishes_keep_the_users_wishes_over_many_seeds(keeper):
    others = [p for p in BUILTIN.values() if p is not keeper]
    for seed in SEEDS:
        rng = random.Random(seed)
        mentioned = sorted(rng.sample(others, 2), key=lambda p: p.id)
        text = compose_complaint(mentioned, rng, voiced_by_user([keeper, *mentioned]))
        for pref in voiced_by_user([keeper, *mentioned]):
            assert pref.check(text).passed, (seed, pref.id, text)


def test_the_no_exclamation_complaint_never_ends_with_an_exclaimed_thanks():
    """The reported case: 27 of 200 seeds wrote "... next time. Thanks!"."""
    calm = BUILTIN["no-exclamation"]
    texts = {compose_complaint([calm], random.Random(seed), [calm]) for seed in range(200)}
    assert not [t for t in texts if "!" in t]
    assert any(t.endswith("Thanks.") for t in texts)  # the plain closer is still drawn


@pytest.mark.parametrize("pid", verifiable_ids())  # a rubric wish has no checker to break
def test_the_rules_user_keeps_every_active_wish_it_voices_over_many_seeds(pid):
    """Through the public path: complaints, praise and thanks alike, with the broken wish
    beside each voiced one."""
    user = RulesUser(praise_rate=0.5)
    for keeper in VOICED:
        active = [BUILTIN[pid]] + ([keeper] if keeper.id != pid else [])
        response = _broken(pid)
        for seed in range(40):
            follow_up = user.follow_up("How do plants eat?", response, active, random.Random(seed))
            for pref in voiced_by_user(active):
                assert pref.check(follow_up.text).passed, (pid, pref.id, follow_up.text)


def test_praise_and_thanks_of_a_voiced_wish_keep_it():
    for keeper in VOICED:
        for line in list(consistent(THANKS, [keeper])) + list(consistent(keeper.praise, [keeper])):
            assert keeper.check(line).passed, (keeper.id, line)


def test_connectors_between_two_complaints_keep_the_wish():
    for keeper in VOICED:
        for connector in consistent(_CONNECTORS, [keeper]):
            assert not connector.strip() or keeper.check(connector).passed


@pytest.mark.parametrize("pref", list(BUILTIN.values()), ids=lambda p: p.id)
def test_every_complaint_mentions_its_own_wish_by_the_keywords_the_gate_uses(pref):
    assert pref.keywords
    for complaint in pref.complaints:
        assert pref.mentioned_in(complaint), (pref.id, complaint)
