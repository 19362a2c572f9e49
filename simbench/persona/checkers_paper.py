"""Checkers for the preferences of the paper's user profiles (persona/library_paper.py):
one answer or several options, bare or rich punctuation, markdown wanted, clarify first.

Same contract and shared rules as `checkers.py` (code removed, URLs masked, one sentence
splitter, evidence cut to 80 characters); decisions on tricky cases are tabled in
docs/preferences.md.
"""

from __future__ import annotations

import re

from simbench.persona.checkers import _FILLER_WORDS, PASS, check_no_markdown_emphasis
from simbench.persona.preference import CheckResult
from simbench.persona.text import HEADING_LINE, first_match, list_items, prose, quote, sentences, unquoted, words

# --- One answer or several options ---

_QUANTITY = (
    r"(?:several|many|various|multiple|different|numerous|a few|a couple of|a number of|plenty of"
    r"|lots of|a lot of|some|two|three|four|five|\d+)"
)
# Markers that put more than one option in front of the user.
_MENU = re.compile(
    r"\boption\s*(?:#?\d+|(?-i:[A-D])|one|two|three)\b|\bplan (?-i:[A-C])\b"  # Option 1, Option A, Plan B
    r"|\b(?:choice|approach|method|alternative)\s*#?\d\b"  # Approach 2
    r"|\balternatively\b"
    r"|\banother (?:good |great |popular |simple |easy |common |cheaper |healthier |quick )?"
    r"(?:option|alternative|choice|approach|possibility|way|route|method|pick)\b"
    r"|\bone (?:good |simple |easy )?(?:option|alternative|approach|possibility) (?:is|would be|could be)\b"
    r"|\b(?:an|other|good|great|popular|cheaper|healthier|better|viable) alternatives?\b"
    r"|\byour (?:main |best |only |two |three )?(?:options|choices) (?:are|include)\b|\balternatives include\b"
    r"|\byou could also\b|\bor you (?:could|can|might)\b|\byou (?:can|could|might) either\b"
    r"|\bif you(?:'d| would)? (?:prefer|rather)\b"
    # "several options", "many different approaches", "two ways to ..."; not "in many ways",
    # nor a description such as "the different ways to make wine".
    rf"|(?<!\bin )(?<!\bthe ){_QUANTITY} (?:[a-z]+ )?(?:options|alternatives|choices|approaches|possibilities"
    r"|(?:ways|methods) (?:to|of|you|for))\b",
    re.I,
)
# Not committing without offering anything: "It depends.", "depending on your budget".
_UNCOMMITTED = re.compile(
    r"^(?:well,? |honestly,? |ultimately,? |really,? )?(?:it|that|this|everything|it all"
    r"|the (?:best |right )?(?:answer|choice|option|one|pick))"
    r" (?:(?:all|really|largely|mostly|ultimately|entirely|truly|totally) )?depends\b"
    # "Depending on your budget", "depending on how much time you have"; not "depending on
    # the observer's frame" (a fact) nor "Your energy depends on your sleep".
    r"|\bdepending (?:[a-z]+ )?on\b[^.!?;]{0,40}?\b(?:you|your|yours|personal)\b"
    r"|\b(?:it's|it is|that's|that is) (?:really |entirely |totally |all )?up to you\b"
    r"|\bno one-size-fits-all\b"
    r"|\bthere(?:'s| is) no (?:single |one )?(?:best|right|perfect|correct) (?:answer|choice|option|one)\b",
    re.I,
)
# A list of options: items or headings labelled as such, or a list after an intro naming them.
_OPTION_LABEL = re.compile(
    r"(?:option|alternative|choice|approach)s?(?:\s*#?(?:\d+|[A-Z])\b)?\s*(?:[:.)—–-]|$)", re.I
)
_OPTIONS_INTRO = re.compile(
    r"\b(?:options?|alternatives?|choices|approaches|possibilities|ways|pick one|choose (?:one|from|between))\b",
    re.I,
)


def _menu(text: str) -> tuple[str, str] | None:
    """(marker, sentence) of the first sign that `text` offers several options, else None."""
    body = unquoted(prose(text))
    parts = sentences(body)
    hit = first_match(_MENU, parts)
    if hit:
        return hit
    items = list_items(body)
    labelled = [s for s in sentences("\n".join(items + HEADING_LINE.findall(body)))
                if _OPTION_LABEL.match(s.lstrip("*_ "))]
    if len(labelled) >= 2:
        return "2+ items labelled as options", labelled[0]
    intro = next((s for s in parts if s.endswith(":") and _OPTIONS_INTRO.search(s)), None)
    if intro and len(items) >= 2:
        return f"list of {len(items)} options", intro
    return None


def _empty(text: str) -> bool:
    return not words(prose(text))


def check_single_answer(text: str) -> CheckResult:
    """Passes when a non-empty answer commits to one thing: no menu of options ("Option 1",
    "Alternatively", "Another option is", "You could also", "or you could", "there are several
    ways/options/approaches", a list introduced as options or 2+ items labelled "Option") and
    no non-answer ("It depends", "depending on your ...", "it's up to you", "there's no
    one-size-fits-all"). A bare "or" ("butter or oil"), "depends on the temperature" and an
    explanation with several factors pass. Quoted text and code are ignored; empty fails."""
    if _empty(text):
        return CheckResult(False, "empty response")
    hit = _menu(text)
    if hit:
        return CheckResult(False, f"offers options: {quote(hit[0])} in {quote(hit[1])}")
    hit = first_match(_UNCOMMITTED, sentences(unquoted(prose(text))))
    if hit:
        return CheckResult(False, f"does not commit: {quote(hit[0])} in {quote(hit[1])}")
    return PASS


