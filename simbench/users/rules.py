"""The `rules` simulated user: checkers decide, varied templates phrase the follow-up.

Deterministic given the rng; no model involved, so it is the fast reference user and the
source of the pool of unrelated messages the unrelated-feedback control arm reuses.
"""

from __future__ import annotations

import random
from typing import Sequence

from simbench.errors import InputError
from simbench.persona.preference import Preference
from simbench.scoring import CHECKERS_ONLY, Scorer
from simbench.users.base import FollowUp, FollowUpRequest, UserContext, follow_up_each

# Openers that do not end a sentence ("Hmm, ", "Close, but ") run on, so the complaint after
# them is lowercased; the others ("Not quite. ") stand alone.
_OPENERS = (
    "",
    "",
    "Hmm, ",
    "Thanks, but ",
    "Okay, ",
    "One thing: ",
    "Quick note: ",
    "Close, but ",
    "Got it, but ",
    "Not quite. ",
    "Thanks. ",
    "Appreciate it, but ",
    "Hm. ",
)
_CONNECTORS = ("Also, ", "And ", "Plus, ", "On top of that, ", "One more thing: ", "")
_CLOSERS = ("", "", "", " Thanks!", " Could you redo it that way?", " Can you try again?", " Thanks.")

THANKS = (
    "Thanks, that works.",
    "Great, thank you.",
    "Perfect, thanks!",
    "That's helpful, thanks.",
    "Thanks, that's what I needed.",
    "Got it, thanks.",
    "Nice, appreciate it.",
    "Okay, thanks!",
    "Good, thank you.",
    "That works for me, thanks.",
)

UNRELATED_MESSAGES = (
    "By the way, what's a good name for a cat?",
    "Unrelated, but do you know a good pasta recipe for tonight?",
    "Random question: how far away is the moon?",
    "Also, what's the capital of Australia again?",
    "Side note, any tips for falling asleep faster?",
    "Off topic, but what's a fun board game for four people?",
    "By the way, how do I get a coffee stain out of a shirt?",
    "Quick one: is it going to be cold in Oslo in March?",
    "Totally unrelated: what should I read on a long flight?",
    "Can you suggest a name for my new houseplant?",
    "What's a good stretch for a stiff neck?",
    "By the way, how long should I boil an egg for a soft yolk?",
    "Unrelated, but how many legs does a spider have?",
    "Do you know any good podcasts about history?",
    "Random thought: why is the sky blue?",
    "Also, what's a nice gift for a coworker who is leaving?",
    "Off topic: how often should I water a cactus?",
    "What's the difference between a crocodile and an alligator?",
    "By the way, can you recommend a movie for a rainy evening?",
    "Quick question, how do you say 'good morning' in Italian?",
    "Unrelated: what's a good warm-up before running?",
    "Any idea what to cook with leftover rice?",
    "By the way, who painted the Mona Lisa?",
    "Side question: how do I keep basil alive indoors?",
    "What's a good way to remember people's names?",
    "Totally different topic, but what's a haiku about autumn?",
    "Also, how many time zones does Russia have?",
    "Random: what's the tallest mountain in Africa?",
    "By the way, should I get a dog or a cat?",
    "Off topic, how do I fix a squeaky door hinge?",
    "Unrelated, but what's a good first instrument to learn?",
    "What do penguins eat?",
    "By the way, how do I politely decline a meeting?",
    "Quick one: what's a good snack before a workout?",
    "Any tips for packing light for a weekend trip?",
)


def unrelated_message(rng: random.Random) -> str:
    """One natural user message unrelated to the conversation (the control arm's feedback)."""
    return rng.choice(UNRELATED_MESSAGES)


