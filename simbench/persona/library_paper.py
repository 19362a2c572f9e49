"""Verifiable preferences added for the paper's user profiles (single answer, punctuation,
markdown wanted, clarifying question first, ...): id, checker, opposite and feedback phrasings.

Same conventions as `library.py`; `library.BUILTIN` holds these beside the original set.
Checkers live in `checkers_paper.py`. `markdown` and `clarify-first` name opposites that keep
their own (`no-markdown-emphasis` has none, `answer-first` has none): opposites are read both
ways (persona/scenario.py `are_opposites`), so a switch between them is still a flip.
"""

from __future__ import annotations

from simbench.persona import checkers_paper
from simbench.persona.preference import Preference

PREFERENCES: tuple[Preference, ...] = (
    Preference(
        id="single-answer",
        prompt_dependent=True,
        description="One clear recommendation: commit to the single best answer instead of laying out options.",
        checker=checkers_paper.check_single_answer,
        keywords=("one", "single", "pick", "choose", "choice", "commit", "decide", "call", "recommend", "best"),
        opposite="alternatives",
        complaints=(
            "Just pick the one you think is best and tell me that.",
            "Please commit to a single recommendation instead of giving me a menu.",
            "Choose for me next time and give me your top pick.",
            "Make the call yourself and recommend one thing.",
            "Tell me the one best answer so I do not have to decide.",
        ),
        praise=(
            "Great, one clear pick is exactly what I needed.",
            "Thanks for just making the call.",
            "Perfect, a single recommendation makes it easy.",
        ),
    ),
    Preference(
        id="alternatives",
        prompt_dependent=True,
        description="A few options to choose from: at least two distinct alternatives, each briefly explained.",
        checker=checkers_paper.check_alternatives,
        keywords=("option", "alternative", "choice", "choose", "compare", "approach", "different", "several", "few"),
        opposite="single-answer",
        complaints=(
            "Give me a couple of options to choose from, not just one.",
            "Could you lay out two or three alternatives so I can compare?",
            "I'd like to see different approaches side by side next time.",
            "Show me a few choices and let me decide which suits me.",
            "Offer at least one other option alongside your main suggestion.",
        ),
        praise=(
            "Nice, having a few options to pick from helps.",
            "Great, now I can compare the choices.",
            "Thanks, seeing the alternatives side by side is useful.",
        ),
    ),
    Preference(
        id="no-punctuation",
        description="Short plain sentences with no punctuation except the mark that ends each sentence.",
        checker=checkers_paper.check_no_punctuation,
        keywords=("punctuation", "period", "full stop", "plain sentence", "short sentence", "simple sentence", "mark"),
        # A user who writes this way would also have to thank without a comma; the rules
        # user's neutral thanks all carry one (users/rules.py THANKS), so this wish does not
        # bind the user's own messages yet. Complaints and praise are written without it.
        applies_to_user=False,
        opposite="rich-punctuation",
        complaints=(
            "Please write short plain sentences that end with a period and use no other punctuation.",
            "Could you drop the extra punctuation marks and just end each sentence with a full stop?",
            "Keep it to simple sentences with a period at the end of each one and nothing in between.",
            "I find extra punctuation distracting so please split long sentences into short ones instead.",
            "Next time write plain words and put a full stop at the end of each sentence.",
        ),
        praise=(
            "That reads really cleanly with plain sentences.",
            "Nice and simple sentences this time.",
            "Perfect. Short plain sentences are easy on my eyes.",
        ),
    ),
    Preference(
        id="rich-punctuation",
        description="Carefully punctuated prose that links related clauses with semicolons or em dashes.",
        checker=checkers_paper.check_rich_punctuation,
        keywords=("punctuat", "semicolon", "dash", "clause", "join", "link"),
        opposite="no-punctuation",
        complaints=(
            "Could you vary the punctuation a bit? Link related clauses with a semicolon now and then.",
            "Your sentences all sound the same; try a dash or a semicolon to join related thoughts.",
            "I like prose with some texture — use an em dash or a semicolon where ideas connect.",
            "Please use richer punctuation next time: a well-placed semicolon makes prose flow.",
            "Join a couple of related sentences with a semicolon, or set an aside off with dashes.",
        ),
        praise=(
            "Nice — that semicolon made it flow.",
            "Good; the dashes give it real rhythm.",
            "Lovely punctuation this time, it reads like an essay.",
        ),
    ),
    Preference(
        id="markdown",
        description="Markdown-formatted answers with a heading or bold and italic text for the key points.",
        checker=checkers_paper.check_markdown,
        keywords=("markdown", "format", "heading", "header", "bold", "italic", "emphasis", "structure", "stand out"),
        # One-way: `no-markdown-emphasis` keeps no opposite of its own.
        opposite="no-markdown-emphasis",
        complaints=(
            "Could you format that with markdown? A heading and some bold key terms help me skim.",
            "Please put the key words in bold next time so they stand out.",
            "Add a heading or two so I can see the structure at a glance.",
            "Use some markdown formatting, like bold for the important parts.",
            "My viewer renders headers and italics nicely, so please use them.",
        ),
        praise=(
            "Nice, the headings make it easy to skim.",
            "Great, the bold terms jump out at me.",
            "Perfect, that formatting renders beautifully for me.",
        ),
    ),
    Preference(
        id="clarify-first",
        prompt_dependent=True,
        description="When a request is ambiguous, a clarifying question to the user before any answer.",
        checker=checkers_paper.check_clarify_first,
        keywords=("clarif", "ask me", "ask what", "asking", "check with me", "question", "guess", "before answering", "before you answer"),
        # One-way: `answer-first` keeps no opposite; a first sentence ending in '?' fails it,
        # so the two never pass together.
        opposite="answer-first",
        complaints=(
            "Ask me a clarifying question first when my request is vague.",
            "Before you answer, check with me what I actually mean.",
            "Please start by asking what I need instead of guessing.",
            "If my request could mean several things, ask me which one before answering.",
            "Open with a question about my situation so the answer fits me.",
        ),
        praise=(
            "Good call asking me first.",
            "Thanks for checking what I meant before answering.",
            "Nice, that question helps me narrow it down.",
        ),
    ),
)
