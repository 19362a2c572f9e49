"""The typed leaderboard.json: `Leaderboard`, one `LeaderboardRow` per learner and model with a
cell per scenario type and metric, and one `LeaderboardRun` per run it rests on.

`simbench schema leaderboard` prints its JSON Schema. Optional keys a board did not need are
left out of the file (`dump`), so boards without a judge or judge-scored wishes read as they
always did; leaderboards written before `schema_version` existed read as version 1.
"""

from __future__ import annotations

from typing import Any, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

LEADERBOARD_VERSION = 1
"""Version of `Leaderboard`; fields added later get defaults so older files still read."""


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MetricCell(_Part):
    """A per-run metric over the row's runs of one scenario type (leaderboard.py `cell_stats`)."""

    mean: Optional[float] = Field(description="Mean over users (seeds) of each user's mean; null: not scored.")
    lo: Optional[float] = Field(description="Lower end of the 95% interval; null: no interval.")
    hi: Optional[float] = Field(description="Upper end of the 95% interval; null: no interval.")
    n_seeds: int = Field(description="Users (seeds) in the cell: the independent unit.")
    n_runs: int = Field(description="Runs in the cell.")
    df: Optional[int] = Field(None, description="Degrees of freedom of a t interval over users.")
    not_scored: Optional[str] = Field(None, description="Why a judge-scored cell has no number.")
    method: str = Field(description="How the interval was made, in words.")


class PairedStats(_Part):
    """A mean paired difference with its t interval over users (metrics/paired.py)."""

    mean: Optional[float] = Field(description="Mean paired difference.")
    lo: Optional[float] = Field(description="Lower end of the 95% interval.")
    hi: Optional[float] = Field(description="Upper end of the 95% interval.")
    n_seeds: int = Field(description="Users (seeds) holding the pairs.")
    n: int = Field(description="Pairs (users x personas x prompts).")
    sd: Optional[float] = Field(description="Spread of the single pair differences.")
    se: Optional[float] = Field(description="Cluster-robust standard error of the mean.")
    mdd: Optional[float] = Field(description="Minimum detectable difference at this n (level, power).")
    level: float = Field(description="Confidence level of the interval.")
    power: float = Field(description="Power the minimum detectable difference is computed for.")
    resamples: int = Field(description="0: the interval is analytic (kept for readers of old files).")
    method: str = Field(description="How the interval was made, in words.")
    unit: str = Field("user", description='What the interval treats as independent: "user" or "prompt".')
    df: int = Field(0, description="Degrees of freedom of the t interval.")


class PairedCell(PairedStats):
    """Specificity, vs_frozen or flip_vs_no_flip: runs paired by seed and probe prompt."""

    control: Optional[str] = Field(None, description="The control arm(s) of a specificity cell.")
    n_runs: int = Field(description="Run pairs in the cell.")
    new_change: Optional[PairedStats] = Field(None, description="Flip cells: the new wish's change from τ.")
    old_change: Optional[PairedStats] = Field(None, description="Flip cells: the old wish's change from τ.")
    unlearning_applicable: Optional[bool] = Field(None, description="Flip cells: the old wish had something to unlearn.")
    verdict: Optional[str] = Field(None, description="Flip cells: the verdict (metrics/flip_verdict.py).")
    verdict_words: Optional[str] = Field(None, description="Flip cells: the verdict as a sentence.")


class WinRateCell(_Part):
    """The judge's win rate against the frozen arm (reporting/win_rate.py)."""

    mean: Optional[float] = Field(description="Win rate (ties count half).")
    lo: Optional[float] = Field(description="Lower end of the 95% interval.")
    hi: Optional[float] = Field(description="Upper end of the 95% interval.")
    pairs: int = Field(description="Judged answer pairs.")
    n_seeds: int = Field(description="Users (seeds).")
    n_runs: int = Field(description="Run pairs judged.")
    ties: float = Field(description="Share of ties.")
    position_bias: Optional[float] = Field(description="Share of pairs whose two orders picked the same slot.")
    method: str = Field(description="How the interval was made, in words.")


