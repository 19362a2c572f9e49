"""The feedback-reading recipe's targets: programmatic rewrites of the model's own answers.

Each trained preference has a pure rewrite `(text, complete, rng) -> str | None` that turns an
answer into one its checker passes (None: no faithful rewrite, the example is skipped), and
its own follow-up wordings. Those wordings, and the irrelevant follow-ups, are written for the
recipe alone: the simulated users' complaints (persona/library.py) and the unrelated-feedback
control's messages (users/rules.py) are held out, so a measured gain is not the preset having
memorised the benchmark's sentences (tests/test_preset_recipe.py checks they never overlap).
"""

from __future__ import annotations

import random
import re
from typing import Callable, Mapping

from simbench.persona.text import prose, sentences, words

Rewrite = Callable[[str, bool, random.Random], "str | None"]

# Preferences the recipe trains on. Every other built-in preference is held out; HELD_OUT
# names the kinds the measurement reports on (none of them is a paraphrase of a trained one).
TRAINED = ("concise", "no-lists", "lists", "no-exclamation", "ends-with-question")
HELD_OUT = ("emojis", "formal", "answer-first", "no-first-person", "casual", "plain-language")


def _complete_sentences(text: str, complete: bool) -> list[str]:
    """The answer's sentences; the last one is dropped when generation stopped at the cap."""
    found = sentences(prose(text))
    return found if complete else found[:-1]


def _is_filler(sentence: str) -> bool:
    """A lead-in ("Here are some tips:") or an interjection ("Sure!", "Great question!")."""
    return sentence.rstrip().endswith(":") or (len(words(sentence)) <= 3 and sentence.rstrip().endswith("!"))


def _content(found: list[str]) -> list[str]:
    """`found` without its filler sentences, unless nothing else is left."""
    kept = [s for s in found if not _is_filler(s)]
    return kept or found


def _closed(sentence: str) -> str:
    """`sentence` ending in sentence punctuation (list items often end without it)."""
    sentence = sentence.strip().rstrip(":;,")
    return sentence if re.search(r"[.!?…][\"')\]*_]*$", sentence) else sentence + "."


def to_concise(text: str, complete: bool, rng: random.Random) -> str | None:
    """The first two content sentences (one when two are over 50 words) as one prose line."""
    found = _content(_complete_sentences(text, complete))
    for keep in (2, 1):
        short = " ".join(_closed(s) for s in found[:keep])
        if short and len(words(short)) <= 50 and len(found) >= 1:
            return short
    return None


def to_prose(text: str, complete: bool, rng: random.Random) -> str | None:
    """List lines and headings folded into connected sentences of one paragraph."""
    found = _content(_complete_sentences(text, complete))
    return " ".join(_closed(s) for s in found) if len(found) >= 2 else None


def to_list(text: str, complete: bool, rng: random.Random) -> str | None:
    """One bullet per content sentence (at least two), after a lead-in line when there is one."""
    found = _complete_sentences(text, complete)
    lead = [s for s in found[:2] if s.rstrip().endswith(":")][:1]
    points = _content(found)
    if len(points) < 2:
        return None
    marker = rng.choice(("- ", "* ", "numbered"))
    lines = [f"{i}. {_closed(s)}" if marker == "numbered" else marker + _closed(s) for i, s in enumerate(points, 1)]
    return "\n".join(lead + lines)


def without_exclamation(text: str, complete: bool, rng: random.Random) -> str | None:
    """Every '!' a full stop ('?!' a question mark); an incomplete tail sentence dropped."""
    found = _complete_sentences(text, complete)
    if not found:
        return None
    calm = " ".join(_closed(s) for s in found)
    return re.sub(r"!+", ".", re.sub(r"\?!+|!+\?", "?", calm))


_CLOSING_QUESTIONS = (
    "Does that answer what you were after?",
    "Which part would you like to look at next?",
    "Is that the kind of answer you needed?",
    "What do you think?",
    "Does that make sense for your situation?",
)


def ending_with_question(text: str, complete: bool, rng: random.Random) -> str | None:
    """The complete sentences followed by a short question back to the user."""
    found = _complete_sentences(text, complete)
    if not found:
        return None
    return " ".join(_closed(s) for s in found) + " " + rng.choice(_CLOSING_QUESTIONS)


REWRITES: Mapping[str, Rewrite] = {
    "concise": to_concise,
    "no-lists": to_prose,
    "lists": to_list,
    "no-exclamation": without_exclamation,
    "ends-with-question": ending_with_question,
}

# The recipe's own follow-ups per trained preference (never the simulated users' wordings).
FEEDBACK: Mapping[str, tuple[str, ...]] = {
    "concise": (
        "Way too long. I only wanted a quick line or two.",
        "Keep it short next time, a couple of sentences is plenty.",
        "Shorter please: just the gist.",
        "I don't need all that. A brief answer works better for me.",
        "Cut it down to the main point, no more than two sentences.",
    ),
    "no-lists": (
        "Skip the bullet points and just explain it in a normal paragraph.",
        "I find lists choppy. Write it as ordinary sentences.",
        "No lists please, tell it to me like you would in conversation.",
        "Could you give it as running text rather than points?",
    ),
    "lists": (
        "Break that up into bullet points for me.",
        "This would be easier as a list, one item per line.",
        "Use a list next time so I can skim it.",
        "Put each point on its own line as a list, please.",
    ),
    "no-exclamation": (
        "Tone it down, no exclamation marks please.",
        "Drop the exclamation points, a calm tone suits me better.",
        "Please stop using exclamation marks.",
        "Less excitable punctuation, just full stops.",
    ),
    "ends-with-question": (
        "Finish by asking me something, so I can tell you more.",
        "Close your answers with a question back to me.",
        "End with a question, I like to keep the conversation going.",
        "Ask me a follow-up question at the end next time.",
    ),
}

# Follow-ups that say nothing about the answer's style: the target is the answer unchanged.
IRRELEVANT = (
    "Thanks. Unrelated, what's a good way to store fresh herbs?",
    "Cool. By the way, how many continents are there?",
    "Okay. Do you know a good card game for two players?",
    "Got it. Random question, why do cats purr?",
    "Thanks for that. Also, what time zone is Tokyo in?",
    "Sure. Side question: how do I clean a cast iron pan?",
    "Alright. What's a nice name for a goldfish?",
    "Noted. Do bananas ripen faster in a paper bag?",
    "Fine. Unrelated, but how tall is Mount Everest?",
    "Okay, thanks. What's an easy dessert for a party?",
    "Interesting. How long does it take to learn to juggle?",
    "Right. Any tips for keeping a plant alive in a dark room?",
    "Thanks. I'm also planning a trip to Lisbon soon.",
    "I see. My sister just adopted a puppy, by the way.",
    "Good to know. It's been raining here all week.",
)


def rewrite(preference: str, text: str, complete: bool, rng: random.Random) -> str | None:
    """`text` rewritten to satisfy trained `preference` (None when it has no faithful rewrite)."""
    return REWRITES[preference](text, complete, rng)
