"""The recipe's rewrites pass their checkers, and its wordings are held out from the users'."""

from __future__ import annotations

import random

import pytest

from simbench.persona.library import BUILTIN
from simbench.preset import rewrites
from simbench.preset.data import Sample, build_examples
from simbench.users.rules import UNRELATED_MESSAGES

LIST_ANSWER = """Sure! Here are some tips:

1. Keep a regular schedule so your body learns when to sleep
2. Avoid screens before bed!
3. Keep the room cool and dark.

Also, try reading a paper book before bed, which can"""

PROSE_ANSWER = (
    "Exercise helps the heart pump more efficiently. It also lowers stress hormones and improves sleep! "
    "Many people find that a short walk after dinner is easy to keep up. Over months the benefits add up."
)


@pytest.mark.parametrize("pid", rewrites.TRAINED)
@pytest.mark.parametrize("text,complete", [(LIST_ANSWER, False), (PROSE_ANSWER, True)])
def test_every_rewrite_passes_its_own_checker(pid, text, complete):
    rewritten = rewrites.rewrite(pid, text, complete, random.Random(0))
    if rewritten is None:  # allowed only where no faithful rewrite exists
        assert pid == "lists" and len(text.split(". ")) < 2
        return
    assert BUILTIN[pid].check(rewritten).passed, (pid, rewritten)


def test_rewrites_drop_the_sentence_the_token_cap_cut_and_the_filler():
    concise = rewrites.to_concise(LIST_ANSWER, False, random.Random(0))
    assert concise == "Keep a regular schedule so your body learns when to sleep. Avoid screens before bed!"
    assert "which can" not in rewrites.to_prose(LIST_ANSWER, False, random.Random(0))
    as_list = rewrites.to_list(PROSE_ANSWER, True, random.Random(1)).splitlines()
    assert len(as_list) == 4 and not any("Sure" in line for line in as_list)
    assert rewrites.to_list("Just one sentence.", True, random.Random(0)) is None


def test_without_exclamation_keeps_questions():
    calm = rewrites.without_exclamation("Really?! That works! Try it.", True, random.Random(0))
    assert calm == "Really? That works. Try it."


def test_trained_and_held_out_sets_are_disjoint_and_cover_three_kinds():
    assert not set(rewrites.TRAINED) & set(rewrites.HELD_OUT)
    assert set(rewrites.TRAINED) | set(rewrites.HELD_OUT) <= set(BUILTIN)
    assert set(rewrites.REWRITES) == set(rewrites.FEEDBACK) == set(rewrites.TRAINED)
    assert len(rewrites.HELD_OUT) >= 3


def test_recipe_wordings_never_reuse_the_simulated_users_sentences():
    users = {s for p in BUILTIN.values() for s in (*p.complaints, *p.praise)} | set(UNRELATED_MESSAGES)
    recipe = {s for wordings in rewrites.FEEDBACK.values() for s in wordings} | set(rewrites.IRRELEVANT)
    assert not recipe & users
    # and no recipe follow-up is one of the users' sentences with a word changed
    lowered = {u.lower().rstrip(".?!") for u in users}
    assert not {r.lower().rstrip(".?!") for r in recipe} & lowered


def _encode(text):
    return [ord(c) for c in text]


def test_examples_map_feedback_to_rewrites_and_everything_else_to_the_sample():
    samples = [Sample("How do I sleep better?", LIST_ANSWER, (1, 2, 3), False),
               Sample("Why exercise?", PROSE_ANSWER, (4, 5), True)]
    examples = build_examples(samples, _encode, 99, random.Random(0), relevant_per_sample=5,
                              irrelevant_share=1.0, plain_share=1.0)
    kinds = {e.kind for e in examples}
    assert kinds <= {"rewrite", "compliant", "irrelevant", "plain"} and {"rewrite", "irrelevant", "plain"} <= kinds
    for example in examples:
        user = example.messages[-1]["content"]
        sample = next(s for s in samples if user.startswith(s.prompt))
        if example.kind == "rewrite":
            text = "".join(chr(i) for i in example.target_ids[:-1])
            assert example.target_ids[-1] == 99 and BUILTIN[example.preference].check(text).passed
            assert any(f in user for f in rewrites.FEEDBACK[example.preference])
        elif example.kind == "plain":
            assert user == sample.prompt and example.target_ids == sample.token_ids
        else:
            assert example.target_ids == sample.token_ids
            assert "[The following is a future user message." in user
    again = build_examples(samples, _encode, 99, random.Random(0), relevant_per_sample=5,
                           irrelevant_share=1.0, plain_share=1.0)
    assert again == examples


def test_a_compliant_complete_answer_is_its_own_target():
    short = Sample("Capital of France?", "Paris is the capital of France.", (7, 8), True)
    examples = build_examples([short], _encode, 99, random.Random(3), relevant_per_sample=5,
                              irrelevant_share=0.0, plain_share=0.0)
    by_pref = {e.preference: e for e in examples}
    assert by_pref["concise"].kind == "compliant" and by_pref["concise"].target_ids == (7, 8)
    assert by_pref["ends-with-question"].kind == "rewrite"


def test_read_targets_keep_only_the_models_own_in_context_answers_that_pass():
    from simbench.preset.data import read_targets

    samples = [Sample("Why exercise?", PROSE_ANSWER, (4, 5), True)]
    examples = build_examples(samples, _encode, 99, random.Random(0), relevant_per_sample=5,
                              irrelevant_share=1.0, plain_share=1.0)
    asked = []

    def answer(chats):
        asked.extend(chats)
        # a compliant answer for concise, a failing one for everything else
        concise = [any(f in c[-1]["content"] for f in rewrites.FEEDBACK["concise"]) for c in chats]
        return [Sample(c[-1]["content"], "Short and done." if short else PROSE_ANSWER + "!", (1,), True)
                for c, short in zip(chats, concise)]

    out = read_targets(examples, answer)
    assert len(asked) == sum(e.kind == "rewrite" for e in examples)
    assert {e.kind for e in out} <= {"read", "compliant", "irrelevant", "plain"}
    assert any(e.kind == "read" for e in out)
    for example in out:
        if example.kind == "read":
            assert example.target_ids == (1,) and example.preference == "concise"
    assert [e for e in out if e.kind in ("irrelevant", "plain")] == [e for e in examples if e.kind in ("irrelevant", "plain")]
