"""Building blocks shared by the markdown and HTML renderers and the report's content: numbers
and lists as short cell text, and `Section` (one format-neutral table)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


def fmt(value: Any, digits: int = 2) -> str:
    """A number for a table cell: None/NaN as an en dash, floats with `digits` decimals."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def fmt_interval(mean: Any, lo: Any, hi: Any, digits: int = 2) -> str:
    """"m [lo, hi]", or just "m" when the interval is unknown."""
    if lo is None or hi is None:
        return fmt(mean, digits)
    return f"{fmt(mean, digits)} [{fmt(lo, digits)}, {fmt(hi, digits)}]"


def joined(values: dict[str, list[str]]) -> str:
    """{"torch": ["2.13"], ...} as "torch 2.13; ..." (several values comma-separated)."""
    return "; ".join(f"{key} {', '.join(items)}" for key, items in values.items())


@dataclass(frozen=True)
class Section:
    """One table of the metrics part of a report, format-neutral (cells are plain text)."""

    title: str
    headers: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)
    numeric_from: int | None = 1  # columns from here on are right-aligned in HTML (None: none)
