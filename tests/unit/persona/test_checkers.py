"""Each built-in checker on passing and failing examples, including the documented tricky cases."""

from __future__ import annotations

import time

import pytest

from simbench.persona import checkers as c

FENCE = "```"

# (checker, text) pairs grouped by checker; the comment says which documented decision a
# tricky example protects.
PASSING = {
    c.check_lists: [
        "Tips:\n- Sleep at the same time\n- Skip late coffee",
        "1. Preheat the oven.\n2. Mix the batter.\n3. Bake for 20 minutes.",
        "Options:\n* rent\n* buy\n\nBoth have costs.",
        "Steps:\na) wash\nb) dry",  # lettered items count
    ],
    c.check_no_lists: [
        "First, preheat the oven. Second, mix the batter. Finally, bake it.",  # prose enumeration
        "Rent if you may move soon; buy if you will stay for years.",
        "- Just one dash line is not a list.",  # a single item is not a list
        f"Run this:\n{FENCE}\n- a\n- b\n{FENCE}\nThat prints two lines.",  # list inside code
    ],
    c.check_concise: [
        "Boil it for nine minutes.",
        "Canberra is the capital. Sydney is larger.",
        f"Use this loop.\n{FENCE}python\nfor i in range(10):\n    print(i)\n{FENCE}",  # code is free
        "See https://example.com/a.b.c for the details.",  # URL dots are not sentence ends
    ],
    c.check_detailed: [
        " ".join(["Sleep matters because the body repairs itself at night."] * 17),
        "word " * 150,
        "- " + "\n- ".join(["Keep a fixed bedtime every single night of the week"] * 15),
    ],
    c.check_elaborate: [
        "Boil the eggs for nine minutes. Then cool them in cold water so the shells come off "
        "cleanly. The cold also stops the yolk from turning grey at the edges.",
        # a 64-token answer cut mid-sentence: the fragment counts as a sentence, as for concise
        "Sleep helps the brain store memories. It also clears waste from the day. Adults need "
        "seven to nine hours, and teenagers need a little more because their bodies are still",
        # each list item is a sentence, as for concise
        "- Keep the same bedtime every night of the week\n- Avoid bright screens for an hour before "
        "you sleep\n- Keep the bedroom cool, dark and quiet so you wake up less often",
    ],
    c.check_emojis: [
        "Have fun baking 🍰",
        "Great idea ❤️ go for it",  # VS-16 makes a symbol an emoji
        'The sign said "Welcome 👋" at the door.',  # emojis inside quotes are still seen
        "Flag: 🇫🇷 and keycap 1️⃣",
    ],
    c.check_no_emojis: [
        "Plain text only.",
        f"{FENCE}\nprint('🙂')\n{FENCE}\nThat prints a smiley.",  # emoji inside code ignored
        "Done :) and ✓ checked ★ starred → next",  # emoticons and text symbols are not emojis
    ],
    c.check_casual: [
        "Yeah, it's totally fine to freeze bread.",
        "You'll love it. Don't overthink it.",
        "Gonna be honest: rent for now.",
        "Hey, let's keep it simple.",
    ],
    c.check_formal: [
        "It is safe to freeze bread for three months.",
        "John's recipe calls for two cups of flour.",  # possessive is not a contraction
        'The film is titled "Don\'t Look Up" and it is a satire.',  # quoted title ignored
        "The meeting begins at nine o'clock.",
    ],
    c.check_no_filler_praise: [
        "Brown rice is a good choice for fibre.",  # praise words inside a content sentence
        "Boil the egg for nine minutes.",
        "Sleep needs routine. Later on, a great question to ask a doctor is about apnea.",
        "Good sleep starts with a fixed bedtime.",
    ],
    c.check_no_closing_offer: [
        "Boil it for nine minutes.",
        "Let me know if it is cooked by pressing it. It should feel firm. Serve warm. Enjoy.",
        "Bake for twenty minutes. Happy baking.",  # a sign-off offers nothing
    ],
    c.check_no_exclamation: [
        "Boil it for nine minutes.",
        'He shouted "Stop!" and the car halted.',  # quoted speech ignored
        f"Compare with:\n{FENCE}\nif a != b: print('no!')\n{FENCE}\nIt prints no.",  # code ignored
        "See https://example.com/#!/page for details. ![diagram](pic.png)",  # URL, image
    ],
    c.check_no_first_person: [
        "Canberra is the capital of Australia.",
        'The song "I Will Survive" was a hit in 1978.',  # quoted I ignored
        "World War I ended in 1918. Type I diabetes is autoimmune.",  # roman numerals
        "We need water to live, so let's drink more.",  # plural first person allowed
        "I. Introduction\nII. Method",  # outline numbering
        "Disk I/O is slow; take I-95 north.",  # codes, not the pronoun
    ],
    c.check_no_markdown_emphasis: [
        "Benefits:\nYou save money.",  # heading-like line without markup
        "Compute 2 * 3 * 4 with snake_case_name.",
        "- first bullet\n- second bullet",
        f"{FENCE}\n**not bold in code**\n{FENCE}\nDone.",
        "Para one.\n\n---\n\nPara two.",  # a rule after a blank line is not a heading
    ],
    c.check_answer_first: [
        "Boil the egg for nine minutes, then cool it in ice water.",
        "Yes. Coffee in moderation is fine for most adults.",
        "# Boiling eggs\nNine minutes gives a firm yolk.",  # heading skipped
        "It depends on the flour: bread flour needs more water.",
        "Running on hard roads can hurt your knees.",  # 'hard' is content, not difficulty talk
    ],
    c.check_no_hedging: [
        "Boil it for nine minutes.",
        "You may store it for a week.",  # modal verbs are not hedges
        'The song "Maybe" is catchy.',  # quoted title ignored
    ],
    c.check_ends_with_question: [
        "Rent for now. Where do you plan to live?",
        "Which one do you like? 😊",  # trailing emoji ignored
        "Try both. Ready to start?!",
        "See https://example.com/q?x=1. What do you think?",
    ],
    c.check_plain_language: [
        "Boil the eggs for nine minutes. Then put them in cold water. Peel them when cool.",
        "Save money by making a list. Buy store brands. Cook at home more often.",
        "Water the plant once a week. Give it some light. Step-by-step care is easy.",
    ],
}

