"""NoisyUser: irrelevant follow-ups at the persona's rate for any user backend."""

from __future__ import annotations

import random

import pytest

from simbench.persona.library import get_preference
from simbench.users.base import FollowUp, FollowUpRequest, follow_up_each
from simbench.users.noise import NoisyUser
from simbench.users.rules import UNRELATED_MESSAGES


class EchoUser:
    def __init__(self) -> None:
        self.calls = 0

    def follow_up_many(self, requests):
        return follow_up_each(self, requests)

    def follow_up(self, prompt, response, active, rng):
        self.calls += 1
        return FollowUp("Shorter, please.", ("concise",), {"kind": "complaint"})


ACTIVE = [get_preference("concise")]


def test_rate_one_always_sends_an_unrelated_message_and_skips_the_backend():
    inner = EchoUser()
    user = NoisyUser(inner, 1.0)
    replies = [user.follow_up("q", "a long answer", ACTIVE, random.Random(i)) for i in range(20)]
    assert inner.calls == 0
    assert all(r.text in UNRELATED_MESSAGES and r.meta["irrelevant"] and not r.violated for r in replies)


def test_rate_zero_always_delegates():
    inner = EchoUser()
    user = NoisyUser(inner, 0.0)
    replies = [user.follow_up("q", "a", ACTIVE, random.Random(i)) for i in range(20)]
    assert inner.calls == 20 and all(r.violated == ("concise",) for r in replies)


def test_share_of_irrelevant_follow_ups_matches_the_rate_and_replays_for_a_seed():
    user = NoisyUser(EchoUser(), 0.3)
    first = [user.follow_up("q", "a", ACTIVE, random.Random(i)).text for i in range(400)]
    again = [user.follow_up("q", "a", ACTIVE, random.Random(i)).text for i in range(400)]
    share = sum(text in UNRELATED_MESSAGES for text in first) / len(first)
    assert first == again
    assert 0.22 < share < 0.38


def test_a_batch_equals_one_by_one_calls_and_sends_only_the_relevant_turns_on():
    inner = EchoUser()
    user = NoisyUser(inner, 0.5)
    batch = user.follow_up_many([FollowUpRequest("q", "a", ACTIVE, random.Random(i)) for i in range(40)])
    single = [NoisyUser(EchoUser(), 0.5).follow_up("q", "a", ACTIVE, random.Random(i)) for i in range(40)]
    assert batch == single
    assert inner.calls == sum(not r.meta.get("irrelevant") for r in batch) > 0


def test_rate_outside_unit_interval_is_rejected():
    with pytest.raises(ValueError, match="rate"):
        NoisyUser(EchoUser(), 1.5)
