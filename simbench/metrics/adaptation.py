"""Adaptation to a newly active preference: normalised gain g(t), sustained steps-to-threshold
N_k, AULC and final adherence within its phase (docs/metrics.md)."""

from __future__ import annotations

from dataclasses import Field, asdict, dataclass
from typing import Any, ClassVar, Sequence

import numpy as np

from simbench.metrics.curves import Curve, PhaseWindow, mean_finite

THRESHOLD = 0.8
SUSTAIN = 2
NO_HEADROOM = "no_headroom"


def has_headroom(low: float, high: float) -> bool:
    """Whether there is room between a floor and a target (`high` above `low`)."""
    return bool(high - low > 1e-12)


def normalised_gain(s: np.ndarray | float, b: float, c: float) -> np.ndarray:
    """g = clip((s - b) / (c - b), 0, 1): 0 at the frozen model's adherence b, 1 at ceiling c.

    When c <= b (no headroom: the base already does as well as the ceiling) the ratio is
    undefined; g is then 1 where s >= c (the learner keeps the ceiling) and 0 where it fell
    below it, which says "did not break it" on a curve. `adaptation_in_phase` does not score
    such rows (flag `no_headroom`, NaN metrics). NaN in s (or b, c) gives NaN.
    """
    s = np.asarray(s, dtype=float)
    if np.isnan(b) or np.isnan(c):
        return np.full(s.shape, np.nan)
    if has_headroom(b, c):
        g = np.clip((s - b) / (c - b), 0.0, 1.0)
    else:
        g = np.where(s >= c, 1.0, 0.0)
    return np.where(np.isnan(s), np.nan, g)


def sustained_steps(
    t: np.ndarray, values: np.ndarray, start: int, length: int,
    threshold: float = THRESHOLD, sustain: int = SUSTAIN,
) -> tuple[int, bool]:
    """First t - start with values >= threshold at `sustain` consecutive probes.

    `t`/`values` are the probes of one phase. A run of passing probes cut off by the phase
    end does not count (one lucky probe is not learning). Returns (steps, censored); when
    never reached, steps = `length` (the phase length) and censored = True.
    """
    passing = np.asarray(values, dtype=float) >= threshold  # NaN compares False
    for i in range(len(passing) - sustain + 1):
        if passing[i : i + sustain].all():
            return int(t[i]) - start, False
    return length, True


def probe_count_flags(n_probes: int, sustain: int) -> list[str]:
    """`no_probes` or `too_few_probes_to_sustain` when a phase's probes cannot show a sustained
    crossing (shared by the adaptation and unlearning results)."""
    if n_probes == 0:
        return ["no_probes"]
    if n_probes < sustain:
        return ["too_few_probes_to_sustain"]
    return []


def last_or_nan(values: np.ndarray) -> float:
    """The phase's last probe value, NaN for a phase without probes."""
    return float(values[-1]) if values.size else float("nan")


class FlaggedResult:
    """`to_dict` for a frozen result dataclass whose `flags` tuple is written as a JSON list."""

    # Set by @dataclass on each subclass; declared so the checker knows `asdict` applies.
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]
    flags: tuple[str, ...]

    def to_dict(self) -> dict:
        out = asdict(self)
        out["flags"] = list(self.flags)
        return out


@dataclass(frozen=True)
class AdaptationResult(FlaggedResult):
    """How one preference newly active in phase `phase` was adopted."""

    phase: int
    preference: str
    start: int
    end: int
    b: float
    c: float
    n_probes: int
    steps_to_threshold: int | None
    censored: bool
    aulc: float
    final_s: float
    final_g: float
    flags: tuple[str, ...]


def adaptation_in_phase(
    curve: Curve, window: PhaseWindow, b: float, c: float,
    threshold: float = THRESHOLD, sustain: int = SUSTAIN,
) -> AdaptationResult:
    """Adaptation metrics of `curve`'s preference over the probes of `window`.

    AULC is the mean g over the phase's probes (start and end included, see PhaseWindow);
    final values come from the phase's last probe. A phase without probes gets NaN AULC and
    final values and a censored N (flag `no_probes`). With no headroom (c <= b) there is no
    gain to measure: the row is flagged `no_headroom` (not applicable) with NaN AULC, final g
    and steps, instead of every arm scoring 1 for matching the base.
    """
    inside = curve.window(window.start, window.end)
    g = normalised_gain(inside.s, b, c)
    steps: int | None
    steps, censored = sustained_steps(inside.t, g, window.start, window.length, threshold, sustain)
    flags: list[str] = []
    if not np.isnan(b) and not np.isnan(c) and not has_headroom(b, c):
        flags.append(NO_HEADROOM)
        g = np.full(g.shape, np.nan)
        steps, censored = None, False
    elif censored:
        flags.append("censored")
    flags.extend(probe_count_flags(inside.t.size, sustain))
    return AdaptationResult(
        phase=window.index,
        preference=curve.preference,
        start=window.start,
        end=window.end,
        b=float(b),
        c=float(c),
        n_probes=int(inside.t.size),
        steps_to_threshold=steps,
        censored=censored,
        aulc=mean_finite(g),
        final_s=last_or_nan(inside.s),
        final_g=last_or_nan(g),
        flags=tuple(flags),
    )


def newly_active(windows: Sequence[PhaseWindow]) -> list[tuple[PhaseWindow, str]]:
    """(phase, preference) for each preference active in a phase but not in the one before.

    Every preference of the first phase is new; a preference that returns after a gap (a
    revert) is new again, since it has to be re-adopted.
    """
    pairs: list[tuple[PhaseWindow, str]] = []
    previous: tuple[str, ...] = ()
    for window in windows:
        pairs.extend((window, pref) for pref in window.preferences if pref not in previous)
        previous = window.preferences
    return pairs