class RulesUser:
    """A simulated user whose checkers decide and whose templates phrase the follow-up.

    Violated preferences: complain about one or two of them (chosen by rng), with varied
    openers, connectors and closers around the preference's own `complaints`. None
    violated: praise a kept preference (`praise_rate`) or send a neutral thanks. With
    probability `irrelevant_rate` the user instead sends an unrelated message (noise by
    design; it reacts to nothing, but `meta["checked"]` still holds the checkers' truth).
    """

    def __init__(self, irrelevant_rate: float = 0.0, praise_rate: float = 0.5, scorer: Scorer = CHECKERS_ONLY) -> None:
        for name, value in (("irrelevant_rate", irrelevant_rate), ("praise_rate", praise_rate)):
            if not 0.0 <= value <= 1.0:
                raise InputError(f"user.{name}", f"must be in [0, 1], got {value!r}")
        self.irrelevant_rate = irrelevant_rate
        self.praise_rate = praise_rate
        self.scorer = scorer

    def __repr__(self) -> str:
        return f"RulesUser(irrelevant_rate={self.irrelevant_rate}, praise_rate={self.praise_rate})"

    def follow_up(
        self,
        prompt: str,
        response: str,
        active: Sequence[Preference],
        rng: random.Random,
    ) -> FollowUp:
        # None: a rubric wish nobody scored (no judge); the user cannot tell, so it does not react.
        checked = self.scorer.verdicts(prompt, response, active)
        # Always draw the noise coin first so the rest of the stream does not depend on the rate.
        if rng.random() < self.irrelevant_rate:
            return FollowUp(
                unrelated_message(rng), (), {"irrelevant": True, "checked": checked, "kind": "irrelevant"}
            )
        keep = voiced_by_user(active)
        violated = [p for p in active if checked[p.id] is False]
        if violated:
            mentioned = _pick_mentioned(violated, rng)
            text = compose_complaint(mentioned, rng, keep)
            meta = {"irrelevant": False, "checked": checked, "kind": "complaint"}
            return FollowUp(text, tuple(p.id for p in mentioned), meta)
        praisable = [p for p in active if p.praise]
        if praisable and rng.random() < self.praise_rate:
            text = rng.choice(consistent(rng.choice(praisable).praise, keep))
            return FollowUp(text, (), {"irrelevant": False, "checked": checked, "kind": "praise"})
        text = rng.choice(consistent(THANKS, keep))
        return FollowUp(text, (), {"irrelevant": False, "checked": checked, "kind": "thanks"})

    @classmethod
    def from_config(cls, context: UserContext) -> "RulesUser":
        """The rules user draws the persona's irrelevant follow-ups itself."""
        return cls(**{"irrelevant_rate": context.irrelevant_rate, **context.options}, scorer=context.scorer)

    @classmethod
    def check_options(cls, context: UserContext) -> None:
        cls.from_config(context)  # builds nothing heavy

    def follow_up_many(self, requests: Sequence[FollowUpRequest]) -> list[FollowUp]:
        return follow_up_each(self, requests)


def _pick_mentioned(violated: list[Preference], rng: random.Random) -> list[Preference]:
    """One or two of the violated preferences, kept in the persona's order."""
    if len(violated) == 1:
        return violated
    chosen = sorted(rng.sample(range(len(violated)), rng.choice((1, 2))))
    return [violated[i] for i in chosen]


def voiced_by_user(active: Sequence[Preference]) -> list[Preference]:
    """The active preferences a user's own messages must keep (`applies_to_user`): a user who
    wants a calm tone does not write "Thanks!"."""
    return [p for p in active if p.applies_to_user]


def consistent(options: Sequence[str], keep: Sequence[Preference]) -> Sequence[str]:
    """The options that pass every checker in `keep` (all of them when none does); an
    empty option (no opener, no closer) always stays.

    Returns `options` itself when nothing is removed, so the rng draws, and hence the
    follow-ups of personas without such wishes, stay as they were.
    """
    if not keep:
        return options
    kept = [o for o in options if not o.strip() or all(p.check(o).passed for p in keep)]
    if len(kept) == len(options):
        return options
    return kept or options


def compose_complaint(
    mentioned: Sequence[Preference], rng: random.Random, keep: Sequence[Preference] = ()
) -> str:
    """Join the complaints of `mentioned` into one natural message with varied framing.

    Every piece (complaint, opener, connector, closer) is drawn among those that keep the
    user's own wishes `keep`; should the joined message still break one of them (a checker
    that counts over the whole text), the message is the first complaint alone.
    """
    parts = [_complaint_for(p, rng, keep) for p in mentioned]
    opener = rng.choice(consistent(_OPENERS, keep))
    text = _attach(opener, parts[0])
    for part in parts[1:]:
        text += " " + _attach(rng.choice(consistent(_CONNECTORS, keep)), part)
    # Do not thank twice ("Thanks, but ... Thanks.").
    closers = [c for c in _CLOSERS if "Thanks" not in c] if "Thanks" in opener else _CLOSERS
    text += rng.choice(consistent(closers, keep))
    if all(p.check(text).passed for p in keep):
        return text
    return parts[0]


def _complaint_for(preference: Preference, rng: random.Random, keep: Sequence[Preference] = ()) -> str:
    if preference.complaints:
        return _as_sentence(rng.choice(consistent(preference.complaints, keep)))
    # Persona-local preferences may come without phrasings: fall back to the description,
    # which is written as what the user wants.
    return _as_sentence(f"Please stick to this: {preference.description.strip()}")


def _attach(prefix: str, sentence: str) -> str:
    """`prefix + sentence`, lowercasing the sentence's first letter when the prefix runs on."""
    if prefix and not prefix.rstrip().endswith((".", "!", "?")):
        sentence = _lower_first(sentence)
    return prefix + sentence


def _lower_first(sentence: str) -> str:
    first_word = sentence.split(" ", 1)[0]
    # Keep "I", "I'd", acronyms and similar as written.
    if first_word == "I" or first_word.startswith("I'") or (len(first_word) > 1 and first_word[:2].isupper()):
        return sentence
    return sentence[:1].lower() + sentence[1:]


def _as_sentence(text: str) -> str:
    text = " ".join(text.split())
    if text and text[-1] not in ".!?":
        text += "."
    return text