FAILING = {
    c.check_lists: [
        "First, preheat the oven. Second, mix the batter.",  # prose enumeration is not a list
        "- Just one dash line.",
        f"{FENCE}\n- a\n- b\n{FENCE}",  # list inside code does not count
        "",
    ],
    c.check_no_lists: [
        "- a\n- b",
        "Steps:\n1) wash\n2) dry\n3) fold",
        "Mix:\n  * flour\n  * sugar",
    ],
    c.check_concise: [
        "One. Two. Three.",
        " ".join(["word"] * 51) + ".",
        "- a\n- b\n- c",  # each list item counts as a sentence
        "",  # an empty answer is not a concise answer
    ],
    c.check_detailed: [
        "Boil it for nine minutes.",
        "word " * 149,
        f"Short.\n{FENCE}\n" + "code " * 300 + f"\n{FENCE}",  # code does not count
    ],
    c.check_elaborate: [
        "Boil it for nine minutes. Then cool it.",  # two sentences is concise, not elaborate
        "Yes. No. Maybe. Fine.",  # enough sentences, too few words
        f"Use this.\n{FENCE}\n" + "code " * 100 + f"\n{FENCE}\nDone. Really.",  # code does not count
        "",
    ],
    c.check_emojis: [
        "Plain text only.",
        f"{FENCE}\n🙂\n{FENCE}",
        "Nice :)",  # an emoticon is not an emoji
    ],
    c.check_no_emojis: [
        "Have fun 🎉",
        'The sign said "Welcome 👋".',
        "Stay warm ☃️ and ✨ shine",
        "👍🏽",
    ],
    c.check_casual: [
        "It is safe to freeze bread.",
        "Yeah. " + "word " * 160,  # one marker is too few for 160 words
        "",
        'He said "don\'t" twice.',  # quoted contraction does not count
    ],
    c.check_formal: [
        "It's fine.",
        "You'll love it.",
        "Let's begin.",
        "Hey there, welcome.",
    ],
    c.check_no_filler_praise: [
        "Great question! Boil it for nine minutes.",
        "Sure. What a fascinating topic to explore.",  # second sentence still the opener
        "Thanks for asking. Canberra is the capital.",
        "**Excellent question!** The answer is yes.",
    ],
    c.check_no_closing_offer: [
        "Boil it for nine minutes. Let me know if you need more tips.",
        "Boil it. Feel free to ask anything else.",
        "Boil it for nine minutes. I hope this helps!",
        "Boil it. Would you like me to suggest sauces?",
    ],
    c.check_no_exclamation: [
        "Enjoy!",
        "Really?! That is surprising.",
        "He left! She stayed.",
    ],
    c.check_no_first_person: [
        "I think Canberra is the capital.",
        "In my experience, rent first.",
        "Let me explain.",
        "I'm sure it works.",
    ],
    c.check_no_markdown_emphasis: [
        "## Tips\nSleep well.",
        "This is **important**.",
        "Use __flour__ only.",
        "Tips\n====\nSleep well.",  # setext heading
        "Be *very* careful.",
    ],
    c.check_answer_first: [
        "Sure! Boil it for nine minutes.",
        "Here are some tips for better sleep:\n- a\n- b",
        "Great question! The answer is nine minutes.",
        "There are several ways to save money on groceries.",
        "Are you looking for a soft or a hard yolk?",
        "Choosing a first houseplant can be overwhelming.",
        "Making friends in a new city can be a daunting task, but it gets easier.",
        "The age-old question of getting better sleep. Keep a schedule.",
        "The answer to this question lies in the scattering of light.",
        "The quest for better sleep. Keep a schedule.",  # a title, not an answer
        "",
    ],
    c.check_no_hedging: [
        "It is probably fine.",
        "Perhaps try rice.",
        "In general, buying is cheaper.",
        "Coffee tends to raise blood pressure.",
    ],
    c.check_ends_with_question: [
        "Rent for now.",
        "Where? Anywhere you like.",
        "See https://example.com/search?q=1",  # '?' inside a URL does not count
        'He asked "why?"',  # a quoted question is not a question to the user
        f"Is this right?\n{FENCE}\nprint('ok?')\n{FENCE}\nThat prints ok.",
    ],
    c.check_plain_language: [
        "Utilize a timer.",  # jargon
        " ".join(["word"] * 25) + ".",  # 25-word sentence
        "Photosynthesis transforms electromagnetic radiation into chemical energy efficiently.",
        "",
    ],
}


