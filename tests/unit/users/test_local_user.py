"""The `local` user on a tiny random Llama: the plumbing (prompt, FollowUp, checkers, seeds).

The random model writes gibberish; these tests protect what surrounds it.
"""

from __future__ import annotations

import random

import pytest

from simbench.errors import InputError, UserSimulatorError
from simbench.persona.preference import CheckResult, Preference
from simbench.users.base import USERS, FollowUpRequest
from simbench.users.local import LocalUser
from simbench.users.prompting import prompt_hash, render_user_messages

NO_SHOUT = Preference(
    "pref-noshout-l1",
    "Answers without exclamation marks.",
    lambda text: CheckResult("!" not in text, "has '!'" if "!" in text else ""),
)


def test_follow_up_renders_the_shared_prompt_and_checkers_decide(tiny_model, smol_tokenizer):
    user = LocalUser(tiny_model, smol_tokenizer, name="tiny", max_new_tokens=8, background="A sailor.")
    follow_up = user.follow_up("Tell me a fact.", "Cats sleep a lot!", [NO_SHOUT], random.Random(0))
    expected = render_user_messages(
        "Tell me a fact.", "Cats sleep a lot!", [NO_SHOUT], "A sailor.",
        {"pref-noshout-l1": NO_SHOUT.check("Cats sleep a lot!")},
    )
    assert follow_up.text and follow_up.text == follow_up.text.strip()
    assert follow_up.violated == ("pref-noshout-l1",)
    assert follow_up.meta["prompt_hash"] == prompt_hash(expected)
    assert follow_up.meta["model"] == "tiny" and follow_up.meta["checked"] == {"pref-noshout-l1": False}
    kept = user.follow_up("Tell me a fact.", "Cats sleep a lot.", [NO_SHOUT], random.Random(0))
    assert kept.violated == () and kept.meta["checked"] == {"pref-noshout-l1": True}


def test_sampling_is_deterministic_for_a_seed_and_leaves_global_torch_rng_alone(tiny_model, smol_tokenizer):
    import torch

    user = LocalUser(tiny_model, smol_tokenizer, temperature=1.0, max_new_tokens=8)
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    texts = [user.follow_up("q", "r", [], random.Random(seed)).text for seed in (1, 1, 2, 3)]
    after = torch.rand(1)
    assert texts[0] == texts[1]
    assert len(set(texts[1:])) > 1
    assert torch.equal(before, after)


def test_greedy_reply_that_cleans_to_nothing_falls_back_to_seeded_sampling(tiny_model, smol_tokenizer):
    # A random Llama's greedy reply is only newlines, which cleans to an empty message.
    user = LocalUser(tiny_model, smol_tokenizer, temperature=0.0, max_new_tokens=8)
    first = user.follow_up("q", "r", [], random.Random(1))
    again = user.follow_up("q", "r", [], random.Random(1))
    other = user.follow_up("q", "r", [], random.Random(2))
    assert first.meta["attempts"] == 2 and first.text
    assert first == again and other.text != first.text


def test_a_model_that_never_writes_text_raises_a_user_simulator_error(tiny_model, smol_tokenizer):
    newline = smol_tokenizer.encode("\n", add_special_tokens=False)
    tiny_model.generation_config.sequence_bias = {tuple(newline): 1e4}
    user = LocalUser(tiny_model, smol_tokenizer, name="tiny", temperature=1.0, max_new_tokens=4)
    with pytest.raises(UserSimulatorError, match="'tiny' produced no usable follow-up in 3 attempts"):
        user.follow_up("q", "r", [], random.Random(0))


def test_batch_matches_one_by_one_calls(tiny_model, smol_tokenizer):
    user = LocalUser(tiny_model, smol_tokenizer, temperature=1.0, max_new_tokens=6)
    items = [("q1", "r!", [NO_SHOUT]), ("q2", "r", [NO_SHOUT])]
    batch = user.follow_up_many([FollowUpRequest(*item, random.Random(4 + i)) for i, item in enumerate(items)])
    single = [user.follow_up(*item, random.Random(4 + i)) for i, item in enumerate(items)]
    assert batch == single
    assert [f.violated for f in batch] == [("pref-noshout-l1",), ()]


def test_bad_settings_are_input_errors(tiny_model, smol_tokenizer):
    with pytest.raises(InputError, match="max_new_tokens"):
        LocalUser(tiny_model, smol_tokenizer, max_new_tokens=0)
    with pytest.raises(InputError, match="temperature"):
        LocalUser(tiny_model, smol_tokenizer, temperature=-0.5)


def test_local_user_is_registered_by_name():
    assert USERS.get("local") is LocalUser
