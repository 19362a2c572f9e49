"""Pure, regex-based checkers for the built-in preferences (text utilities: persona/text.py).

Every checker maps a response to `CheckResult(passed, evidence)`; decisions on tricky cases
(code, quotes, URLs, empty answers) live here once and are tabled in docs/preferences.md.
"""

from __future__ import annotations

import math
import re

from simbench.persona.preference import CheckResult
from simbench.persona.text import (
    HEADING_LINE,
    first_match,
    list_items,
    prose,
    quote,
    sentences,
    unquoted,
    words,
)

PASS = CheckResult(True)

# --- Lists ---


def _list_verdict(text: str, want_list: bool) -> CheckResult:
    items = list_items(prose(text))
    has_list = len(items) >= 2
    if has_list == want_list:
        return PASS
    if want_list:
        found = f"only one list item ({quote(items[0])})" if items else "no bullet or numbered lines"
        return CheckResult(False, f"{found}; a list needs at least 2 items")
    return CheckResult(False, f"list of {len(items)} items, first {quote(items[0])}")


def check_lists(text: str) -> CheckResult:
    """Passes when the response has a list: >= 2 lines starting with -, *, +, •, '1.', '1)',
    '(1)' or 'a)'. Inline enumerations ("First, ... Second, ...") are prose, not a list;
    list lines inside fenced code do not count."""
    return _list_verdict(text, want_list=True)


def check_no_lists(text: str) -> CheckResult:
    """Exact complement of `check_lists`: fails on >= 2 list lines; one lone dash line or an
    inline "First, ... Second, ..." enumeration passes."""
    return _list_verdict(text, want_list=False)


# --- Length ---

CONCISE_MAX_SENTENCES = 2
CONCISE_MAX_WORDS = 50
DETAILED_MIN_WORDS = 150
ELABORATE_MIN_SENTENCES = 3
ELABORATE_MIN_WORDS = 30


def check_concise(text: str) -> CheckResult:
    """Passes with 1..2 sentences and 1..50 words of prose (code blocks do not count; each list
    item and heading counts as a sentence). An empty response fails."""
    body = prose(text)
    n_words, n_sentences = len(words(body)), len(sentences(body))
    if n_words == 0:
        return CheckResult(False, "empty response")
    if n_sentences <= CONCISE_MAX_SENTENCES and n_words <= CONCISE_MAX_WORDS:
        return PASS
    return CheckResult(
        False,
        f"{n_sentences} sentences, {n_words} words (at most {CONCISE_MAX_SENTENCES} sentences"
        f" and {CONCISE_MAX_WORDS} words)",
    )


def check_detailed(text: str) -> CheckResult:
    """Passes with >= 150 words of prose; code blocks do not count. Answers of 51..149 words
    fail both length preferences, so a bland middle length never satisfies a flip."""
    n_words = len(words(prose(text)))
    if n_words >= DETAILED_MIN_WORDS:
        return PASS
    return CheckResult(False, f"only {n_words} words (at least {DETAILED_MIN_WORDS})")


def check_elaborate(text: str) -> CheckResult:
    """Passes with >= 3 sentences and >= 30 words of prose (counted as `concise` counts them),
    so it never passes together with `concise` (<= 2 sentences) yet fits a 64-token answer,
    unlike `detailed`: the far side of a length flip that small token caps can reach."""
    body = prose(text)
    n_words, n_sentences = len(words(body)), len(sentences(body))
    if n_sentences >= ELABORATE_MIN_SENTENCES and n_words >= ELABORATE_MIN_WORDS:
        return PASS
    return CheckResult(
        False,
        f"{n_sentences} sentences, {n_words} words (at least {ELABORATE_MIN_SENTENCES} sentences"
        f" and {ELABORATE_MIN_WORDS} words)",
    )


# --- Emojis ---

