"""Pure, regex-based checkers for the built-in preferences, and the text utilities they share.

Every checker maps a response to `CheckResult(passed, evidence)`; decisions on tricky cases
(code, quotes, URLs, empty answers) live here once and are tabled in docs/preferences.md.
"""

from __future__ import annotations

import math
import re

from simbench.persona.preference import CheckResult

PASS = CheckResult(True)

# --- Text utilities ---
# Shared conventions: fenced and inline code are never prose; URLs are masked (their dots and
# '?' are not punctuation); curly apostrophes become straight ones.

# An unclosed fence runs to the end of the text, as markdown renderers display it.
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[^\n]*\n.*?(?:^[ \t]*\1[ \t]*$|\Z)", re.M | re.S)
_INLINE_CODE = re.compile(r"`[^`\n]+`")
_URL = re.compile(r"\b(?:https?://|www\.)\S+")
_URL_TRAIL = re.compile(r"[.,;:!?)\]'\"]+$")
_QUOTED = re.compile(r"\"[^\"\n]{0,200}\"|“[^”\n]{0,200}”")
_WORD = re.compile(r"[^\W_]+(?:['\-][^\W_]+)*")
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+•]|\d{1,2}[.)]|\(\d{1,2}\)|[a-z]\))[ \t]+(?=\S)", re.M)
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(?=\S)", re.M)
_HEADING_LINE = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+\S.*$", re.M)
_SENTENCE_END = re.compile(r"[.!?…]+[\"')\]*_]*(?=\s|$)")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st vs etc e.g i.e approx no fig jr sr prof inc ltd cf al".split()
)


def _mask_url(match: re.Match[str]) -> str:
    # Trailing punctuation belongs to the sentence ("see www.x.org."), not to the link.
    trail = _URL_TRAIL.search(match.group())
    return "link" + (trail.group() if trail else "")


def strip_code(text: str) -> str:
    """`text` without fenced code blocks (left as paragraph breaks) and inline code spans."""
    return _INLINE_CODE.sub("code", _FENCE.sub("\n\n", text))


def prose(text: str) -> str:
    """The prose every checker reads: code removed, URLs masked as 'link', apostrophes unified."""
    return _URL.sub(_mask_url, strip_code(text)).replace("’", "'").replace("‘", "'")


def unquoted(text: str) -> str:
    """`text` with double-quoted spans (straight or curly, one line, <= 200 chars) emptied.

    Used by the voice checks (exclamation, first person, hedging, tone, final question):
    quoted words are someone else's, e.g. the song title "I Will Survive".
    """
    return _QUOTED.sub('""', text)


def list_items(text: str) -> list[str]:
    """Lines of `text` that are bullet or numbered list items ('- x', '* x', '1. x', 'a) x')."""
    return [line.strip() for line in text.splitlines() if _LIST_ITEM.match(line)]


def words(text: str) -> list[str]:
    """Words of `text` ("don't" and "well-known" are one word); list markers are not words."""
    return _WORD.findall(_HEADING.sub("", _LIST_ITEM.sub("", text)))


def _units(text: str) -> list[str]:
    """Paragraph pieces: a list item, heading or line after a colon starts its own piece;
    other lines join the previous one, so hard-wrapped prose is not split at line ends."""
    units: list[str] = []
    for paragraph in re.split(r"\n[ \t]*\n", text):
        joinable = False
        for line in paragraph.splitlines():
            stripped = line.strip()
            if not stripped:
                continue
            starts_new = bool(_LIST_ITEM.match(line) or _HEADING.match(line))
            if joinable and not starts_new:
                units[-1] += " " + stripped
            else:
                units.append(stripped)
            joinable = not (_HEADING.match(line) or stripped.endswith(":"))
    return units


def _ends_sentence(unit: str, end: re.Match[str]) -> bool:
    rest = unit[end.end() :].lstrip()
    if rest and rest[0].islower():  # "e.g. the", "approx. three": not a boundary
        return False
    if not end.group().startswith(".") or end.group().startswith(".."):
        return True
    before = unit[: end.start()].split()
    last = before[-1].lower().lstrip("(") if before else ""
    return not (last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha()))


def sentences(text: str) -> list[str]:
    """Sentences of `text` (pass `prose(text)`): list items and headings count as sentences.

    Splits after . ! ? … unless an abbreviation or lowercase word follows; a piece with no
    letter or digit (a trailing emoji, a stray bullet) is glued to the sentence before it.
    """
    result: list[str] = []
    for unit in _units(text):
        unit = _HEADING.sub("", _LIST_ITEM.sub("", unit))  # "1." is a marker, not a sentence
        start = 0
        for match in _SENTENCE_END.finditer(unit):
            if _ends_sentence(unit, match):
                result.append(unit[start : match.end()].strip())
                start = match.end()
        result.append(unit[start:].strip())
    merged: list[str] = []
    for piece in result:
        if not piece:
            continue
        if merged and not any(ch.isalnum() for ch in piece):
            merged[-1] += " " + piece
        else:
            merged.append(piece)
    return [s for s in merged if any(ch.isalnum() for ch in s)]


def quote(fragment: str, limit: int = 80) -> str:
    """`fragment` on one line, cut to `limit` characters, in single quotes for evidence."""
    flat = " ".join(fragment.split())
    return repr(flat if len(flat) <= limit else flat[: limit - 1] + "…")


