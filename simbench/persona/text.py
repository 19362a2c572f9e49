"""Text utilities the preference checkers share: code/URL/quote masking, words, sentences.

Shared conventions live here once: fenced and inline code are never prose; URLs are masked
(their dots and '?' are not punctuation); curly apostrophes become straight ones.
"""

from __future__ import annotations

import re

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
HEADING_LINE = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+\S.*$", re.M)
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


def first_match(pattern: re.Pattern[str], pieces: list[str]) -> tuple[str, str] | None:
    """(matched text, piece containing it) for the first piece `pattern` finds, else None."""
    for piece in pieces:
        found = pattern.search(piece)
        if found:
            return found.group(), piece
    return None
