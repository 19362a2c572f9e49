"""Which runs may stand in for each other's baselines and controls: the baseline arm names and
the key that runs sharing persona, seed, model, episode length and probe prompts have in
common. Its own module so the run report and the paired comparisons (reporting/pairs.py) both
read it without importing each other."""

from __future__ import annotations

import json
from typing import Any

FROZEN = "frozen"
ORACLE = "in-context-oracle"


def comparable_key(manifest: dict[str, Any]) -> tuple:
    """Runs with equal keys may serve as each other's baselines: same persona (content hash),
    seed, model, episode length and probe prompts."""
    persona = manifest.get("persona") or {}
    probe = (manifest.get("prompts") or {}).get("probe") or {}
    return (
        persona.get("content_hash") or persona.get("id"),
        json.dumps(persona.get("schedule"), sort_keys=True),
        manifest.get("seed"),
        manifest.get("model"),
        manifest.get("interactions"),
        probe.get("sha256"),
    )