def _cases(table: dict) -> list:
    return [pytest.param(fn, text, id=f"{fn.__name__}-{i}") for fn, texts in table.items()
            for i, text in enumerate(texts)]


def test_every_checker_has_at_least_three_passing_and_failing_examples():
    checkers = {name for name in dir(c) if name.startswith("check_")}
    assert {fn.__name__ for fn in PASSING} == checkers == {fn.__name__ for fn in FAILING}
    assert all(len(v) >= 3 for v in PASSING.values())
    assert all(len(v) >= 3 for v in FAILING.values())


@pytest.mark.parametrize("checker, text", _cases(PASSING))
def test_checker_passes_example_with_empty_evidence(checker, text):
    result = checker(text)
    assert result.passed, result.evidence
    assert result.evidence == ""


@pytest.mark.parametrize("checker, text", _cases(FAILING))
def test_checker_fails_example_with_evidence(checker, text):
    result = checker(text)
    assert not result.passed
    assert result.evidence


@pytest.mark.parametrize(
    "checker, text, quoted",
    [
        (c.check_no_emojis, "Have fun 🎉 and 🎂", "🎉 🎂"),
        (c.check_no_exclamation, "Calm here. Wow, look!", "Wow, look!"),
        (c.check_no_first_person, "In my view, rent.", "'my'"),
        (c.check_concise, "One. Two. Three.", "3 sentences, 3 words"),
        (c.check_detailed, "Short answer.", "only 2 words"),
        (c.check_elaborate, "Short answer. Done.", "2 sentences, 3 words"),
        (c.check_no_hedging, "It is probably fine.", "'probably'"),
        (c.check_no_closing_offer, "Boil it. Feel free to ask.", "Feel free to ask."),
        (c.check_answer_first, "Sure! Nine minutes.", "'Sure!'"),
        (c.check_no_lists, "- eggs\n- milk", "list of 2 items, first '- eggs'"),
        (c.check_formal, "It's fine.", "\"It's\""),
        (c.check_plain_language, "We must leverage synergy.", "'leverage', 'synergy'"),
        (c.check_no_markdown_emphasis, "Be **bold**.", "'**bold**'"),
        (c.check_ends_with_question, "Rent. Buy.", "'Buy.'"),
    ],
)
def test_evidence_quotes_what_violated_the_preference(checker, text, quoted):
    assert quoted in checker(text).evidence


