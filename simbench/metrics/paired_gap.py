"""Paired gap between two arms scored on the same items, with a paired bootstrap interval.

The teachability micro-run answers the same held-out probe prompts from the same start with
two arms (relevant vs unrelated follow-ups); pairing by prompt removes the prompt-to-prompt
spread that an unpaired comparison would carry. Pure Python, seeded, no numpy.

Note for the integrator: issue 12 item 2 adds a general paired-statistics module (pairing by
seed x probe prompt, minimum detectable difference); this small function is the one the
teachability map needs now, and the two should be unified into one module when both land.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass
from typing import Any, Sequence


@dataclass(frozen=True)
class PairedGap:
    """mean(a_i − b_i) over n paired items and its percentile bootstrap interval at `level`."""

    n: int
    gap: float
    low: float
    high: float
    level: float
    resamples: int

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "excludes_zero": self.excludes_zero}


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """The q-quantile of already sorted values, interpolating linearly between order
    statistics (numpy's default 'linear' rule): position q·(n−1)."""
    if not sorted_values:
        raise ValueError("quantile of no values")
    position = q * (len(sorted_values) - 1)
    below = math.floor(position)
    above = min(below + 1, len(sorted_values) - 1)
    weight = position - below
    return sorted_values[below] * (1 - weight) + sorted_values[above] * weight


def paired_gap(
    a: Sequence[float],
    b: Sequence[float],
    resamples: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> PairedGap:
    """Gap of arm `a` over arm `b`, where `a[i]` and `b[i]` are scores of the same item.

    The interval resamples the n item indices with replacement (the pair moves together) and
    takes the (1 ± level)/2 quantiles of the resampled mean differences. Identical inputs
    give the same interval for the same seed.
    """
    if len(a) != len(b):
        raise ValueError(f"paired_gap needs equal lengths, got {len(a)} and {len(b)}")
    if not a:
        raise ValueError("paired_gap needs at least one pair")
    if resamples < 1 or not 0 < level < 1:
        raise ValueError(f"paired_gap needs resamples >= 1 and 0 < level < 1, got {resamples}, {level}")
    diffs = [float(x) - float(y) for x, y in zip(a, b)]
    n = len(diffs)
    rng = random.Random(seed)
    means = sorted(sum(diffs[rng.randrange(n)] for _ in range(n)) / n for _ in range(resamples))
    tail = (1 - level) / 2
    return PairedGap(
        n=n,
        gap=sum(diffs) / n,
        low=quantile(means, tail),
        high=quantile(means, 1 - tail),
        level=level,
        resamples=resamples,
    )
