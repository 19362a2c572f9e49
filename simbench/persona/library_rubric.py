"""Judge-scored preferences: wishes no regex can decide (poetic imagery, disagreeing instead of
flattering, expert register, taking a stance). Each carries a rubric an LLM judge scores
(simbench/scoring.py); without a judge they are reported as not scored.
"""

from __future__ import annotations

from simbench.persona.preference import Preference

PREFERENCES: tuple[Preference, ...] = ()
