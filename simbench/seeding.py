"""Per-call seeds derived from (run seed, purpose, indices), so any step replays alone.

Because every generation, user reply and update draws from its own derived seed, a resumed
run reproduces an uninterrupted one without saving global RNG states.
"""

from __future__ import annotations

import hashlib
import random

MAX_SEED = 2**32 - 1
"""The largest run seed: numpy's legacy seeding and several backends take 32-bit seeds, so a
larger one is refused at the flag rather than deep inside whichever library sees it first."""


def derive_seed(seed: int, *parts: object) -> int:
    """A 63-bit seed that depends only on `seed` and `parts` (stable across processes)."""
    key = "/".join([str(seed), *map(str, parts)]).encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") >> 1


def derive_rng(seed: int, *parts: object) -> random.Random:
    """A `random.Random` seeded with `derive_seed(seed, *parts)`."""
    return random.Random(derive_seed(seed, *parts))