def check_alternatives(text: str) -> CheckResult:
    """Passes when the answer offers at least two options: a menu marker as listed for
    `check_single_answer`, or a list of >= 2 items introduced as options/ways/approaches.
    "It depends" alone fails here as it fails `single-answer`: it offers no option, so both
    fail it (and an empty answer); they never both pass."""
    if _menu(text):
        return PASS
    if _empty(text):
        return CheckResult(False, "empty response")
    return CheckResult(False, "one answer only: no second option or alternative offered")


# --- Punctuation ---

# A dash between words: em dash, or its typewriter (word--word, word -- word) and spaced en
# dash (word – word) forms. The one mark `rich-punctuation` accepts besides the semicolon.
_EM_DASH = r"—|(?<=[^\W_])[ \t]*-{2,3}[ \t]*(?=[^\W_])|(?<=[^\W_])[ \t]+–[ \t]+(?=[^\W_])"
_RICH = re.compile(";|" + _EM_DASH)
# Every mark but the sentence ends . ? ! …: commas and colons (not inside 1,000 or 10:30),
# semicolons, dashes used as punctuation (not in-word hyphens, not a 1990–2000 range),
# brackets, double quotes, and single quotes around a phrase (not apostrophes).
_PUNCTUATION = re.compile(
    rf"{_EM_DASH}|(?<!\d)[,:]|[,:](?!\d)|;|[―‒]|(?<!\d)–|–(?!\d)|(?<=[^\W_])[ \t]+-[ \t]+(?=[^\W_])"
    r"|[()\[\]{}\"“”„«»]|(?<![\w'])'(?=[^\W_])[^'\n]{0,200}?(?<=[^\W_.,!?])'(?![\w'])"
)


def check_no_punctuation(text: str) -> CheckResult:
    """Passes when the only punctuation is . ? ! (and …): no commas, semicolons, colons,
    dashes between words, brackets or quotation marks. Apostrophes (don't), in-word hyphens
    (well-known), 3.5, 10:30, 1,000 and 1990–2000 pass; so do symbols such as / % & and
    markdown or list markers. Quoted text counts (its quote marks are punctuation); code and
    URLs are ignored. An empty answer passes."""
    parts = sentences(prose(text))
    hit = first_match(_PUNCTUATION, parts)
    if hit is None:
        return PASS
    # A quoted phrase shows as its quote marks, a spaced hyphen as the hyphen.
    marks = ["'…'" if m.group().startswith("'") else m.group().strip()
             for s in parts for m in _PUNCTUATION.finditer(s)]
    shown = " ".join(quote(m) for m in dict.fromkeys(marks))
    return CheckResult(False, f"{len(marks)} punctuation mark(s) {shown} in {quote(hit[1])}")


def check_rich_punctuation(text: str) -> CheckResult:
    """Passes with at least one semicolon or em dash (—, word -- word, word--word, or a spaced
    en dash) in the prose; a spaced hyphen (word - word) is not an em dash. Code and URLs are
    ignored; quoted text counts. An empty answer fails."""
    if _RICH.search(prose(text)):
        return PASS
    return CheckResult(False, "no semicolon or em dash in the prose")


# --- Markdown wanted ---


def check_markdown(text: str) -> CheckResult:
    """Exact complement of `check_no_markdown_emphasis`: passes with a markdown heading (#
    or setext) or a **bold**/__bold__/*italic*/_italic_ span outside code."""
    if not check_no_markdown_emphasis(text).passed:
        return PASS
    return CheckResult(False, "no markdown heading, bold or italic text")


# --- Clarifying question first ---

_SECOND_PERSON = re.compile(r"\b(?:you|your|yours|yourself|yourselves|y'all)\b", re.I)
# Questions that address the user without asking them anything: rhetorical openers and echoes.
_RHETORICAL = re.compile(
    r"^(?:so,? |well,? |now,? |oh,? )?(?:have you ever|ever (?:wonder|thought|ask|notice|tri)"
    r"|did you know|do you know (?:what|why|how|that|the)|don't you (?:love|hate|just)"
    r"|who doesn't|isn't it|wouldn't it be|what if|guess what|you know what|want to know"
    r"|are you ready|ready to|tired of|struggling|need (?:a|an|some|help)\b|wondering)"
    r"|, you (?:say|ask)\W*$|\byou (?:might|may) (?:ask|wonder|be wondering)\b",
    re.I,
)


def check_clarify_first(text: str) -> CheckResult:
    """Passes when the first sentence (headings and filler such as "Sure!" skipped) is a
    question to the user: it ends with '?' and says you/your ("What's your budget?", "Do you
    mean the train or the car?"). Fails on a statement first, a question without "you"
    ("Which city?", or the prompt restated about others), rhetorical openers ("Have you ever
    wondered...?", "Did you know...?"), echoes ("Boots, you say?") and quoted questions.
    The sentence is read as `check_answer_first` reads it (a '?' must end it: '? 😊' at the
    very end does not), so the two never pass together. Whether the question really clarifies
    the request is not judged. An empty answer fails."""
    parts = sentences(HEADING_LINE.sub("", prose(text)))
    parts = [s for s in parts if not all(w.lower() in _FILLER_WORDS for w in words(s))]
    if not parts:
        return CheckResult(False, "empty response" if _empty(text) else "no question before the answer")
    first = parts[0].strip(" *_")
    if not first.endswith("?"):
        return CheckResult(False, f"first sentence is not a question: {quote(first)}")
    if not _SECOND_PERSON.search(first):
        return CheckResult(False, f"first question does not ask the user: {quote(first)}")
    if _RHETORICAL.search(first):
        return CheckResult(False, f"first question is rhetorical: {quote(first)}")
    return PASS
