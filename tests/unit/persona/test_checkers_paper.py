"""The checkers of the paper's profiles (persona/checkers_paper.py) on passing, failing and
tricky examples, and on real SmolLM2-135M answers from the committed probe logs."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from simbench.paths import REPO_ROOT
from simbench.persona import checkers_paper as cp
from simbench.persona.checkers import check_answer_first, check_no_markdown_emphasis
from simbench.persona.library import BUILTIN
from simbench.persona.scenario import are_opposites, scenario_of

FENCE = "```"
REAL_OUTPUTS = Path(__file__).parent / "data" / "real_outputs_paper.json"
OWN_CHECKERS = [n for n in dir(cp) if n.startswith("check_") and getattr(cp, n).__module__ == cp.__name__]
PAPER_IDS = ("single-answer", "alternatives", "no-punctuation", "rich-punctuation", "markdown", "clarify-first")

# The comment says which documented decision a tricky example protects.
PASSING = {
    cp.check_single_answer: [
        "Take the train: it is faster and cheaper than driving.",
        "Use butter or oil, whichever you have.",  # a bare "or" is not a menu
        "Birds use several cues to navigate: the sun, the stars and the magnetic field.",  # factors
        "Bake it longer; the time depends on the oven.",  # "depends on the oven" commits
        "Your energy depends on your sleep. Sleep eight hours.",  # a fact, not a hedge
        "Tips:\n- Approach the dog slowly\n- Approach it from the side",  # a verb, not a label
        "Before you choose, check:\n- the size\n- the price",  # things to check are not options
        "The best option is the 14-inch model.",  # naming the best option is committing
        "Learn the different ways wine is made, then taste.",  # "the different ways" describes
        'He said "alternatively, walk" and left.',  # quoted words are someone else's
        f"Run this.\n{FENCE}\n# Option 1\nx = 1\n{FENCE}",  # code is not prose
    ],
    cp.check_alternatives: [
        "Option 1: rent a flat. Option 2: buy a small house.",
        "Rent for now. Alternatively, buy once you settle.",
        "Take the train. Another option is the night bus.",
        "Roast it, or you could steam it if you prefer something lighter.",
        "There are several ways to save money on groceries.",
        "Here are your choices:\n- the blue one\n- the red one",  # a list introduced as choices
        "### Plan\nEither is fine.\n- Approach: cook at home\n- Approach: order in",  # labelled items
        "## Option\nRent.\n## Alternative\nBuy.",  # labelled headings
    ],
    cp.check_no_punctuation: [
        "Take the train. It is faster than the bus!",
        "Don't worry about it. It is a well-known trick.",  # apostrophes and in-word hyphens
        "Boil it for 3.5 minutes at 10:30 and serve 1,000 guests from 1990–2000 recipes.",  # numbers
        "- Sleep early\n- Eat well\n1. Walk daily",  # list markers are formatting
        "# Tips\nUse **bold** words and/or 50% less sugar.",  # markup and symbols are not punctuation
        "The dogs' bowls are full. Wait... really?",  # possessive apostrophe, ellipsis, ?
        f"Use this.\n{FENCE}\nprint('a, b; c')\n{FENCE}\nSee https://x.org/a,b?c=1 now.",  # code, URL
        "",  # forbids something: an empty answer passes
    ],
    cp.check_rich_punctuation: [
        "Rent for now; buy later.",
        "The answer is simple — rent.",
        "Rent for now -- buy later.",  # typewriter em dash
        "It is not about food – it is about sharing.",  # spaced en dash is the same dash
        'He wrote "rent; then buy" on the card.',  # quoted text counts
    ],
    cp.check_markdown: [
        "## Tips\nSleep well.",
        "This is **important**.",
        "Be *very* careful.",
        "Tips\n====\nSleep well.",  # setext heading
    ],
    cp.check_clarify_first: [
        "What's your budget? Then I can pick a laptop.",
        "Sure! Which city are you flying to?",  # filler before the question is skipped
        "# Trip\nDo you mean the beach trip or the city one?",  # heading skipped
        "Do you want it for work or for games? 😊 Either way it helps.",
        "Why do you ask?",
        "**Which recipe do you mean?** I can help with either.",
    ],
}

FAILING = {
    cp.check_single_answer: [
        "Option 1: rent. Option 2: buy.",
        "Rent now. Alternatively, buy later.",
        "You could also try the bus.",
        "There are many ways to save money.",
        "It depends on your budget.",  # no menu, but no commitment either
        "Depending on your goals, rent or buy.",
        "Depending on how much time you have, walk.",
        "The best choice really depends on what you cook.",
        "One option is the night train.",
        "When choosing a mattress, there's no one-size-fits-all answer.",
        "That's really up to you.",
        "",  # asks for an answer
    ],
    cp.check_alternatives: [
        "Take the train.",
        "It depends on your budget.",  # offers no option: fails both
        "Use butter or oil.",
        "Tips:\n- sleep early\n- eat well",  # tips are not options
        "",
    ],
    cp.check_no_punctuation: [
        "Yes, take the train.",
        "Note: the train is faster.",
        "Rent now; buy later.",
        "Rent now — buy later.",
        "Think about it - will it fit?",  # a spaced hyphen used as a dash
        "Rent (for now).",
        'The sign said "open".',  # quote marks are punctuation, quoted text counts
        "He called it 'the big one' twice.",  # single quotes around a phrase
        "- **Note:** rest",  # punctuation inside list items counts
    ],
    cp.check_rich_punctuation: [
        "Rent now. Buy later.",
        "Rent now, then buy later: it is cheaper.",  # commas and colons are not enough
        "Think about it - will it fit?",  # a spaced hyphen is not an em dash
        "A well-known trick.",  # an in-word hyphen is not a dash
        f"Plain.\n{FENCE}\na = 1; b = 2\n{FENCE}",  # code does not count
        "",
    ],
    cp.check_markdown: [
        "Benefits:\nYou save money.",  # heading-like line without markup
        "Compute 2 * 3 * 4 with snake_case_name.",
        "- first bullet\n- second bullet",  # a list is not emphasis
        f"{FENCE}\n**not bold in code**\n{FENCE}\nDone.",
        "",
    ],
    cp.check_clarify_first: [
        "Take the train. Which day do you travel?",  # the question comes second
        "Which city?",  # does not address the user
        "Why do some people love spicy food? Because of capsaicin.",  # a restated question
        "Have you ever wondered why the sky is blue?",  # rhetorical
        "Did you know that cats sleep 16 hours?",
        "A new laptop, you say? What kind?",  # an echo
        'He asked "are you ready?"',  # a quoted question
        "Do you want it for work? 😊",  # '?' must end the sentence, as answer-first reads it
        "Here is what I need from you: your budget.",
        "Sure!",  # only filler
        "",
    ],
}


def _verdict_cases() -> list:
    return [pytest.param(fn, text, passes, id=f"{fn.__name__}-{'pass' if passes else 'fail'}-{i}")
            for passes, table in ((True, PASSING), (False, FAILING))
            for fn, texts in table.items() for i, text in enumerate(texts)]


def test_every_paper_checker_has_at_least_three_passing_and_failing_examples():
    for table in (PASSING, FAILING):
        assert {fn.__name__ for fn in table} == set(OWN_CHECKERS)
        assert all(len(texts) >= 3 for texts in table.values())


@pytest.mark.parametrize("checker, text, passes", _verdict_cases())
def test_checker_verdict_carries_evidence_only_when_it_fails(checker, text, passes):
    result = checker(text)
    assert result.passed == passes, result.evidence
    assert (result.evidence == "") == passes and len(result.evidence) < 220


# What the evidence of a failed check quotes, per checker: {text: expected fragment}.
EVIDENCE = {
    cp.check_single_answer: {
        "Rent. Alternatively, buy.": "'Alternatively' in 'Alternatively, buy.'",
        "It depends on your budget.": "does not commit: 'It depends'",
        "Options:\n- rent\n- buy": "'list of 2 options' in 'Options:'",
    },
    cp.check_alternatives: {"Rent.": "no second option"},
    cp.check_no_punctuation: {
        "Yes, rent: now; (soon).": "5 punctuation mark(s) ',' ':' ';' '(' ')'",
        "He said 'rent it' twice.": "\"'…'\"",  # a quoted phrase shows as its quote marks
    },
    cp.check_rich_punctuation: {"Rent, now.": "no semicolon or em dash"},
    cp.check_markdown: {"Plain.": "no markdown heading"},
    cp.check_clarify_first: {
        "Rent. Why?": "not a question: 'Rent.'",
        "Which city?": "does not ask the user: 'Which city?'",
        "Ever wondered why your cat stares?": "rhetorical",
    },
}


@pytest.mark.parametrize("checker", list(EVIDENCE), ids=lambda fn: fn.__name__)
def test_evidence_quotes_what_violated_the_preference(checker):
    for text, fragment in EVIDENCE[checker].items():
        assert fragment in checker(text).evidence, text


def _samples() -> list[str]:
    texts = [t for table in (PASSING, FAILING) for texts in table.values() for t in texts]
    return texts + [entry["text"] for entry in json.loads(REAL_OUTPUTS.read_text(encoding="utf-8"))]


def test_opposites_never_pass_together_and_markdown_is_the_exact_complement():
    pairs = [(cp.check_single_answer, cp.check_alternatives),
             (cp.check_no_punctuation, cp.check_rich_punctuation),
             (cp.check_clarify_first, check_answer_first)]
    for text in _samples():
        for a, b in pairs:
            assert not (a(text).passed and b(text).passed), (a.__name__, b.__name__, text)
        assert cp.check_markdown(text).passed != check_no_markdown_emphasis(text).passed, text


def test_single_answer_and_alternatives_both_fail_only_when_nothing_is_offered_or_committed():
    for text in ("", "It depends on your budget.", "Honestly, it's up to you."):
        assert not cp.check_single_answer(text).passed and not cp.check_alternatives(text).passed
    for text in _samples():
        if cp.check_single_answer(text).evidence.startswith("offers options"):
            assert cp.check_alternatives(text).passed, text


def test_the_paper_preferences_are_built_in_with_their_opposites_read_both_ways():
    opposites = {pid: pref.opposite for pid, pref in BUILTIN.items()}
    for a, b in (("single-answer", "alternatives"), ("no-punctuation", "rich-punctuation"),
                 ("markdown", "no-markdown-emphasis"), ("clarify-first", "answer-first")):
        assert are_opposites(a, b, opposites) and are_opposites(b, a, opposites)
        assert scenario_of([[a], [b]], opposites) == scenario_of([[b], [a]], opposites) == "flip"
    # The one-way ones leave their partner's own opposite as it was.
    assert BUILTIN["no-markdown-emphasis"].opposite is None and BUILTIN["answer-first"].opposite is None
    assert all(BUILTIN[pid].verifiable and BUILTIN[pid].min_tokens == 0 for pid in PAPER_IDS)


def test_no_punctuation_feedback_is_written_without_punctuation():
    # Not yet `applies_to_user` (the rules user's neutral thanks all carry a comma), but its
    # own complaints and praise already keep the wish.
    pref = BUILTIN["no-punctuation"]
    assert not pref.applies_to_user
    for line in pref.complaints + pref.praise:
        assert pref.check(line).passed, (line, pref.check(line).evidence)


# ------------------------------------------------------------------ real SmolLM2-135M answers


def _real_outputs() -> list[dict]:
    return json.loads(REAL_OUTPUTS.read_text(encoding="utf-8"))


@pytest.mark.parametrize("entry", _real_outputs(), ids=lambda e: f"{e['probe_id']}-{e['text'][:24]}")
def test_checkers_agree_with_hand_labels_on_real_smollm2_answers(entry):
    for pid, label in entry["labels"].items():
        result = BUILTIN[pid].check(entry["text"])
        assert result.passed == label, (pid, entry["note"], result.evidence)


def test_real_answers_come_from_the_committed_probe_logs_and_cover_every_checker():
    entries = _real_outputs()
    for entry in entries:
        lines = (REPO_ROOT / entry["source"]).read_text(encoding="utf-8").splitlines()
        responses = {(r["probe_id"], r["response"]) for r in map(json.loads, lines)}
        assert (entry["probe_id"], entry["text"]) in responses, entry["source"]
    for pid in PAPER_IDS:
        labels = [entry["labels"][pid] for entry in entries if pid in entry["labels"]]
        assert True in labels and False in labels and len(labels) >= 4, pid


@pytest.mark.parametrize("name", OWN_CHECKERS)
def test_paper_checkers_stay_fast_on_long_and_degenerate_text(name):
    checker = getattr(cp, name)
    for text in ("**a " * 3000, "'a " * 3000, "Option " * 3000, '"' * 5000, "- item\n" * 2000,
                 "word, " * 5000, "you? " * 3000, "there are many " * 2000):
        start = time.perf_counter()
        checker(text)
        # Linear checkers take milliseconds here; a quadratic regex takes seconds.
        assert time.perf_counter() - start < 0.5, text[:10]