# Pictographic planes plus the BMP characters Unicode lists with emoji presentation. Text
# symbols such as ✓ (U+2713), ★, ♪ and ASCII emoticons like :) are not emojis here.
_PICTOGRAPH = (
    "[\U0001f300-\U0001faff\U0001f004\U0001f0cf\U0001f18e\U0001f191-\U0001f19a"
    "\u231a\u231b\u23e9-\u23ec\u23f0\u23f3\u25fd\u25fe\u2614\u2615\u2648-\u2653\u267f\u2693"
    "\u26a1\u26aa\u26ab\u26bd\u26be\u26c4\u26c5\u26ce\u26d4\u26ea\u26f2\u26f3\u26f5\u26fa"
    "\u26fd\u2705\u270a\u270b\u2728\u274c\u274e\u2753-\u2755\u2757\u2795-\u2797\u27b0\u27bf"
    "\u2b1b\u2b1c\u2b50\u2b55\u2764]"
    # Any symbol followed by VS-16 (emoji presentation), e.g. ☀️ ✔️ ❤️.
    "|[^\\w\\s]\ufe0f"
)
# One match per visible emoji: flags (two regional indicators), keycaps like 1️⃣, and
# pictographs with their skin-tone modifiers and zero-width-joiner sequences.
_MODIFIERS = "[\ufe0f\U0001f3fb-\U0001f3ff]*"
_EMOJI = re.compile(
    "[\U0001f1e6-\U0001f1ff]{2}|[0-9#*]\ufe0f?\u20e3"
    f"|(?:{_PICTOGRAPH}){_MODIFIERS}(?:\u200d(?:{_PICTOGRAPH}){_MODIFIERS})*"
)


def find_emojis(text: str) -> list[str]:
    """Emojis in the prose of `text`, in order (fenced and inline code are ignored)."""
    return _EMOJI.findall(prose(text))


def check_emojis(text: str) -> CheckResult:
    """Passes with at least one emoji outside code. Emojis inside quotes count (they are seen);
    ASCII emoticons and text symbols (✓ ★ →) do not."""
    if find_emojis(text):
        return PASS
    return CheckResult(False, "no emoji in the response")


def check_no_emojis(text: str) -> CheckResult:
    """Exact complement of `check_emojis`; evidence lists the emojis found."""
    found = find_emojis(text)
    if not found:
        return PASS
    return CheckResult(False, f"{len(found)} emoji(s): {' '.join(dict.fromkeys(found))}")


# --- Tone: casual vs formal ---

# Possessive 's ("John's") is not a contraction, so 's only counts after closed-class words.
_CASUAL = re.compile(
    r"\b(?:[a-z]+n't|[a-z]+'(?:re|ve|ll|d|m)|(?:it|that|there|here|what|who|where|how|let|he|she"
    r"|everyone|nobody|something|nothing)'s|y'all|gonna|wanna|gotta|kinda|sorta|yeah|yep|yup|nope"
    r"|hey|lol|btw|tbh|awesome)\b",
    re.I,
)
CASUAL_WORDS_PER_MARKER = 75


def casual_markers(text: str) -> list[str]:
    """Contractions and informal words in the unquoted prose of `text`."""
    return _CASUAL.findall(unquoted(prose(text)))


def check_casual(text: str) -> CheckResult:
    """Passes with at least one casual marker (contraction such as don't/it's/you'll, or an
    informal word such as gonna/yeah/hey/awesome) per 75 words, rounded up; quoted text and
    code do not count. A long answer with a single "it's" is not casual; it is not formal
    either, so both tone preferences can fail."""
    body = prose(text)
    n_words = len(words(body))
    needed = max(1, math.ceil(n_words / CASUAL_WORDS_PER_MARKER))
    found = casual_markers(text)
    if n_words and len(found) >= needed:
        return PASS
    return CheckResult(False, f"{len(found)} casual marker(s) in {n_words} words (needs {needed})")


