"""The built-in preferences: id, what the user wants, checker, opposite and feedback phrasings.

Personas refer to these by id; complaints say what to do next time and never quote the
unwanted phrase, because small models get primed by whatever a follow-up mentions. All of
them, and any a plugin adds, live in the `PREFERENCES` registry.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

from simbench.persona import checkers, library_paper, library_rubric
from simbench.persona.preference import Preference
from simbench.registry import Registry, suggest

_PREFERENCES = (
    Preference(
        id="lists",
        prompt_dependent=True,
        description="Answers laid out as a bulleted or numbered list, one point per line.",
        checker=checkers.check_lists,
        keywords=("list", "bullet", "numbered", "point", "line"),
        opposite="no-lists",
        complaints=(
            "Could you put that in a bulleted list? It's much easier for me to scan.",
            "Next time break it into bullet points, one idea per line.",
            "I'd rather see this as a numbered list of steps.",
            "Please format the key points as a short list.",
            "Can you lay the main points out line by line as a list?",
        ),
        praise=(
            "Nice, the list makes it easy to follow.",
            "Perfect, bullet points are exactly what I like.",
            "Thanks, that layout is really easy to scan.",
        ),
    ),
    Preference(
        id="no-lists",
        description="Answers written as flowing paragraphs of connected sentences, not lists.",
        checker=checkers.check_no_lists,
        keywords=("paragraph", "prose", "sentence", "connect", "essay", "list"),
        applies_to_user=True,
        opposite="lists",
        complaints=(
            "Could you write that as a couple of flowing paragraphs instead?",
            "Please answer in normal prose, with full sentences that connect.",
            "I'd prefer a paragraph that explains it the way you'd talk to me.",
            "Write it out as connected sentences next time, like a short essay.",
            "Please turn that into a paragraph; I like reading ideas linked together.",
        ),
        praise=(
            "Thanks, that reads nicely as a paragraph.",
            "Good, I like the flowing explanation.",
            "Perfect, connected sentences are how I like it.",
        ),
    ),
    Preference(
        id="concise",
        description="Very short answers: at most two sentences, getting straight to the point.",
        checker=checkers.check_concise,
        keywords=("short", "brief", "sentence", "trim", "concise", "long", "length", "essential", "word"),
        opposite="detailed",
        complaints=(
            "That's more than I need. Give me the answer in one or two sentences.",
            "Shorter please: just the key point in a sentence or two.",
            "Can you keep it to a couple of sentences next time?",
            "Just the short version, please. Two sentences at most.",
            "Trim it down to the essentials; a brief reply is all I want.",
        ),
        praise=(
            "Perfect, short and to the point.",
            "Great, that's exactly the length I like.",
            "Thanks, nice and brief.",
        ),
    ),
    Preference(
        id="detailed",
        description="Thorough, in-depth answers that explain the reasons and give examples.",
        checker=checkers.check_detailed,
        keywords=("detail", "depth", "explain", "explanation", "example", "expand", "thorough", "longer", "reason", "elaborat", "fuller"),
        opposite="concise",
        min_tokens=checkers.DETAILED_MIN_WORDS,
        complaints=(
            "Can you go into more depth? Explain the why and give an example.",
            "That's too brief for me. Walk me through it in detail.",
            "I'd like a fuller explanation with some background and examples.",
            "Please expand on that; a few solid paragraphs would help.",
            "Tell me more: the reasons behind it, the steps, and what to watch for.",
        ),
        praise=(
            "Thanks, that level of detail is really helpful.",
            "Great, I like how thoroughly you explained it.",
            "Perfect, that's the depth I was after.",
        ),
    ),
    Preference(
        id="elaborate",
        description="Answers of a few sentences that give the reason, not a one-liner.",
        checker=checkers.check_elaborate,
        keywords=("few sentences", "more", "reason", "why", "explain", "short", "brief", "expand", "elaborat", "sentence"),
        # One-way: `concise` keeps `detailed` as its own opposite; a concise -> elaborate
        # schedule is still a flip (opposites are read in both directions).
        opposite="concise",
        min_tokens=checkers.ELABORATE_MIN_WORDS,
        complaints=(
            "That's too short for me. Give me a few sentences and the reason behind it.",
            "Could you say a bit more? Three or four sentences with the why would help.",
            "I'd like a little more than that: explain it in a few sentences.",
            "Please add the reasoning next time, a few sentences rather than one line.",
            "Expand on it a bit: a short paragraph of a few sentences is what I'm after.",
        ),
        praise=(
            "Thanks, a few sentences with the reason is just right.",
            "Good, that explains it without going on too long.",
            "Perfect, I like getting the why along with the answer.",
        ),
    ),
    Preference(
        id="emojis",
        description="Friendly answers with a few emojis sprinkled in.",
        checker=checkers.check_emojis,
        keywords=("emoji", "friendl", "cheer", "fun", "playful", "liven"),
        opposite="no-emojis",
        complaints=(
            "Could you sprinkle in some emojis? It feels friendlier.",
            "Throw in an emoji or two next time, I like that.",
            "This feels a bit dry. Add a few emojis to make it fun.",
            "Please include emojis in your answers, they brighten it up for me.",
            "Liven it up with a couple of emojis, please.",
        ),
        praise=(
            "Love the emojis, keep them coming.",
            "Nice, the emojis make it fun to read.",
            "Great, that's the cheerful style I like.",
        ),
    ),
    Preference(
        id="no-emojis",
        description="Plain-text answers: only words and punctuation, no emojis.",
        checker=checkers.check_no_emojis,
        keywords=("emoji", "plain", "word", "text", "decorat", "symbol", "clean"),
        applies_to_user=True,
        opposite="emojis",
        complaints=(
            "Please keep your answers to plain text, just words and punctuation.",
            "Could you write with words only next time? Clean text suits me.",
            "Keep it to plain words please, nothing decorative.",
            "I'd prefer simple text made of words and nothing else.",
        ),
        praise=(
            "Thanks, clean plain text is how I like it.",
            "Good, nice and clean.",
            "Perfect, simple text works best for me.",
        ),
    ),
    Preference(
        id="casual",
        description="A relaxed, conversational tone, like chatting with a friend (contractions welcome).",
        checker=checkers.check_casual,
        keywords=("casual", "relax", "friend", "convers", "chat", "stiff", "loosen", "laid-back", "contraction", "informal", "buddy"),
        opposite="formal",
        complaints=(
            "You sound a bit stiff. Talk to me like a friend would.",
            "Loosen up a little and chat with me casually, contractions and all.",
            "Could you use a more relaxed, conversational tone?",
            "Write like you're texting a buddy, not drafting a report.",
            "Keep it chatty and laid-back next time.",
        ),
        praise=(
            "Ha, love the relaxed tone.",
            "Nice, that feels like chatting with a friend.",
            "Great, keep it casual like that.",
        ),
    ),
    Preference(
        id="formal",
        description="A formal, professional tone with every word written out in full.",
        checker=checkers.check_formal,
        keywords=("formal", "professional", "polish", "register", "business", "in full", "spell", "contraction", "written out"),
        applies_to_user=True,
        opposite="casual",
        complaints=(
            "Please use a more formal, professional tone, with words written out in full.",
            "Could you write that as you would in a business report?",
            "I would prefer a polished register: write 'do not' and 'it is' in full.",
            "Keep the language professional and spell out every word completely.",
            "Please answer as a careful professional would write to a client.",
        ),
        praise=(
            "Thank you, that professional tone is appropriate.",
            "Good, that is the formal register I prefer.",
            "Excellent, well written and properly formal.",
        ),
    ),
    Preference(
        id="no-filler-praise",
        description="Answers that start with the substance, without complimenting the question.",
        checker=checkers.check_no_filler_praise,
        keywords=("compliment", "flatter", "praise", "substance", "straight", "warm-up", "right away", "begin with", "open with", "start with", "jump"),
        applies_to_user=True,
        complaints=(
            "Skip the compliments and start with the information itself.",
            "No need to flatter me. Just open with the substance.",
            "Please begin with the actual content right away.",
            "Jump straight into the answer next time, no warm-up.",
        ),
        praise=(
            "Thanks for getting straight to it.",
            "Good, right to the point from the first word.",
            "I appreciate that you went straight to the content.",
        ),
    ),
    Preference(
        id="no-closing-offer",
        description="Answers that end on the last point, without offering further help.",
        checker=checkers.check_no_closing_offer,
        keywords=("end", "stop", "finish", "wrap", "offer", "last point", "leave it", "sign-off", "closing"),
        applies_to_user=True,
        complaints=(
            "End when the answer is done; I'll ask if I need more.",
            "You can just stop after the last point.",
            "Please finish on the content itself.",
            "Wrap up with your final point and leave it there.",
        ),
        praise=(
            "Good, it ends cleanly.",
            "Nice, it stops right where the answer stops.",
            "Thanks, I like that it ends on the point.",
        ),
    ),
    Preference(
        id="no-exclamation",
        description="A calm, even tone where every sentence ends with a period or question mark.",
        checker=checkers.check_no_exclamation,
        keywords=("calm", "period", "full stop", "exclamation", "measured", "even", "tone", "matter-of-fact", "excit"),
        applies_to_user=True,
        complaints=(
            "Please keep the tone calm and end your sentences with periods.",
            "Could you tone it down? Plain full stops work better for me.",
            "A more measured tone please, with simple periods.",
            "Write it in an even, matter-of-fact voice next time.",
        ),
        praise=(
            "Thanks, the calm tone reads well.",
            "Good, nice and measured.",
            "Perfect, that even tone is what I want.",
        ),
    ),
    Preference(
        id="no-first-person",
        description="Impersonal answers about the topic that never refer to the assistant itself.",
        checker=checkers.check_no_first_person,
        keywords=("yourself", "impersonal", "person", "encyclopedia", "about you", "subject", "topic"),
        complaints=(
            "Keep yourself out of it; just state the facts about the topic.",
            "Please write impersonally, focusing on the subject rather than on you.",
            "Phrase it like an encyclopedia entry, about the topic only.",
            "Just describe the thing itself, in the third person.",
        ),
        praise=(
            "Good, clear and impersonal.",
            "Nice, that reads like a reference entry.",
            "Thanks, it stays focused on the topic.",
        ),
    ),
    Preference(
        id="no-markdown-emphasis",
        description="Plain paragraphs without markdown headings or bold and italic text.",
        checker=checkers.check_no_markdown_emphasis,
        keywords=("format", "unformat", "bold", "markdown", "heading", "header", "plain", "symbol", "asterisk", "italic"),
        applies_to_user=True,
        complaints=(
            "Please send ordinary plain text; formatting shows up as raw symbols on my screen.",
            "Write it as simple paragraphs with no special formatting.",
            "My screen shows the raw formatting characters, so plain sentences only please.",
            "Keep it to unformatted text next time, just normal sentences.",
        ),
        praise=(
            "Thanks, plain text displays perfectly for me.",
            "Good, clean unformatted text.",
            "Perfect, it looks right on my screen this time.",
        ),
    ),
    Preference(
        id="answer-first",
        prompt_dependent=True,
        description="The direct answer in the very first sentence, with any explanation after it.",
        checker=checkers.check_answer_first,
        keywords=("answer first", "lead", "bottom line", "first sentence", "open with", "start with", "direct", "up front", "introduction", "preamble"),
        complaints=(
            "Lead with the answer itself, then explain.",
            "Start with the direct answer in your first sentence please.",
            "Give me the bottom line first; the details can come after.",
            "Open with the actual answer rather than an introduction.",
        ),
        praise=(
            "Great, the answer right up front.",
            "Thanks, I got what I needed from the first sentence.",
            "Perfect, bottom line first.",
        ),
    ),
    Preference(
        id="no-hedging",
        description="Decisive, confident answers that state things plainly.",
        checker=checkers.check_no_hedging,
        keywords=("decisive", "confiden", "plainly", "commit", "direct", "sure", "definite", "clear", "hedg", "certain", "vague"),
        applies_to_user=True,
        complaints=(
            "Be more decisive and tell me plainly what's true.",
            "Please commit to an answer and state it with confidence.",
            "Say it directly, as if you're sure.",
            "Give me a clear, definite answer next time.",
        ),
        praise=(
            "Thanks, clear and confident.",
            "Good, I like the decisive answer.",
            "Perfect, that's direct and certain.",
        ),
    ),
    Preference(
        id="ends-with-question",
        description="Answers that finish by asking the user a follow-up question.",
        checker=checkers.check_ends_with_question,
        keywords=("question", "ask", "back-and-forth"),
        complaints=(
            "End with a question for me so we can keep talking.",
            "Could you finish by asking me something about my situation?",
            "Close with a follow-up question next time, I like the back-and-forth.",
            "Ask me a question at the end so I can tell you more.",
        ),
        praise=(
            "Nice, I like that you asked me something.",
            "Good question at the end, thanks.",
            "Great, that keeps the conversation going.",
        ),
    ),
    Preference(
        id="plain-language",
        description="Beginner-friendly answers in short sentences and everyday words.",
        checker=checkers.check_plain_language,
        keywords=("simpl", "plain", "everyday", "beginner", "short sentence", "jargon", "easy", "common word", "new to this"),
        complaints=(
            "Explain it more simply, like I'm new to this.",
            "Use shorter sentences and everyday words please.",
            "Could you put that in plain words a beginner would get?",
            "Simpler please: short sentences, common words.",
        ),
        praise=(
            "Thanks, that was really easy to understand.",
            "Great, simple and clear.",
            "Perfect, plain words I can follow.",
        ),
    ),
)

_ALL = (*_PREFERENCES, *library_paper.PREFERENCES, *library_rubric.PREFERENCES)

PREFERENCES: Registry[Preference] = Registry("preference", flag="preference")
"""Every preference a persona schedule may name: the built-ins below and those plugins add
with `register_preference` (a second definition of an id is an error, as in every registry)."""


def register_preference(preference: Preference) -> Preference:
    """Register `preference` under its id, for every persona file to name."""
    return PREFERENCES.register(preference.id)(preference)


for _preference in _ALL:
    register_preference(_preference)

BUILTIN: Mapping[str, Preference] = MappingProxyType(PREFERENCES._entries)  # type: ignore[arg-type]
"""Read-only, live view of PREFERENCES by id (built-in and plugin-registered preferences);
add preferences with `register_preference`, never by writing here."""


def verifiable_ids() -> list[str]:
    """The registered ids a checker decides (the rest are scored by a judge's rubric), sorted."""
    return [pid for pid in PREFERENCES.names() if BUILTIN[pid].verifiable]


def builtin_ids() -> list[str]:
    """The registered preference ids (built-in and plugin-registered), sorted."""
    return PREFERENCES.names()


def get_preference(pid: str) -> Preference:
    """The registered preference `pid`; an unknown id raises KeyError naming the closest id."""
    if pid not in PREFERENCES:
        raise KeyError(f"unknown preference {pid!r} ({suggest(pid, builtin_ids())})")
    return PREFERENCES.get(pid)
