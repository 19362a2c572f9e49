"""The episode asks the user for one batch's follow-ups in one `follow_up_many` call (so an LLM
user can answer them concurrently); that batch answers equal one-by-one answers is tested per
user in tests/unit/users."""

from __future__ import annotations

import pytest
from tiny_runs import one_torch_thread, tiny_config, tiny_parts_factory, write_persona  # noqa: F401

from simbench.runner.run import execute
from simbench.users.base import follow_up_each

pytestmark = pytest.mark.usefixtures("one_torch_thread")
T, B = 6, 3


class CountingUser:
    """The run's real user, recording how many requests each follow_up_many call carried."""

    def __init__(self, inner):
        self.inner, self.batches = inner, []

    def follow_up(self, *args):
        return self.inner.follow_up(*args)

    def follow_up_many(self, requests):
        self.batches.append(len(requests))
        return follow_up_each(self, requests)


def test_one_call_per_batch_and_turn(tmp_path, smol_tokenizer):
    config = tiny_config(write_persona(tmp_path), interactions=T, batch_size=B, probe_every=B, turns=2)
    users = []

    def parts(inputs):
        built = tiny_parts_factory(smol_tokenizer)(inputs)
        built.user = CountingUser(built.user)
        users.append(built.user)
        return built

    batched = execute(config, out=tmp_path / "batched", parts_factory=parts)
    assert batched.status == "complete"
    assert users[0].batches == [B] * (T // B) * 2  # one call per batch per turn