def check_formal(text: str) -> CheckResult:
    """Passes with no contraction or informal word outside quotes and code. "John's" (a
    possessive) and "o'clock" are not contractions; "I'd" and "let's" are."""
    found = casual_markers(text)
    if not found:
        return PASS
    return CheckResult(False, f"informal: {', '.join(quote(m) for m in dict.fromkeys(found))}")


# --- Openers and closers ---

_PRAISE_ADJ = (
    r"(?:great|good|excellent|fantastic|wonderful|interesting|fascinating|awesome|brilliant"
    r"|terrific|thoughtful|insightful|lovely|amazing|smart|perfect)"
)
_FILLER_PRAISE = re.compile(
    r"^\W*(?:(?:wow|oh|ah|ooh)\W+)?(?:(?:what|that's|that is|this is|it's|it is|such)\s+an?\s+)?"
    rf"(?:(?:really|very|truly|super|such an?)\s+)?{_PRAISE_ADJ}\s+(?:question|query|one|point"
    r"|topic|thought|choice|idea)\b"
    r"|\bi (?:just )?love (?:this|that|your) (?:question|idea)\b"
    r"|\b(?:i'm|i am) (?:so |really )?glad you asked\b"
    r"|\bthanks? (?:you )?(?:so much )?for (?:asking|your question|the question|this question"
    r"|reaching out|sharing)\b",
    re.I,
)


def check_no_filler_praise(text: str) -> CheckResult:
    """Fails when one of the first two sentences praises the question or the user: it opens
    with "Great/Good/What a fascinating ... question/topic/choice/idea/point", or says "Thanks
    for asking", "I love this question", "I'm glad you asked". Praise words in a content
    sentence ("Brown rice is a good choice.") or later in the answer pass."""
    hit = first_match(_FILLER_PRAISE, sentences(prose(text))[:2])
    if hit is None:
        return PASS
    return CheckResult(False, f"praise opener {quote(hit[0])} in {quote(hit[1])}")


_CLOSING_OFFER = re.compile(
    r"\blet me know\b|\bfeel free to\b|\bdon't hesitate\b|\bhope (?:this|that|it|these|my \w+)"
    r" (?:helps|helped|was helpful|is helpful|answers|clarifies|gives)\b|\bif you have any"
    r" (?:more |other |further |additional )?questions\b|\b(?:happy|glad) to help\b|\banything"
    r" else\b|\b(?:would|do) you (?:like|want) (?:me to|more|to know more|any more|additional"
    r"|further)\b|\bwant me to\b|\bjust ask\b|\breach out\b|\bif you need (?:any )?(?:more"
    r"|further|additional|anything|help)\b|\bi can (?:also )?(?:help|explain|provide|suggest)\b",
    re.I,
)


def check_no_closing_offer(text: str) -> CheckResult:
    """Fails when one of the last two sentences offers more help ("Let me know if...", "Feel
    free to ask", "Hope this helps", "Would you like me to...?"). Sign-offs that offer
    nothing ("Happy baking.", "Good luck") pass; so does such a phrase earlier in the text."""
    hit = first_match(_CLOSING_OFFER, sentences(prose(text))[-2:][::-1])
    if hit is None:
        return PASS
    return CheckResult(False, f"closing offer {quote(hit[0])} in {quote(hit[1])}")


# --- Voice: exclamation, first person, hedging, final question ---

# "!=" is an operator and "![alt](src)" an image: neither is an exclamation.
_EXCLAMATION = re.compile(r"!(?![=\[])")


def check_no_exclamation(text: str) -> CheckResult:
    """Fails on any '!' outside code and double quotes (He shouted "Stop!" passes); '?!'
    counts, '!=' and markdown images do not; '!' in a URL is masked."""
    body = unquoted(prose(text))
    hit = first_match(_EXCLAMATION, sentences(body))
    if hit is None:
        return PASS
    count = len(_EXCLAMATION.findall(body))
    return CheckResult(False, f"{count} exclamation mark(s), first in {quote(hit[1])}")