def test_sentences_split_on_punctuation_lines_and_list_items_but_not_abbreviations():
    text = c.prose(
        "Great question! Dr. Smith agrees, e.g. on rest. See www.x.org/a.b now.\n"
        "Tips:\n- eat well\n- sleep\n  longer\n## Heading\nWrapped\nline. Done 😊"
    )
    assert c.sentences(text) == [
        "Great question!", "Dr. Smith agrees, e.g. on rest.", "See link now.", "Tips:",
        "eat well", "sleep longer", "Heading", "Wrapped line.", "Done 😊",
    ]


def test_prose_drops_code_and_masks_urls_but_keeps_sentence_punctuation():
    text = f"Run `ls -la` now.\n{FENCE}bash\necho hi!\n{FENCE}\nVisit https://a.io/x?y=1."
    body = c.prose(text)
    assert "echo" not in body and "ls -la" not in body
    assert body.rstrip().endswith("Visit link.")


def test_unclosed_code_fence_hides_the_rest_of_the_text():
    assert c.check_no_exclamation(f"Calm text.\n{FENCE}\nprint('hi!')").passed


def test_words_count_contractions_and_hyphenations_once_and_skip_list_markers():
    assert c.words("1. Don't over-think it.\n- Well-known tip") == [
        "Don't", "over-think", "it", "Well-known", "tip"
    ]


def test_curly_apostrophes_count_as_contractions():
    assert not c.check_formal("It’s fine.").passed
    assert c.check_casual("It’s fine.").passed


def test_opposite_pairs_never_both_pass():
    samples = [text for table in (PASSING, FAILING) for texts in table.values() for text in texts]
    pairs = [(c.check_lists, c.check_no_lists), (c.check_emojis, c.check_no_emojis),
             (c.check_concise, c.check_detailed), (c.check_casual, c.check_formal),
             (c.check_elaborate, c.check_concise)]
    for want, avoid in pairs:
        for text in samples:
            assert not (want(text).passed and avoid(text).passed), (want.__name__, text)


def test_middle_length_answer_fails_both_length_preferences():
    text = " ".join(["Sleep well tonight."] * 30)
    assert not c.check_concise(text).passed and not c.check_detailed(text).passed


def test_checkers_stay_fast_on_long_and_degenerate_text():
    texts = ["**a " * 3000, "_a " * 3000, "Great! " * 3000, '"' * 5000, "- item\n" * 2000,
             "word. " * 5000]
    for text in texts:
        for name in dir(c):
            if name.startswith("check_"):
                start = time.perf_counter()
                getattr(c, name)(text)
                # Linear checkers take milliseconds here; a quadratic regex takes seconds.
                assert time.perf_counter() - start < 0.5, (name, text[:10])
