"""The LLM user's quality gate: the failures seen with SmolLM2 as the user are caught, good
follow-ups pass, retries are bounded and a reply that never passes is kept, flagged.

The flagged texts are the kinds SmolLM2 wrote through llama.cpp (echo, role flip, label
leak, no word about the broken wish); the end-to-end run is in
tests/integration/test_openai_user.py.
"""

from __future__ import annotations

import random

import pytest
from scripted_server import ScriptedServer

from simbench.persona.library import BUILTIN
from simbench.users import gate
from simbench.users.openai_compat import OpenAIUser

ANSWER = ("Plants make food through photosynthesis. They take in sunlight with chlorophyll, absorb "
          "water through their roots and carbon dioxide through their leaves, and turn them into sugar.")
LONG = ANSWER + " It mostly happens in the leaves."  # three sentences: breaks `concise`
CONCISE, CALM = BUILTIN["concise"], BUILTIN["no-exclamation"]


@pytest.mark.parametrize("text, reason", [
    ("Plants make food through photosynthesis. They take in sunlight with chlorophyll.", gate.ECHO),
    ("Sure! Here is a shorter version: plants use light to make sugar.", gate.ROLE_FLIP),
    ("As an AI, I can explain photosynthesis in two sentences.", gate.ROLE_FLIP),
    ("The next message is: keep it to two sentences.", gate.LABEL_LEAK),
    ("Assistant: keep it short.", gate.LABEL_LEAK),
    ("Here is the next response to your last message: shorter please.", gate.LABEL_LEAK),
    ("The assistant answered: a 404 means the page is missing. Shorter please.", gate.LABEL_LEAK),
    ("Thank you for the information about photosynthesis and leaves.", gate.OFF_WISH),
    ("   ", gate.EMPTY),
    ("...", gate.EMPTY),
])
def test_the_failures_seen_with_a_small_llm_user_are_flagged(text, reason):
    assert reason in gate.problems(text, ANSWER, [CONCISE], ["concise"])


@pytest.mark.parametrize("text", [
    "Could you keep it to two sentences next time?",
    "Your next reply should be short: two sentences at most.",
    "Too long for me. Just the short version please.",
    "Shorter please, I only need the key point.",
])
def test_a_follow_up_about_the_broken_wish_passes(text):
    assert gate.problems(text, ANSWER, [CONCISE], ["concise"]) == []


def test_a_user_who_wants_a_calm_tone_must_not_exclaim():
    found = gate.problems("Shorter please, just two sentences!", ANSWER, [CONCISE, CALM], ["concise"])
    assert found == [gate.SELF_BREAK]


def test_nothing_broken_needs_no_mention_and_thanks_passes():
    assert gate.problems("Thanks, that works.", ANSWER, [CONCISE], []) == []


def test_every_reason_has_words_for_the_report():
    assert set(gate.REASONS) == {gate.ECHO, gate.ROLE_FLIP, gate.LABEL_LEAK, gate.EMPTY,
                                 gate.OFF_WISH, gate.SELF_BREAK}


def test_gated_retries_until_a_reply_passes_and_records_the_tries():
    replies = iter(["Sure! Here is more.", "Keep it to two sentences please."])
    result = gate.gated(lambda attempt: (next(replies), attempt), ANSWER, [CONCISE], ["concise"], attempts=3)
    assert (result.text, result.extra, result.attempts, result.flags) == (
        "Keep it to two sentences please.", 1, 2, ())


def test_gated_stops_after_the_bound_and_keeps_the_last_reply_flagged():
    calls = []

    def write(attempt):
        calls.append(attempt)
        return f"Thank you for that answer number {attempt}.", None

    result = gate.gated(write, ANSWER, [CONCISE], ["concise"], attempts=3)
    assert calls == [0, 1, 2]
    assert result.text == "Thank you for that answer number 2." and result.flags == (gate.OFF_WISH,)
    assert result.meta() == {"attempts": 3, "flags": [gate.OFF_WISH]}


def test_retries_sample_even_when_the_first_try_is_greedy():
    assert [gate.retry_temperature(0.0, a) for a in range(3)] == [0.0, 0.7, 0.7]
    assert gate.retry_temperature(1.0, 2) == 1.0


