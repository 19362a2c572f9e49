"""Defaults of the run settings, in a module with no dependencies.

`RunConfig`'s fields take their defaults from here and the CLI's help texts show them, so
the two cannot drift, and building the CLI (`simbench --help`, `simbench list`) does not
import pydantic.
"""

from __future__ import annotations

from typing import Any

DEFAULTS: dict[str, Any] = {
    "persona": "concise",
    "learner": "sdpo-token",
    "model": "smollm2-135m",
    "backend": "hf",
    "device": "cpu",
    "user": "rules",
    "turns": 1,
    "batch_size": 4,
    "probe_every": 8,
    "probe_prompts": 16,
    "probe_draw": "shared",
    "general_questions": 8,
    "generation_batch_size": 16,
    "max_new_tokens": 96,
    "temperature": 0.7,
    "top_p": 0.9,
    "seed": 0,
    "max_failed_updates": 3,
    "precision": "fp32",
}

# Memory grows with these (one update or decode step holds the whole batch): a typo such as
# 10**9 is refused at the flag instead of ending in MemoryError after the model loaded.
MAX_BATCH = 1024


def default_of(field: str) -> Any:
    """The default of run setting `field` (a `RunConfig` field name)."""
    return DEFAULTS[field]
