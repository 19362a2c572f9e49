"""The built-in preference library: required ids, symmetric opposites, usable feedback, lookup."""

from __future__ import annotations

import re

import pytest

from simbench.persona.library import BUILTIN, builtin_ids, get_preference, verifiable_ids
from simbench.persona.preference import CheckResult, Preference

REQUIRED = {
    "lists": "no-lists", "no-lists": "lists", "concise": "detailed", "detailed": "concise",
    "emojis": "no-emojis", "no-emojis": "emojis", "casual": "formal", "formal": "casual",
    "no-filler-praise": None, "no-closing-offer": None, "no-exclamation": None,
    "no-first-person": None, "no-markdown-emphasis": None, "answer-first": None,
    "no-hedging": None, "ends-with-question": None, "plain-language": None,
    "elaborate": "concise",  # one-way: concise keeps detailed
    # The paper's profiles (library_paper.py).
    "single-answer": "alternatives", "alternatives": "single-answer",
    "no-punctuation": "rich-punctuation", "rich-punctuation": "no-punctuation",
    "markdown": "no-markdown-emphasis", "clarify-first": "answer-first",  # both one-way
}


def test_library_has_every_required_id_with_its_opposite():
    assert len(BUILTIN) >= 16
    for pid, opposite in REQUIRED.items():
        assert BUILTIN[pid].opposite == opposite, pid


def test_ids_are_kebab_case_and_match_their_keys():
    for key, pref in BUILTIN.items():
        assert isinstance(pref, Preference)
        assert key == pref.id
        assert re.fullmatch(r"[a-z]+(?:-[a-z]+)*", pref.id), pref.id


ONE_WAY = {"elaborate", "markdown", "clarify-first"}  # names an opposite that has another one (or none)


def test_opposites_are_symmetric_and_exist():
    for pref in BUILTIN.values():
        if pref.opposite is not None:
            assert pref.opposite in BUILTIN, pref.id
            if pref.id not in ONE_WAY:
                assert BUILTIN[pref.opposite].opposite == pref.id, pref.id


def test_a_preference_and_its_opposite_never_pass_together():
    texts = ["Yes.", "It works. It is fast. It is cheap and widely used by many teams, which matters for "
             "support, hiring and long-term maintenance of the code.",
             "Short answer: use a list. It keeps things tidy.", "- one\n- two\n- three", ""]
    for pref in BUILTIN.values():
        if pref.opposite is not None:
            other = BUILTIN[pref.opposite]
            for text in texts:
                assert not (pref.check(text).passed and other.check(text).passed), (pref.id, other.id, text)


def test_every_preference_has_varied_complaints_and_praise():
    for pref in BUILTIN.values():
        assert pref.description.strip(), pref.id
        assert len(set(pref.complaints)) >= 4 and len(pref.complaints) == len(set(pref.complaints))
        assert len(set(pref.praise)) >= 3, pref.id


def test_feedback_never_names_a_preference_id():
    ids = [pid for pid in BUILTIN if "-" in pid]  # single words like "lists" are plain English
    for pref in BUILTIN.values():
        for line in pref.complaints + pref.praise:
            assert not any(pid in line.lower() for pid in ids), (pref.id, line)


@pytest.mark.parametrize("pid", [p for p in verifiable_ids() if p.startswith("no-")] + ["formal"])
def test_complaints_model_the_wanted_style_instead_of_showing_the_unwanted_one(pid):
    # A complaint about exclamation marks must not contain one: small models copy what they see.
    pref = BUILTIN[pid]
    for line in pref.complaints:
        assert pref.check(line).passed, (pid, line, pref.check(line).evidence)


ASKS_FOR_SOMETHING = {"lists", "concise", "detailed", "elaborate", "emojis", "casual", "answer-first",
                      "ends-with-question", "plain-language", "single-answer", "alternatives",
                      "rich-punctuation", "markdown", "clarify-first"}


def test_empty_response_fails_preferences_that_ask_and_passes_those_that_forbid():
    for pref in (BUILTIN[pid] for pid in verifiable_ids()):
        result = pref.check("  \n")
        assert isinstance(result, CheckResult)
        assert result.passed == (pref.id not in ASKS_FOR_SOMETHING), pref.id


def test_builtin_ids_are_sorted_and_complete():
    assert builtin_ids() == sorted(BUILTIN)


def test_get_preference_returns_the_builtin():
    assert get_preference("no-emojis") is BUILTIN["no-emojis"]


def test_unknown_id_raises_key_error_suggesting_the_closest_id():
    with pytest.raises(KeyError, match="did you mean 'no-emojis'"):
        get_preference("no-emoji")


def test_token_floors_match_what_the_checkers_demand():
    from simbench.persona.checkers import DETAILED_MIN_WORDS, ELABORATE_MIN_WORDS
    from simbench.persona.preference import token_cap_warnings, token_floors

    detailed = BUILTIN["detailed"]
    assert detailed.min_tokens == DETAILED_MIN_WORDS
    # An answer of exactly min_tokens one-token words passes, one word less fails.
    assert detailed.check(" ".join(["word"] * detailed.min_tokens)).passed
    assert not detailed.check(" ".join(["word"] * (detailed.min_tokens - 1))).passed
    elaborate = BUILTIN["elaborate"]
    assert elaborate.min_tokens == ELABORATE_MIN_WORDS
    # Three sentences of exactly min_tokens words in all pass; one word less fails.
    def three_sentences(n_words: int) -> str:
        first, second = n_words // 3, n_words // 3
        counts = (first, second, n_words - first - second)
        return " ".join(" ".join(["Word"] + ["word"] * (k - 1)) + "." for k in counts)
    assert elaborate.check(three_sentences(elaborate.min_tokens)).passed
    assert not elaborate.check(three_sentences(elaborate.min_tokens - 1)).passed
    assert [p.id for p in BUILTIN.values() if p.min_tokens] == ["detailed", "elaborate"]
    assert token_floors(BUILTIN.values()) == {"detailed": DETAILED_MIN_WORDS, "elaborate": ELABORATE_MIN_WORDS}
    (line,) = token_cap_warnings(token_floors(BUILTIN.values()), 64)
    assert "'detailed' needs answers of at least 150 words (so at least 150 tokens, usually more) but max_new_tokens is 64" in line
    assert token_cap_warnings(token_floors(BUILTIN.values()), DETAILED_MIN_WORDS) == []


def test_a_registered_preference_is_one_a_persona_can_name_and_an_id_registers_once():
    from plugin_sandbox import sandbox

    from simbench.persona.library import PREFERENCES, register_preference
    from simbench.persona.spec import Persona

    with sandbox():
        ascii_only = Preference(id="plain-ascii", description="Plain ASCII only.", complaints=("ASCII please.",),
                                checker=lambda text: CheckResult(text.isascii()))
        register_preference(ascii_only)
        persona = Persona.model_validate({"id": "p", "name": "P", "background": "A tester.", "interactions": 4,
                                          "schedule": [{"at": 0, "preferences": ["plain-ascii"]}]})
        assert persona.preference("plain-ascii") is ascii_only and "plain-ascii" in builtin_ids()
        with pytest.raises(ValueError, match="preference 'concise' is registered twice"):
            register_preference(Preference(id="concise", description="x", checker=ascii_only.checker))
        with pytest.raises(TypeError):
            BUILTIN["x"] = ascii_only  # type: ignore[index]  # read-only: add through the registry
    assert "plain-ascii" not in PREFERENCES
