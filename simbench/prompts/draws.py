"""Which probe prompts a run answers: one shared set, or a subset drawn per simulated user.

With one shared set every user answers the same prompts, so the prompts' own difficulty is
shared too and no number of users averages it away (the minimum detectable difference stops
falling near 0.06-0.10; docs/metrics.md). A per-user draw gives each user (run seed) its own
subset of a large pool, so the prompt effect averages out with the users. The draw depends
only on the seed and the persona's preferences, never on the learner: two arms of one user
answer the same prompts, and their per-prompt differences pair up.

Prompts carry `tags` naming the prompt-dependent preferences they can exercise; a pool
with tags keeps, for a persona, only the prompts tagged with every prompt-dependent
preference it ever holds. A pool without any tags (the older built-in pools, most user
files) keeps every prompt.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from simbench.errors import InputError
from simbench.persona.preference import Preference
from simbench.prompts import Prompt
from simbench.seeding import derive_rng

DRAWS = ("shared", "per-user")


def suitable(pool: Sequence[Prompt], preferences: Iterable[Preference]) -> list[Prompt]:
    """The prompts of `pool` that can exercise every prompt-dependent preference, in order."""
    if not any(prompt.tags for prompt in pool):
        return list(pool)
    needed = {p.id for p in preferences if p.prompt_dependent}
    return [prompt for prompt in pool if needed <= set(prompt.tags)]


def draw_probes(
    pool: Sequence[Prompt], n: int, draw: str, seed: int, preferences: Iterable[Preference],
    where: str = "--probe-prompts",
) -> list[Prompt]:
    """The `n` probe prompts of a run: the first `n` suitable ones (`shared`), or `n` of them
    drawn without replacement with the run `seed` (`per-user`, kept in pool order).

    Raises InputError naming `where` when the pool holds fewer than `n` suitable prompts.
    """
    if draw not in DRAWS:
        raise InputError("--probe-draw", f"unknown draw {draw!r}", f"use one of {', '.join(DRAWS)}")
    preferences = list(preferences)
    candidates = suitable(pool, preferences)
    if n > len(candidates):
        dependent = sorted(p.id for p in preferences if p.prompt_dependent)
        held = f" tagged for {', '.join(dependent)}" if dependent and len(candidates) < len(pool) else ""
        raise InputError(
            where,
            f"{n} requested but the persona's probe pool has {len(candidates)} prompts{held}",
            "ask for fewer probe prompts or use a larger pool (builtin:everyday-probe holds 410)",
        )
    if draw == "shared":
        return candidates[:n]
    chosen = sorted(derive_rng(seed, "probe-draw").sample(range(len(candidates)), n))
    return [candidates[i] for i in chosen]
