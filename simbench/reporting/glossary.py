"""Every symbol and flag a report or leaderboard prints, in words: what it is, its formula
and which direction is better. Both formats render these tables, so a reader never has to
guess what AULC, U or BWT mean, or what "censored" says about a number.
"""

from __future__ import annotations

from typing import NamedTuple


class Term(NamedTuple):
    symbol: str
    meaning: str
    formula: str
    better: str


PHASES = ("Phases are numbered from 1 in schedule order; phase k starts at interaction τ_k. "
          "A probe at time t has seen t interactions.")

GLOSSARY = (
    Term("t", "interactions seen when a probe ran", "0, every Δ, and the episode end", "–"),
    Term("s_j(t)", "adherence to preference j", "share of held-out probe answers passing j's checker",
         "higher, while j is wanted"),
    Term("b", "base rate", "the frozen arm's adherence (mean over its probes); without one, the run's own s at t=0",
         "–"),
    Term("c", "ceiling", "the in-context oracle's adherence while the phase is active; without one, 1", "–"),
    Term("g(t)", "normalised gain", "clip((s(t) − b) / (c − b), 0, 1)", "higher"),
    Term("θ, w", "threshold and hold", "g ≥ θ (default 0.8) at w (default 2) consecutive probes", "–"),
    Term("N (steps to threshold)", "interactions until adopted", "first t − τ_k with g ≥ θ held for w probes",
         "lower"),
    Term("AULC", "normalised area under the learning curve", "mean of g over the phase's probes (τ_k..end)",
         "higher"),
    Term("final adherence", "raw s at the phase's last probe", "s_j(last probe of the phase)", "higher"),
    Term("U(t)", "unlearning score of a dropped or flipped preference",
         "clip((s(τ) − s(t)) / (s(τ) − b), 0, 1)", "higher"),
    Term("steps to unlearn", "interactions until the old habit is gone", "first t − τ with U ≥ θ held for w probes",
         "lower"),
    Term("perseveration", "how long the old habit lingers", "mean of 1 − U over the probes after τ", "lower"),
    Term("R[i][j]", "forgetting matrix", "s_j at the end of phase i; R[0][j] = b_j", "higher"),
    Term("ACC", "average final adherence", "mean_j R[K][j]", "higher"),
    Term("BWT", "backward transfer", "mean_{j<K} (R[K][j] − R[j][j])", "higher (negative = forgetting)"),
    Term("F", "forgetting", "mean_{j<K} (max_{l∈[j,K−1]} R[l][j] − R[K][j])", "lower"),
    Term("min-ACC", "worst adherence after learning, averaged",
         "mean over earlier preferences j of the lowest s_j at any probe after j's phase ended", "higher"),
    Term("specificity", "learning from what the user said",
         "adherence(learner) − adherence(same learner, unrelated feedback), paired by seed and probe prompt",
         "higher"),
    Term("drift", "distance from the frozen model on what it already does",
         "KL(frozen ‖ policy) per token on fixed general texts and answers, in nats", "lower"),
    Term("retained", "general knowledge kept",
         "accuracy at t on the general questions answered right at t=0", "higher (1 = nothing lost)"),
    Term("cost", "seconds per interaction", "generation + user + update + probing (each total ÷ interactions)",
         "lower"),
    Term("95% CI", "interval of the mean",
         "the simulated user (seed) is the unit: mean ± t(0.975, users − 1) × SE over users, the SE "
         "cluster-robust for paired differences; with one seed a t-interval (paired) or a percentile "
         "bootstrap (2000 resamples) over its probe prompts, which says nothing about other users; "
         "clipped to the metric's range ([0, 1], or [−1, 1] for a difference). A zero-width interval "
         "means the users (or resamples) did not vary",
         "narrower"),
    Term("flagged follow-ups", "LLM user replies that failed the quality gate after every retry",
         "flagged ÷ gated follow-ups", "lower"),
)

FLAG_WORDS = {
    "censored": "threshold not reached within the phase; the steps shown are the phase length",
    "no_headroom": "no headroom: the frozen model already does as well as the ceiling (c ≤ b); "
                   "not applicable, left out of means",
    "saturated": "saturated: adherence was already at 1.00 before the phase began",
    "no_probes": "no probe in this phase: nothing was measured",
    "too_few_probes_to_sustain": "fewer probes in the phase than the w needed to hold the threshold",
    "unreachable_at_token_cap": "no answer within max_new_tokens can pass this preference",
    "not_scored": "judge-scored preference that no judge scored (the run had no --judge, or every "
                  "verdict was unparseable): no numbers, left out of means; `report --judge` scores it "
                  "from the logged answers",
    "no_probe_before_change": "no probe right at the change: the starting level is unknown",
    "nothing_to_unlearn": "nothing to unlearn: adherence was less than 0.1 above the base when it stopped "
                          "being wanted; not applicable, left out of means",
}


def flag_words(flags: list[str] | tuple[str, ...]) -> str:
    """The flags of a metrics row in words ("–" when none)."""
    return "; ".join(FLAG_WORDS.get(flag, flag) for flag in flags) or "–"


def glossary_rows() -> list[list[str]]:
    return [[t.symbol, t.meaning, t.formula, t.better] for t in GLOSSARY]


GLOSSARY_HEADERS = ["symbol", "what it is", "formula", "better when"]


def flag_rows() -> list[list[str]]:
    return [[code, words] for code, words in FLAG_WORDS.items()]
