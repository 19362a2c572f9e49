"""The one user prompt: what it shows the simulator model, its hash, and reply cleaning."""

from __future__ import annotations

import hashlib
import json

from simbench.persona.preference import CheckResult, Preference
from simbench.users.prompting import DEFAULT_BACKGROUND, clean_follow_up, prompt_hash, render_user_messages


def _always(passed: bool):
    return lambda text: CheckResult(passed, "" if passed else "3 emojis")


SHORT = Preference("pref-short-q1", "Very short answers, two sentences at most.", _always(True))
NO_EMOJI = Preference("pref-noemoji-q2", "Answers without any emojis.", _always(False))


def test_messages_carry_background_wishes_and_the_exchange_but_no_ids():
    messages = render_user_messages(
        "How do magnets work?", "Magnets 🧲 attract.", [SHORT, NO_EMOJI], "You are a busy nurse."
    )
    assert [m["role"] for m in messages] == ["system", "user"]
    system, user = messages[0]["content"], messages[1]["content"]
    assert "You are a busy nurse." in system
    assert "- Very short answers, two sentences at most." in system
    assert "- Answers without any emojis." in system
    assert "ONE next message" in system
    assert "How do magnets work?" in user and "Magnets 🧲 attract." in user
    text = system + user
    assert "pref-short-q1" not in text and "pref-noemoji-q2" not in text


def test_empty_background_uses_the_default():
    messages = render_user_messages("q", "r", [SHORT], "  ")
    assert DEFAULT_BACKGROUND in messages[0]["content"]


def test_checks_mark_each_wish_as_kept_or_broken_with_evidence():
    checks = {p.id: p.check("r") for p in (SHORT, NO_EMOJI)}
    system = render_user_messages("q", "r", [SHORT, NO_EMOJI], checks=checks)[0]["content"]
    assert "two sentences at most. (this answer follows it)" in system
    assert "without any emojis. (this answer breaks it: 3 emojis)" in system


def test_without_checks_the_model_judges_alone():
    system = render_user_messages("q", "r", [SHORT, NO_EMOJI])[0]["content"]
    assert "this answer" not in system


def test_no_active_wishes_says_any_answer_is_fine():
    system = render_user_messages("q", "r", [])[0]["content"]
    assert "No particular wishes" in system


def test_prompt_hash_is_sha256_of_canonical_json_and_changes_with_any_content():
    messages = render_user_messages("q", "r", [SHORT])
    canonical = json.dumps(messages, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert prompt_hash(messages) == hashlib.sha256(canonical.encode()).hexdigest()
    assert prompt_hash(messages) == prompt_hash(render_user_messages("q", "r", [SHORT]))
    assert prompt_hash(messages) != prompt_hash(render_user_messages("q", "r.", [SHORT]))
    assert prompt_hash(messages) != prompt_hash(render_user_messages("q", "r", [SHORT], "Nurse."))


def test_clean_follow_up_strips_labels_quotes_and_extra_paragraphs():
    assert clean_follow_up('  "Shorter please."  ') == "Shorter please."
    assert clean_follow_up("Your next message: Thanks!") == "Thanks!"
    assert clean_follow_up("Here's my next message: Shorter, please.") == "Shorter, please."
    assert clean_follow_up("Message: ok") == "ok"
    assert clean_follow_up("User: Less   text\nplease.\n\nAssistant: sure") == "Less text please."
    assert clean_follow_up(' "" ') == ""
    assert clean_follow_up("It's 'fine'") == "It's 'fine'"
    assert clean_follow_up("The message was too long: shorten it.") == "The message was too long: shorten it."