_FIRST_PERSON = re.compile(r"\bI\b|\b(?:[Mm]e|[Mm]y|[Mm]yself)\b")
# Words before a capital I that make it a roman numeral: World War I, Type I, Louis I.
_NUMERAL_CONTEXT = frozenset(
    "war type part phase chapter class grade stage level act volume vol book section henry"
    " elizabeth louis charles james george william edward richard mary peter".split()
)


def _not_pronoun(body: str, match: re.Match[str]) -> bool:
    """A capital I that is a numeral (World War I, outline "I. Intro") or a code (I/O, I-95)."""
    after = body[match.end() : match.end() + 2]
    if re.fullmatch(r"[/-]\w", after):
        return True
    line_start = body.rfind("\n", 0, match.start()) + 1
    if not body[line_start : match.start()].strip() and after[:1] in (".", ")"):
        return True
    before = body[: match.start()].split()
    return bool(before) and before[-1].lower() in _NUMERAL_CONTEXT


def first_person_words(text: str) -> list[str]:
    """Singular first-person words (I, I'm, me, my, myself) in unquoted prose."""
    found: list[str] = []
    body = unquoted(prose(text))
    for match in _FIRST_PERSON.finditer(body):
        if match.group() == "I" and _not_pronoun(body, match):
            continue
        end = body.find(" ", match.end())
        found.append(body[match.start() : end if end != -1 else len(body)].strip(".,;:!?\"'"))
    return found


def check_no_first_person(text: str) -> CheckResult:
    """Fails on I / I'm / I'd / me / my / myself outside code and double quotes. Plural "we",
    "us", "our", "let's" are allowed (generic "we" is ordinary explanation); "mine" is not
    checked (coal mine); roman numerals (World War I, "I. Introduction") and codes (I/O, I-95)
    are not first person."""
    found = first_person_words(text)
    if not found:
        return PASS
    return CheckResult(False, f"first person: {', '.join(quote(w) for w in dict.fromkeys(found))}")


_HEDGE = re.compile(
    r"\b(?:perhaps|possibly|probably|arguably|maybe|somewhat|generally|typically|usually"
    r"|presumably|conceivably|seemingly|apparently|likely|in general|it seems|it appears"
    r"|to some (?:extent|degree)|more or less|in most cases|tends? to)\b",
    re.I,
)


def check_no_hedging(text: str) -> CheckResult:
    """Fails on hedging words (perhaps, possibly, probably, arguably, maybe, somewhat,
    generally, typically, usually, likely, apparently, ...) and phrases (in general, it seems,
    tends to, to some extent) outside quotes and code. Modal verbs (may, might, could) are not
    hedges here: "you may store it for a week" is an ordinary statement."""
    body = unquoted(prose(text))
    found = _HEDGE.findall(body)
    if not found:
        return PASS
    where = first_match(_HEDGE, sentences(body))
    context = f" in {quote(where[1])}" if where else ""
    return CheckResult(False, f"hedging {', '.join(quote(h) for h in dict.fromkeys(found))}{context}")


def check_ends_with_question(text: str) -> CheckResult:
    """Passes when the last sentence of unquoted prose ends with '?' (also '?!'); trailing
    emojis, brackets and emphasis marks are ignored. A '?' inside a URL, inside code or inside
    a quoted question at the end does not count."""
    tail = sentences(unquoted(prose(text)))
    if not tail:
        return CheckResult(False, "empty response")
    last = tail[-1]
    # Everything after the last letter or digit: "?", "?!", "? 😊", "?**" all end a question.
    if "?" in re.split(r"[^\W_]", last)[-1]:
        return PASS
    return CheckResult(False, f"last sentence is not a question: {quote(last)}")


# --- Answer first ---

