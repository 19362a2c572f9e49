"""Power of a paired comparison: the variance components of per-(user, prompt) pair
differences, the minimum detectable difference (MDD) they imply, and how many users a target
MDD needs with one shared probe set or with each user's own probe draws.

A pair difference is modelled as d[u, p] = μ + a_u + b_p + e_up with a user effect
a ~ (0, σ²_u), a prompt effect b ~ (0, σ²_p) and residual noise e ~ (0, σ²_e). The simulated
user is the independent unit (metrics/paired.py); prompts are a sample from a pool too, so a
design that shows every user the same P prompts keeps their σ²_p/P however many users it adds.
Pure functions on numbers: callers (reporting/power.py) pass the differences.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any, Mapping, Sequence

import numpy as np

from simbench.metrics.paired import LEVEL, POWER, minimum_detectable_difference

# Past this many users a design is reported as out of reach (the search stops there).
MAX_USERS = 1_000_000


@dataclass(frozen=True)
class VarianceComponents:
    """Estimated variances of the pair differences (method of moments, clipped at 0).

    `users` and `probes` (the median number of prompts per user) describe the data;
    `shared_prompts` is how many prompts every user answered. `prompt` is None when fewer than
    two prompts are shared: then prompt and residual variance cannot be told apart and
    `residual` holds their sum (σ²_p + σ²_e)."""

    users: int
    probes: int
    shared_prompts: int
    user: float
    prompt: float | None
    residual: float
    method: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class UsersNeeded:
    """For `probes` prompts per user: the fewest users whose MDD is <= the target with one
    shared prompt set (`shared`) and with per-user prompt draws (`per_user`); None when not
    reachable (within MAX_USERS). `shared_floor` is the shared set's MDD as users → ∞,
    z-based: (z_0.975 + z_0.80) · σ_p/√P; a target at or below it is never reached with
    that set, whatever the number of users."""

    probes: int
    shared: int | None
    per_user: int | None
    shared_floor: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def variance_components(users: Sequence[Mapping[str, float]]) -> VarianceComponents:
    """σ²_u, σ²_p and σ²_e of pair differences given one {prompt id: difference} per user.

    With ≥ 2 prompts that every user answered, a two-way ANOVA without replication on the
    U × P block of those prompts (balanced, so expected mean squares are exact):
        MS_U = P · Σ_u (d̄_u· − d̄)² / (U−1)          E = σ²_e + P·σ²_u
        MS_P = U · Σ_p (d̄_·p − d̄)² / (P−1)          E = σ²_e + U·σ²_p
        MS_E = Σ (d_up − d̄_u· − d̄_·p + d̄)² / ((U−1)(P−1))   E = σ²_e
    so σ²_e = MS_E, σ²_u = (MS_U − MS_E)/P and σ²_p = (MS_P − MS_E)/U: the variance of the
    per-prompt means across prompts minus what residual noise explains of it. With fewer shared
    prompts (each user drew their own), a one-way ANOVA with users as groups: σ²_u =
    (MS_B − MS_W)/n₀ with n₀ = (N − Σn_u²/N)/(U−1), and MS_W = σ²_p + σ²_e together.
    Every component is clipped at 0 (a negative estimate means "too small to see here").
    Needs ≥ 2 users with ≥ 1 difference each and ≥ 2 differences in one user (ValueError)."""
    cleaned = [{k: float(v) for k, v in u.items() if np.isfinite(v)} for u in users]
    cleaned = [u for u in cleaned if u]
    if len(cleaned) < 2:
        raise ValueError("variance components need at least two users with pair differences")
    sizes = np.array([len(u) for u in cleaned], dtype=float)
    if sizes.sum() <= len(cleaned):
        raise ValueError("variance components need a user with two or more pair differences")
    probes = int(np.median(sizes))
    shared = sorted(set.intersection(*(set(u) for u in cleaned)))
    if len(shared) >= 2:
        block = np.array([[u[p] for p in shared] for u in cleaned])
        n_users, n_prompts = block.shape
        grand = block.mean()
        user_means, prompt_means = block.mean(axis=1), block.mean(axis=0)
        ms_user = n_prompts * np.sum((user_means - grand) ** 2) / (n_users - 1)
        ms_prompt = n_users * np.sum((prompt_means - grand) ** 2) / (n_prompts - 1)
        residuals = block - user_means[:, None] - prompt_means[None, :] + grand
        ms_error = np.sum(residuals ** 2) / ((n_users - 1) * (n_prompts - 1))
        return VarianceComponents(
            users=len(cleaned), probes=probes, shared_prompts=len(shared),
            user=max(0.0, float((ms_user - ms_error) / n_prompts)),
            prompt=max(0.0, float((ms_prompt - ms_error) / n_users)),
            residual=max(0.0, float(ms_error)),
            method=f"two-way ANOVA (users x prompts) on the {len(shared)} prompts all {n_users} users answered",
        )
    groups = [np.array(list(u.values())) for u in cleaned]
    total, n_users = sizes.sum(), len(groups)
    grand = np.concatenate(groups).mean()
    ms_between = sum(g.size * (g.mean() - grand) ** 2 for g in groups) / (n_users - 1)
    ms_within = sum(np.sum((g - g.mean()) ** 2) for g in groups) / (total - n_users)
    n0 = (total - np.sum(sizes ** 2) / total) / (n_users - 1)
    return VarianceComponents(
        users=n_users, probes=probes, shared_prompts=len(shared),
        user=max(0.0, float((ms_between - ms_within) / n0)), prompt=None,
        residual=max(0.0, float(ms_within)),
        method="one-way ANOVA (users as groups): too few shared prompts to separate prompt from residual variance",
    )


def mean_variance(components: VarianceComponents, users: int, probes: int, shared: bool) -> float | None:
    """Variance of the mean pair difference over `users` users × `probes` prompts each.

    Shared prompt set: σ²_u/U + σ²_p/P + σ²_e/(U·P); the prompt term does not shrink with U.
    Per-user prompt draws: (σ²_u + σ²_p/P + σ²_e/P)/U; every term does. None for the shared
    design when the prompt variance is unknown."""
    within = components.residual + (components.prompt or 0.0)
    if not shared:
        return (components.user + within / probes) / users
    if components.prompt is None:
        return None
    return components.user / users + components.prompt / probes + components.residual / (users * probes)


def design_mdd(components: VarianceComponents, users: int, probes: int, shared: bool,
               level: float = LEVEL, power: float = POWER) -> float | None:
    """The MDD of a design, (t_{1-α/2, U-1} + t_{power, U-1}) · √Var(mean) (`mean_variance`);
    None when it cannot be computed (fewer than 2 users, or an unknown prompt variance)."""
    variance = mean_variance(components, users, probes, shared)
    if variance is None or users < 2:
        return None
    return minimum_detectable_difference(float(np.sqrt(variance)), users - 1, level, power)


def users_needed(components: VarianceComponents, target: float, probes: int,
                 level: float = LEVEL, power: float = POWER) -> UsersNeeded:
    """The fewest users (≥ 2) whose `design_mdd` is <= `target` at `probes` prompts per user,
    for both designs. The MDD falls as users are added (the variance and the t quantiles at
    U − 1 df both fall), so a doubling search brackets U and a bisection finds it."""
    if target <= 0 or probes < 1:
        raise ValueError("the target MDD must be > 0 and probes >= 1")
    floor = None
    if components.prompt is not None:
        z = NormalDist().inv_cdf
        floor = (z(1.0 - (1.0 - level) / 2.0) + z(power)) * float(np.sqrt(components.prompt / probes))

    def fewest(shared: bool) -> int | None:
        def reached(n: int) -> bool:
            mdd = design_mdd(components, n, probes, shared, level, power)
            return mdd is not None and mdd <= target

        if shared and (floor is None or floor >= target):
            return None
        high = 2
        while not reached(high):
            if high >= MAX_USERS:
                return None
            high = min(2 * high, MAX_USERS)
        low = high // 2 if high > 2 else 1  # reached(low) is False (or low < 2)
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (low, middle) if reached(middle) else (middle, high)
        return high

    return UsersNeeded(probes=probes, shared=fewest(True), per_user=fewest(False), shared_floor=floor)
