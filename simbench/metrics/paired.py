"""Paired statistics between two arms: per-(seed, probe prompt) differences, a t interval
with the simulated user (seed) as the unit, and the minimum detectable difference at that n.

Two runs of the same persona and seed see the same training prompts from the same start and
are probed on the same held-out prompts, so their answers to one probe prompt form a pair.
Pairing removes the prompt-to-prompt spread (some prompts are always answered briefly) that
an unpaired comparison of seed means has to overcome. Pure functions: callers pass curves.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any, Collection, Mapping, Sequence

import numpy as np

from simbench.metrics.curves import Curve, PhaseWindow

LEVEL = 0.95
POWER = 0.8
# Possible ranges: a pass rate or adherence lies in [0, 1], a difference of two in [-1, 1].
RATE = (0.0, 1.0)
DIFFERENCE = (-1.0, 1.0)


def phase_end_scores(
    curves: Mapping[str, Curve], windows: Sequence[PhaseWindow], exclude: Collection[str] = ()
) -> dict[str, float]:
    """Per probe prompt: its pass rate at the end of each phase on that phase's preferences.

    For every phase, the probe at the phase's end (the last probe time in start < t <= end)
    and every preference active in the phase, except `exclude` (e.g. ones the token cap makes
    impossible), contribute the prompt's 0/1 outcome; a prompt's score is the mean of its
    outcomes. This is "adherence on the active preferences" with one number per prompt, so
    two arms can be paired prompt by prompt. Prompts never checked there are left out.
    """
    totals: dict[str, list[float]] = {}
    for window in windows:
        for pref in window.preferences:
            curve = curves.get(pref)
            if pref in exclude or curve is None:
                continue
            inside = np.nonzero((curve.t > window.start) & (curve.t <= window.end))[0]
            if inside.size == 0:
                continue
            row = curve.passed[inside[-1]]
            for pid, value in zip(curve.probe_ids, row):
                if not np.isnan(value):
                    totals.setdefault(pid, []).append(float(value))
    return {pid: float(np.mean(values)) for pid, values in sorted(totals.items())}


def after_scores(curve: Curve, after: int, times: Collection[int]) -> dict[str, float]:
    """Per probe prompt: its mean 0/1 outcome on `curve` over the probe times in `times`
    that are > `after` (e.g. a flip's old preference after τ, at times both runs probed)."""
    rows = [i for i, t in enumerate(curve.t) if t > after and int(t) in times]
    out = {}
    for p, pid in enumerate(curve.probe_ids):
        values = curve.passed[rows, p] if rows else np.array([])
        values = values[~np.isnan(values)]
        if values.size:
            out[pid] = float(values.mean())
    return out


def paired_differences(a: Mapping[str, float], b: Mapping[str, float]) -> np.ndarray:
    """a[p] - b[p] for every prompt p scored in both, in sorted prompt order."""
    return np.array([a[p] - b[p] for p in sorted(set(a) & set(b))], dtype=float)


def t_quantile(q: float, df: float) -> float:
    """Student t quantile; scipy is imported here so that importing the package stays fast."""
    from scipy.stats import t

    return float(t.ppf(q, df))


def minimum_detectable_difference(se: float, df: float | None = None, level: float = LEVEL,
                                  power: float = POWER) -> float:
    """MDD = (t_{1-α/2,df} + t_{power,df}) · se, α = 1 - level: the smallest true difference a
    two-sided test at that level detects with that power, given the standard error `se` of the
    mean difference estimated with `df` degrees of freedom. With 4 df (5 users) the factor is
    2.776 + 0.941 = 3.717, not the normal 1.960 + 0.842 = 2.802 (df None) that is ~25%
    optimistic with so few units."""
    if df is None:
        z = NormalDist().inv_cdf
        return (z(1.0 - (1.0 - level) / 2.0) + z(power)) * se
    return float((t_quantile(1.0 - (1.0 - level) / 2.0, df) + t_quantile(power, df)) * se)


def clip_interval(lo: float, hi: float, bounds: tuple[float, float] | None) -> tuple[float, float]:
    """(lo, hi) cut to the metric's possible range `bounds` (None: unbounded, left alone).

    A t interval over a few users is symmetric about the mean and can reach values the
    metric cannot take (an unlearning score of 2.30, a change in pass rate of +1.55); those
    ends claim nothing, so they are cut at the range. The mean lies in the range, so it stays
    inside the clipped interval."""
    if bounds is None:
        return lo, hi
    return max(lo, bounds[0]), min(hi, bounds[1])


@dataclass(frozen=True)
class PairedResult:
    """Mean paired difference with its interval, n and minimum detectable difference.

    `n_seeds` users (seeds: the independent unit) hold `n` pairs in all (users × prompts);
    `sd` is the spread of the single pair differences, `se` the standard error of their mean
    with `df` degrees of freedom, `mdd` the minimum detectable difference from `se` and `df`.
    `unit` says what the interval treats as independent: "user", or "prompt" when there is
    one user only. `resamples` is 0: the interval is analytic (kept for readers of old logs).
    """

    mean: float
    lo: float
    hi: float
    n_seeds: int
    n: int
    sd: float
    se: float
    mdd: float
    level: float
    power: float
    resamples: int
    method: str
    unit: str = "user"
    df: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def cluster_se(groups: Sequence[np.ndarray]) -> float:
    """Cluster-robust standard error of the pooled mean of `groups` (one array per user).

    The pooled mean weights each user by their number of pairs, so its standard error is the
    sandwich one, sqrt(U/(U-1) · Σ_u (S_u - n_u·m)²) / N with S_u a user's sum, n_u their
    pairs, N all pairs: it matches the estimate that is printed, and with equal pairs per
    user it is exactly sd(user means)/√U. Within-user (prompt) spread enters once, through
    the user means, which is what a two-stage bootstrap counted twice."""
    sums = np.array([g.sum() for g in groups])
    sizes = np.array([g.size for g in groups], dtype=float)
    users, total = len(groups), sizes.sum()
    mean = sums.sum() / total
    return float(np.sqrt(users / (users - 1) * np.sum((sums - sizes * mean) ** 2)) / total)


def paired_interval(
    groups: Sequence[np.ndarray | Sequence[float]], level: float = LEVEL, power: float = POWER,
    bounds: tuple[float, float] | None = DIFFERENCE,
) -> PairedResult | None:
    """Mean pair difference with a small-sample t interval, the user as the unit; None when
    there are no pairs or one pair only (no spread to estimate).

    `groups` holds one array of pair differences per user (a seed's prompts, across the
    personas of a scenario). The estimate is the mean over all pairs; its standard error is
    cluster-robust (`cluster_se`) and the interval mean ± t_{1-α/2, U-1} · se, because runs of
    one seed share a trajectory, so their prompts are not independent of each other and only
    the U users are. With one user the prompts are the unit (t with n-1 df): that interval
    speaks for this user and this prompt set only, and `method` says so. With a shared probe
    set the interval is conditional on those prompts: it does not cover prompt sampling.
    Checked by simulation (tests/unit/metrics/test_metrics_paired.py): coverage ≈ 95% at 5
    and at 20 users, where the old two-stage percentile bootstrap fell short. The interval is
    clipped to `bounds` (`clip_interval`; default [-1, 1], the range of a difference of pass
    rates); `se` and `mdd` are not.
    """
    clusters = [np.asarray(g, dtype=float) for g in groups]
    clusters = [g[~np.isnan(g)] for g in clusters]
    clusters = [g for g in clusters if g.size]
    if not clusters:
        return None
    pooled = np.concatenate(clusters)
    if pooled.size < 2:
        return None
    sd = float(pooled.std(ddof=1))
    if len(clusters) > 1:
        unit, df, se = "user", len(clusters) - 1, cluster_se(clusters)
        method = (f"t-interval over {len(clusters)} users (seeds; {df} df), cluster-robust SE of the "
                  f"mean over {pooled.size} pairs (users x probe prompts)")
    else:
        unit, df, se = "prompt", pooled.size - 1, sd / np.sqrt(pooled.size)
        method = (f"one user: t-interval over its {pooled.size} probe prompts ({df} df); it says "
                  "nothing about other users")
    half = float(t_quantile(1.0 - (1.0 - level) / 2.0, df)) * se
    mean = float(pooled.mean())
    lo, hi = clip_interval(mean - half, mean + half, bounds)
    if bounds is not None:
        method += f"; clipped to the metric's range [{bounds[0]:g}, {bounds[1]:g}]"
    return PairedResult(
        mean=mean, lo=lo, hi=hi, n_seeds=len(clusters), n=int(pooled.size), sd=sd,
        se=float(se), mdd=minimum_detectable_difference(se, df, level, power), level=level, power=power,
        resamples=0, method=method, unit=unit, df=int(df),
    )
