"""Paired statistics between two arms: per-(seed, probe prompt) differences, a two-stage
bootstrap interval, and the minimum detectable difference at that n (design.md §4).

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


def minimum_detectable_difference(se: float, level: float = LEVEL, power: float = POWER) -> float:
    """MDD = (z_{1-α/2} + z_{power}) · se, α = 1 - level: the smallest true difference a
    two-sided test at that level detects with that power, given the standard error `se` of
    the mean difference. At 95% and 80% power the factor is 1.960 + 0.842 = 2.802; for n
    independent pairs se = sd_diff / √n, the textbook (z_{1-α/2} + z_{1-β}) · sd / √n."""
    z = NormalDist().inv_cdf
    return (z(1.0 - (1.0 - level) / 2.0) + z(power)) * se


@dataclass(frozen=True)
class PairedResult:
    """Mean paired difference with its bootstrap interval, n and minimum detectable difference.

    `n_seeds` clusters (seeds) hold `n` pairs in all (seeds × prompts); `sd` is the spread of
    the single pair differences, `se` the bootstrap standard error of their mean (it includes
    the spread between seeds), `mdd` the minimum detectable difference from `se`.
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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def paired_bootstrap(
    groups: Sequence[np.ndarray | Sequence[float]], n: int = 2000, seed: int = 0,
    level: float = LEVEL, power: float = POWER,
) -> PairedResult | None:
    """Two-stage percentile bootstrap of the mean pair difference; None without pairs.

    `groups` holds one array of pair differences per seed (a seed's prompts, across the
    personas of a scenario). Scheme: each of `n` resamples draws as many seeds as there are,
    with replacement, then within every drawn seed draws its pairs with replacement, and
    takes the mean over all drawn pairs. Seeds are resampled because runs of one seed share
    a trajectory (their prompts are not independent of each other); prompts within a seed
    because the probe set is a sample too. With one seed this is the ordinary bootstrap
    over prompts. The interval is the (1-level)/2 and (1+level)/2 percentiles, seeded by
    `seed` (numpy default_rng), so a leaderboard is reproducible.
    """
    clusters = [np.asarray(g, dtype=float) for g in groups]
    clusters = [g[~np.isnan(g)] for g in clusters]
    clusters = [g for g in clusters if g.size]
    if not clusters:
        return None
    pooled = np.concatenate(clusters)
    rng = np.random.default_rng(seed)
    sums = np.array([g.sum() for g in clusters])
    sizes = np.array([g.size for g in clusters])
    stats = np.empty(n)
    for b in range(n):
        picked = rng.integers(0, len(clusters), len(clusters))
        total = 0.0
        for k in picked:
            g = clusters[k]
            total += g[rng.integers(0, g.size, g.size)].sum() if g.size > 1 else sums[k]
        stats[b] = total / sizes[picked].sum()
    tail = (1.0 - level) / 2.0 * 100.0
    lo, hi = np.percentile(stats, [tail, 100.0 - tail])
    se = float(stats.std(ddof=1)) if n > 1 else float("nan")
    seeds = f"{len(clusters)} seed{'s' if len(clusters) > 1 else ''}"
    return PairedResult(
        mean=float(pooled.mean()),
        lo=float(lo),
        hi=float(hi),
        n_seeds=len(clusters),
        n=int(pooled.size),
        sd=float(pooled.std(ddof=1)) if pooled.size > 1 else float("nan"),
        se=se,
        mdd=minimum_detectable_difference(se, level, power),
        level=level,
        power=power,
        resamples=n,
        method=f"paired bootstrap over {seeds} x probe prompts ({pooled.size} pairs, {n} resamples)",
    )