def _first_match(pattern: re.Pattern[str], pieces: list[str]) -> tuple[str, str] | None:
    """(matched text, piece containing it) for the first piece `pattern` finds, else None."""
    for piece in pieces:
        found = pattern.search(piece)
        if found:
            return found.group(), piece
    return None


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
    hit = _first_match(_FILLER_PRAISE, sentences(prose(text))[:2])
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
    hit = _first_match(_CLOSING_OFFER, sentences(prose(text))[-2:][::-1])
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
    hit = _first_match(_EXCLAMATION, sentences(body))
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


def _is_numeral(body: str, match: re.Match[str]) -> bool:
    line_start = body.rfind("\n", 0, match.start()) + 1
    if not body[line_start : match.start()].strip() and body[match.end() : match.end() + 1] in ".)":
        return True  # outline numbering: "I. Introduction", "I) Setup"
    before = body[: match.start()].split()
    return bool(before) and before[-1].lower() in _NUMERAL_CONTEXT


def first_person_words(text: str) -> list[str]:
    """Singular first-person words (I, I'm, me, my, myself) in unquoted prose."""
    found: list[str] = []
    body = unquoted(prose(text))
    for match in _FIRST_PERSON.finditer(body):
        if match.group() == "I" and _is_numeral(body, match):
            continue
        end = body.find(" ", match.end())
        found.append(body[match.start() : end if end != -1 else len(body)].strip(".,;:!?\"'"))
    return found


def check_no_first_person(text: str) -> CheckResult:
    """Fails on I / I'm / I'd / me / my / myself outside code and double quotes. Plural "we",
    "us", "our", "let's" are allowed (generic "we" is ordinary explanation); "mine" is not
    checked (coal mine); roman numerals (World War I, "I. Introduction") are not first person."""
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
    where = _first_match(_HEDGE, sentences(body))
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
    if "?" in re.search(r"[\W_]*$", last).group():
        return PASS
    return CheckResult(False, f"last sentence is not a question: {quote(last)}")


# --- Answer first ---

_FILLER_WORDS = frozenset(
    "sure certainly of course absolutely definitely okay ok alright well hello hi hey there ah"
    " oh hmm thanks thank you great good excellent fantastic wonderful interesting fascinating"
    " what a that's such question so happy to help glad".split()
)
_PREAMBLE = re.compile(
    r"^(?:here(?:'s| is| are)\b|let me\b|let's\b|i(?:'d| would) (?:be )?(?:happy|glad|love)\b"
    r"|i can (?:help|explain|tell)\b|i(?:'ll| will) (?:explain|help|walk|break|outline|go|try)\b"
    r"|i(?:'m| am) (?:happy|glad)\b|to answer\b|in (?:this|my) (?:answer|response|guide|post)\b"
    r"|before (?:we|i) (?:dive|begin|start|get)\b|when it comes to\b|as an ai\b"
    r"|you(?:'re| are) asking\b|you (?:want|wish|would like|'d like) to know\b"
    r"|(?:your|the) question\b|there (?:are|is) (?:several|many|a few|various|a number of|multiple"
    r"|lots of|a lot of|numerous|different|some)\b|it(?:'s| is) (?:important|worth|essential)"
    r" to (?:note|remember|understand|consider)\b|(?:choosing|deciding|figuring out|finding"
    r"|picking|knowing)\b.{0,60}\bcan be (?:tricky|challenging|difficult|hard|confusing"
    r"|overwhelming)\b)"
    rf"|\bis an? (?:common|popular|frequently asked|complex|tricky|{_PRAISE_ADJ})"
    r" (?:question|topic|concern|dilemma)\b",
    re.I,
)


def check_answer_first(text: str) -> CheckResult:
    """Passes when the first sentence (markdown headings skipped) is not a known non-answer:
    - only filler words ("Sure!", "Great question.", "Hello there!");
    - a preamble ("Here are some tips", "Let's break it down", "I'd be happy to help",
      "There are several ways...", "When it comes to...", "It's important to note");
    - a restatement ("You're asking whether...", "X is a common question");
    - a sentence ending in ':' (announces what follows) or in '?' (answers with a question).
    Whether the sentence is correct or echoes the prompt's wording is not checked; a first
    sentence "It depends on the flour." passes; an empty response fails."""
    first_sentences = sentences(_HEADING_LINE.sub("", prose(text)))
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

_EMPHASIS = re.compile(
    r"\*\*(?=\S)[^\n]+?(?<=\S)\*\*|__(?=\S)[^\n]+?(?<=\S)__"  # bold
    r"|(?<![\w*])\*(?=[^\s*])[^*\n]+?(?<=[^\s*])\*(?![\w*])"  # *italic*
    r"|(?<![\w_])_(?=[^\s_])[^_\n]+?(?<=[^\s_])_(?![\w_])"  # _italic_
)
# Setext heading: a text line underlined with === or ---. A --- after a blank line is a rule.
_SETEXT = re.compile(r"^[ \t]*[^\s\-=|][^\n]*\n[ \t]*(?:=+|-{2,})[ \t]*$", re.M)


def check_no_markdown_emphasis(text: str) -> CheckResult:
    """Fails on markdown headings ('# x', 'x' underlined with ===/---), **bold**, __bold__,
    *italic* or _italic_ outside code. A heading-like line without markup ("Benefits:") passes,
    as do '2 * 3 * 4', snake_case names, list bullets and a '---' rule after a blank line."""
    body = prose(text)
    for label, pattern in (("heading", _HEADING_LINE), ("heading", _SETEXT), ("emphasis", _EMPHASIS)):
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