def test_the_openai_user_retries_through_the_gate_over_real_sockets():
    """A scripted endpoint first echoes the answer, then phrases a real complaint."""
    replies = iter([ANSWER, "Please answer in two sentences at most."])
    with ScriptedServer(reply=lambda body: next(replies)) as server:
        user = OpenAIUser(server.base_url, "sim", api_key_env=None, timeout=5.0, temperature=0.0)
        follow_up = user.follow_up("How do plants eat?", ANSWER, [CONCISE], random.Random(0))
        temperatures = [r["temperature"] for r in server.requests]
        seeds = [r["seed"] for r in server.requests]
    assert follow_up.text == "Please answer in two sentences at most."
    assert follow_up.meta["gate"] == {"attempts": 2, "flags": []}
    assert temperatures == [0.0, 0.7] and seeds[1] == seeds[0] + 1


def test_the_openai_user_keeps_a_reply_that_never_passes_flagged():
    with ScriptedServer(reply="Thank you so much for this.") as server:
        user = OpenAIUser(server.base_url, "sim", api_key_env=None, timeout=5.0, gate_attempts=2)
        follow_up = user.follow_up("How do plants eat?", LONG, [CONCISE], random.Random(0))
        assert len(server.requests) == 2
    assert follow_up.text == "Thank you so much for this."
    assert follow_up.meta["gate"] == {"attempts": 2, "flags": [gate.OFF_WISH]}
    assert follow_up.violated == ("concise",)


# The replies the issue quotes as missed (written as the assistant), and one per rule; each
# also flagged when a user-like opening comes first, since small models flip mid-reply.
@pytest.mark.parametrize("rule, text", [
    ("praise", "You're right. I'll try again to make it even clearer: plants turn light into sugar."),
    ("praise", "My friend, I'm glad you're interested in plants. That's a great question!"),
    ("opener", "Sure! Here is a shorter version: plants use light to make sugar."),
    ("opener", "Here are some fun and playful goldfish names your customer will love:"),
    ("self", "As an AI, I can explain photosynthesis in two sentences."),
    ("self", "I'm here to help you plan a wedding on your budget. What's your next question?"),
    ("self", "I'm sorry, but as of now, I'm unable to assist with your request."),
    ("promise", "I'll make sure to keep your plans updated and have more fun in the gym!"),
    ("promise", "Let me rephrase that in fewer words."),
    ("self", "I'm glad you enjoyed my response."),
    ("self", "This answer is a classic, and I'm not sure what your question was?"),
    ("service", "I'm sorry, but I cannot help you with your message."),
    ("service", "Sounds like a wonderful team. I'd suggest an extra cup of coffee later today."),
    ("sign_off", "Plants make sugar from light. I hope this helps!"),
    ("sign_off", "Two sentences it is. Let me know if you need anything else."),
])
def test_each_assistant_rule_catches_its_examples_anywhere_in_the_reply(rule, text):
    assert rule in gate.assistant_rules(text)
    flipped = "Too long for me, just two sentences please. " + text
    assert rule in gate.assistant_rules(flipped)
    assert gate.ROLE_FLIP in gate.problems(flipped, ANSWER, [CONCISE], ["concise"])


@pytest.mark.parametrize("text", [
    "Could you keep it to two sentences next time?",
    "Too long. Here is my question again: what does a 404 mean?",
    "Shorter please - sure, the details are nice, but I only need the key point.",
    "I'm glad it's short now, thanks.",
    "Thanks, that's right. Can you drop the emojis next time?",
])
def test_a_user_voice_matches_no_assistant_rule(text):
    assert gate.assistant_rules(text) == []


def test_a_reply_that_restates_the_answer_is_an_echo_but_a_complaint_about_it_is_not():
    # "Answers the question itself": the answer's content in other words (no shared trigram run).
    restated = ("Photosynthesis: plants absorb sunlight through chlorophyll, take water through "
                "their roots, carbon dioxide through leaves, making sugar.")
    assert gate.ECHO in gate.problems(restated, ANSWER, [CONCISE], ["concise"])
    complaint = "Too long: I only wanted to know where photosynthesis happens, in one sentence."
    assert gate.ECHO not in gate.problems(complaint, ANSWER, [CONCISE], ["concise"])


def test_copied_prompt_headings_are_label_leaks():
    for text in ("How you want the assistant to answer: - Plain text answers.",
                 "Your answer: sleep runs in cycles.", "The next message is here: How to change a tire."):
        assert gate.LABEL_LEAK in gate.problems(text, ANSWER, [], []), text