Cell = Union[MetricCell, PairedCell, WinRateCell]


class LeaderboardRow(_Part):
    """One learner on one model: a cell per scenario type and metric (null: nothing to show)."""

    learner: str = Field(description="The learning arm.")
    model: str = Field(description="The policy model.")
    cells: dict[str, dict[str, Optional[Cell]]] = Field(description="scenario type -> metric -> cell.")


class Column(_Part):
    """A (scenario type, metric) column of the board."""

    scenario: str = Field(description="Scenario type.")
    metric: str = Field(description="Metric id (a key of `Leaderboard.metrics`).")


class JudgeScored(_Part):
    """Who scored a run's judge-scored preferences, and when."""

    by: str = Field(description="The judge, as model at endpoint.")
    when: str = Field(description="Scored during the run or after it.")
    preferences: list[str] = Field(description="The judge-scored preferences.")


class LeaderboardRun(_Part):
    """One complete run the board rests on."""

    run: str = Field(description="The run folder's name.")
    persona: Optional[str] = Field(description="Persona id.")
    learner: str = Field(description="The learning arm.")
    model: str = Field(description="The policy model.")
    seed: int = Field(description="The run's seed: the simulated user.")
    scenario: str = Field(description="Scenario type of the persona's schedule.")
    frozen_baseline: Optional[str] = Field(description="The frozen run used for b (null: none).")
    oracle_baseline: Optional[str] = Field(description="The in-context-oracle run used for c (null: none).")
    metrics: dict[str, Optional[float]] = Field(description="The run's per-run metrics (null: not applicable).")
    judge_scored: Optional[JudgeScored] = Field(None, description="Who scored its judge-scored preferences.")
    not_scored: Optional[dict[str, str]] = Field(None, description="Judge-scored preferences nobody scored, and why.")


class Provenance(_Part):
    """What produced the runs of the board."""

    simulator: list[str] = Field(description="User simulators (with their models).")
    judge: list[str] = Field(description="Judges of the runs (or who scored after them).")
    model: list[str] = Field(description="Policy models.")
    persona_hashes: dict[str, list[str]] = Field(description="Persona id -> content hashes of its files.")
    versions: dict[str, list[str]] = Field(description="Package -> versions the runs used.")
    git_commit: list[str] = Field(description="Commits the runs were made at.")
    seeds: list[int] = Field(description="Seeds (users) of the runs.")
    judge_scored: Optional[dict[str, list[str]]] = Field(None, description="Judge -> the preferences it scored.")


class Skipped(_Part):
    """A folder of the results folder that the board left out."""

    run: str = Field(description="The folder left out.")
    reason: str = Field(description="Why, in words.")


class Leaderboard(_Part):
    """A leaderboard.json: every complete run of a results folder, compared per learner."""

    schema_version: int = Field(LEADERBOARD_VERSION, le=LEADERBOARD_VERSION, description="Version of this schema.")
    results_dir: str = Field(description="The results folder read.")
    created: str = Field(description="When the board was built (UTC, ISO 8601).")
    bootstrap: int = Field(description="Resamples for one-seed cells.")
    metrics: dict[str, str] = Field(description="Metric id -> what it measures, in words.")
    judge: Optional[dict[str, str]] = Field(None, description="The judge of the win rate (boards built with one).")
    columns: list[Column] = Field(description="The (scenario, metric) columns with at least one cell.")
    rows: list[LeaderboardRow] = Field(description="One row per learner and model.")
    provenance: Provenance = Field(description="What produced the runs.")
    notes: list[str] = Field(description="Caveats a reader must see next to the numbers.")
    runs: list[LeaderboardRun] = Field(description="The runs the board rests on.")
    skipped: list[Skipped] = Field(description="Folders left out, and why.")

    def dump(self) -> dict[str, Any]:
        """The JSON object of leaderboard.json: optional keys this board did not set left out."""
        return self.model_dump(exclude_unset=True)
