"""The flip verdict: one word from three intervals, never "moved away" when the old wish
keeps rising or there was nothing to unlearn."""

from __future__ import annotations

import itertools

import pytest

from simbench.metrics.flip_verdict import (
    LEARNED_NEW,
    MOVED_AWAY,
    NO_CHANGE,
    SLOWED_OLD,
    flip_verdict,
    verdict_words,
)


def ci(mean: float, lo: float, hi: float) -> dict[str, float]:
    return {"mean": mean, "lo": lo, "hi": hi}


RISES, FALLS, FLAT = ci(0.5, 0.3, 0.7), ci(-0.5, -0.7, -0.3), ci(0.0, -0.2, 0.2)
BELOW, ABOUT_ZERO = ci(-0.1, -0.16, -0.04), ci(0.0, -0.05, 0.05)

# (case, new wish from τ, old wish from τ, old wish flip - no-flip, unlearning applicable, verdict)
TABLE = [
    # The committed results/cpu-flip numbers (5 seeds x 24 prompts, concise -> elaborate at 20):
    # sdpo-token: elaborate falls, concise rises 0.07 -> 0.58, the content test is below 0, and
    # s(τ) - b = 0.07 < 0.1 (nothing to unlearn). It grew concise more slowly, no more.
    ("cpu-flip sdpo-token (t over users)", ci(-0.49, -0.74, -0.24), ci(0.51, 0.27, 0.75),
     ci(-0.09, -0.16, -0.03), False, SLOWED_OLD),
    # The same with the committed two-stage bootstrap interval of the content test.
    ("cpu-flip sdpo-token (bootstrap)", ci(-0.49, -0.74, -0.24), ci(0.51, 0.27, 0.75),
     ci(-0.09, -0.16, -0.04), False, SLOWED_OLD),
    # sdpo-logit: concise 0.13 -> 0.71, elaborate falls; the content test's t interval over 5
    # users reaches 0 ([-0.22, +0.02]); its committed bootstrap one did not ([-0.18, -0.03]).
    ("cpu-flip-logit sdpo-logit (t over users)", ci(-0.59, -0.81, -0.37), ci(0.57, 0.35, 0.80),
     ci(-0.10, -0.22, 0.02), True, NO_CHANGE),
    ("cpu-flip-logit sdpo-logit (bootstrap)", ci(-0.59, -0.81, -0.37), ci(0.57, 0.35, 0.80),
     ci(-0.10, -0.18, -0.03), True, SLOWED_OLD),
    # The frozen arm: nothing moves.
    ("frozen", ci(0.0, 0.0, 0.0), ci(0.0, 0.0, 0.0), ci(0.0, 0.0, 0.0), False, NO_CHANGE),
    ("old falls, something to unlearn", FLAT, FALLS, BELOW, True, MOVED_AWAY),
    ("old falls and new rises", RISES, FALLS, BELOW, True, MOVED_AWAY),
    ("old falls, nothing to unlearn, below the no-flip run", FLAT, FALLS, BELOW, False, SLOWED_OLD),
    ("old falls, nothing to unlearn, no no-flip run", FLAT, FALLS, None, False, NO_CHANGE),
    ("old falls, nothing to unlearn, but the new wish rises", RISES, FALLS, None, False, LEARNED_NEW),
    ("new rises, old flat", RISES, FLAT, ABOUT_ZERO, True, LEARNED_NEW),
    ("new rises while old still rises", RISES, RISES, BELOW, True, LEARNED_NEW),
    ("old keeps rising, below the no-flip run, applicable", FLAT, RISES, BELOW, True, SLOWED_OLD),
    ("old flat, below the no-flip run", FLAT, FLAT, BELOW, True, SLOWED_OLD),
    ("nothing excludes 0", FLAT, FLAT, ABOUT_ZERO, True, NO_CHANGE),
    ("old above the no-flip run", FLAT, RISES, ci(0.1, 0.05, 0.15), True, NO_CHANGE),
    ("nothing measured", None, None, None, True, NO_CHANGE),
]


@pytest.mark.parametrize("case, new, old, vs, applicable, expected", TABLE, ids=[row[0] for row in TABLE])
def test_verdict_table(case, new, old, vs, applicable, expected):
    assert flip_verdict(new, old, vs, applicable) == expected


def test_moved_away_only_when_the_old_wish_falls_and_the_unlearning_row_applies():
    intervals = [RISES, FALLS, FLAT, BELOW, ABOUT_ZERO, None]
    for new, old, vs, applicable in itertools.product(intervals, intervals, intervals, (True, False)):
        if flip_verdict(new, old, vs, applicable) == MOVED_AWAY:
            assert applicable and old is not None and old["hi"] < 0


def test_verdict_words_carry_the_numbers_and_the_reason():
    words = verdict_words(SLOWED_OLD, "concise", "elaborate", ci(-0.49, -0.74, -0.24), ci(0.51, 0.27, 0.75),
                          ci(-0.09, -0.16, -0.03), False)
    assert words.startswith("verdict: slowed the old one: ")
    assert "(it keeps rising)" in words and "nor take up 'elaborate'" in words
    assert "'elaborate' from τ to the end -0.49 [-0.74, -0.24] (falls)" in words
    assert "'concise' from τ to the end +0.51 [+0.27, +0.75] (rises)" in words
    assert "minus the no-flip run -0.09 [-0.16, -0.03]" in words
    assert "unlearning not applicable (nothing to unlearn)" in words
    assert "moved away" not in words