_FILLER_WORDS = frozenset(
    "sure certainly of course absolutely definitely okay ok alright well hello hi hey there ah"
    " oh hmm thanks thank you great good excellent fantastic wonderful interesting fascinating"
    " what a that's such question so happy to help glad".split()
)
# Openings that announce, restate or talk about the question instead of answering it.
_PREAMBLE = re.compile(
    r"^(?:here(?:'s| is| are)\b|let me\b|let's\b|i(?:'d| would) (?:be )?(?:happy|glad|love)\b"
    r"|i can (?:help|explain|tell)\b|i(?:'ll| will) (?:explain|help|walk|break|outline|go|try)\b"
    r"|i(?:'m| am) (?:happy|glad|here)\b|to answer\b|in (?:this|my) (?:answer|response|guide)\b"
    r"|before (?:we|i) (?:dive|begin|start|get)\b|when it comes to\b|as an ai\b"
    r"|you(?:'re| are) asking\b|you (?:want|wish|would like|'d like) to know\b"
    r"|there (?:are|is) (?:several|many|a few|various|a number of|multiple|lots of|a lot of"
    r"|numerous|different|some)\b|it(?:'s| is) (?:important|worth|essential) to (?:note"
    r"|remember|understand|consider)\b)"
    # A title instead of an answer: "The quest for better sleep.", "Ah, the art of baking."
    r"|^(?:ah,? |oh,? )?the (?:age-old |eternal |timeless |classic |ultimate |never-ending )?"
    r"(?:quest|art|debate|dilemma|struggle|challenge|mystery|journey) (?:of|for|about|to)\b"
    # Talking about the question itself: "The age-old question of...", "The answer to this..."
    r"|\b(?:this|your|the|that|a|an|age-old|classic|common|great|good) question\b"
    r"|\bthe answer to (?:this|your|that|the)\b"
    rf"|\bis an? (?:common|popular|frequently asked|complex|tricky|{_PRAISE_ADJ})"
    r" (?:question|topic|concern|dilemma)\b"
    # Commenting on how hard the task is: "Making friends can be a daunting task".
    r"|\bcan be (?:both |quite |very |a bit |a little |an? |really )*(?:daunting|tricky"
    r"|challenging|difficult|hard|confusing|overwhelming|intimidating|exhilarating|exciting"
    r"|rewarding|delicate|fun|journey|process|task)\b",
    re.I,
)


def check_answer_first(text: str) -> CheckResult:
    """Passes when the first sentence (markdown headings skipped) is not a known non-answer:
    - only filler words ("Sure!", "Great question.", "Hello there!");
    - a preamble ("Here are some tips", "Let's break it down", "I'd be happy to help",
      "There are several ways...", "When it comes to...", "It's important to note");
    - talk about the question ("The age-old question of...", "The answer to this question
      lies in...", "You're asking whether...", "X is a common question");
    - talk about the difficulty ("Making friends can be a daunting task");
    - a title ("The quest for better sleep.", "The art of connecting with people...");
    - a sentence ending in ':' (announces what follows) or in '?' (answers with a question).
    Whether the sentence is correct or echoes the prompt's wording is not checked; a first
    sentence "It depends on the flour." passes; an empty response fails."""
    first_sentences = sentences(HEADING_LINE.sub("", prose(text)))
    if not first_sentences:
        return CheckResult(False, "empty response")
    first = first_sentences[0].strip(" *_")
    lowered = [w.lower() for w in words(first)]
    if all(w in _FILLER_WORDS for w in lowered) or _FILLER_PRAISE.search(first):
        return CheckResult(False, f"first sentence is filler: {quote(first)}")
    if first.rstrip("*_ ").endswith(":"):
        return CheckResult(False, f"first sentence announces what follows: {quote(first)}")
    if first.rstrip("*_ ").endswith("?"):
        return CheckResult(False, f"first sentence is a question: {quote(first)}")
    if _PREAMBLE.search(first):
        return CheckResult(False, f"first sentence is a preamble: {quote(first)}")
    return PASS


# --- Formatting and plain language ---

# Spans are capped at 200 characters so a long line of stray asterisks stays linear to scan.
_EMPHASIS = re.compile(
    r"\*\*(?=\S)[^\n]{1,200}?(?<=\S)\*\*|__(?=\S)[^\n]{1,200}?(?<=\S)__"  # bold
    r"|(?<![\w*])\*(?=[^\s*])[^*\n]{1,200}?(?<=[^\s*])\*(?![\w*])"  # *italic*
    r"|(?<![\w_])_(?=[^\s_])[^_\n]{1,200}?(?<=[^\s_])_(?![\w_])"  # _italic_
)
# Setext heading: a text line underlined with === or ---. A --- after a blank line is a rule.
_SETEXT = re.compile(r"^[ \t]*[^\s\-=|][^\n]*\n[ \t]*(?:=+|-{2,})[ \t]*$", re.M)


def check_no_markdown_emphasis(text: str) -> CheckResult:
    """Fails on markdown headings ('# x', 'x' underlined with ===/---), **bold**, __bold__,
    *italic* or _italic_ outside code. A heading-like line without markup ("Benefits:") passes,
    as do '2 * 3 * 4', snake_case names, list bullets and a '---' rule after a blank line."""
    body = prose(text)
    for label, pattern in (("heading", HEADING_LINE), ("heading", _SETEXT), ("emphasis", _EMPHASIS)):
        found = pattern.search(body)
        if found:
            return CheckResult(False, f"markdown {label} {quote(found.group())}")
    return PASS


PLAIN_MAX_SENTENCE_WORDS = 20.0
PLAIN_LONG_WORD_LETTERS = 10
PLAIN_MAX_LONG_SHARE = 0.07
_JARGON = re.compile(
    r"\b(?:utili[sz]\w*|leverag\w*|facilitat\w*|paradigm\w*|synerg\w*|holistic\w*|methodolog\w*"
    r"|mitigat\w*|amelior\w*|commenc\w*|endeavou?r\w*|subsequently|aforementioned|notwithstanding"
    r"|myriad|plethora|multifaceted|nuanced?|granular\w*|streamlin\w*|actionable|stakeholders?"
    r"|optimi[sz]\w*|optimal\w*|efficacy|delv\w*|pivotal|paramount|encompass\w*|juxtapos\w*"
    r"|salient|heuristic\w*|ubiquitous|commensurate|elucidat\w*|exacerbat\w*|henceforth|whereby"
    r"|thereof|therein)\b",
    re.I,
)


def _longest_part(word: str) -> int:
    return max(len(part) for part in re.split(r"[-']", word))


def check_plain_language(text: str) -> CheckResult:
    """Passes when all three hold for the prose (code excluded): at most 20 words per sentence
    on average; at most 7% long words (10+ letters; a hyphenated word counts by its longest
    part); no word from a jargon list (utilize, leverage, facilitate, paradigm, mitigate,
    delve, plethora, optimal, ...). An empty response fails."""
    body = prose(text)
    tokens, parts = words(body), sentences(body)
    if not tokens:
        return CheckResult(False, "empty response")
    jargon = _JARGON.findall(body)
    if jargon:
        return CheckResult(False, f"jargon: {', '.join(quote(j) for j in dict.fromkeys(jargon))}")
    average = len(tokens) / max(1, len(parts))
    if average > PLAIN_MAX_SENTENCE_WORDS:
        return CheckResult(
            False, f"{average:.1f} words per sentence (at most {PLAIN_MAX_SENTENCE_WORDS:g})"
        )
    long_words = [w for w in tokens if _longest_part(w) >= PLAIN_LONG_WORD_LETTERS]
    share = len(long_words) / len(tokens)
    if share > PLAIN_MAX_LONG_SHARE:
        shown = ", ".join(quote(w) for w in list(dict.fromkeys(long_words))[:5])
        return CheckResult(
            False, f"{share:.0%} long words (at most {PLAIN_MAX_LONG_SHARE:.0%}): {shown}"
        )
    return PASS
