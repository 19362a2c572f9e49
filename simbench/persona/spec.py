"""The persona file format: pydantic models of a simulated user and its preference schedule.

Types, ranges and unknown keys are checked field by field; the schedule rules (known ids,
ordered phases, no preference active with its opposite, ...) run once the whole file parsed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Optional

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from simbench.errors import InputError
from simbench.persona.library import PREFERENCES, builtin_ids
from simbench.persona.local import DeclarativeChecker
from simbench.persona.preference import Preference
from simbench.persona.safe_regex import UnsafePattern, check_pattern
from simbench.persona.scenario import are_opposites
from simbench.registry import suggest

SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"
Slug = Annotated[str, Field(pattern=SLUG, max_length=64)]
# A preference holds a phrase the simulated user sends; a cap keeps typos in a file
# (a pasted essay) from flowing into every prompt of an LLM user.
Phrase = Annotated[str, Field(min_length=1, max_length=500)]

RULE_ERROR = "persona_rule"


class _Model(BaseModel):
    # strict: YAML's `yes` or `60.5` must not silently become a preference id or a count.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class PromptRefs(_Model):
    """Where the persona's training prompts and held-out probe prompts come from."""

    train: str = Field(
        "builtin:train",
        min_length=1,
        description="Training prompt pool: 'builtin:<name>' or a JSONL path relative to the "
        "persona file (kept inside its folder unless allow_outside_paths is true).",
    )
    probe: str = Field(
        "builtin:probe",
        min_length=1,
        description="Held-out probe prompts, never trained on: 'builtin:<name>' or a path; "
        "must not share a prompt with the training pool.",
    )


class Noise(_Model):
    """How often the simulated user says something unrelated to the response."""

    irrelevant_rate: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Share of follow-ups (0..1) that are irrelevant to the response, "
        "e.g. 0.3 for a distracted user.",
    )


class Phase(_Model):
    """A stretch of the episode during which one set of preferences is active."""

    at: int = Field(
        ge=0,
        description="Interaction index (0-based) at which this phase starts; the first phase "
        "starts at 0 and each phase runs until the next one starts.",
    )
    preferences: list[str] = Field(
        min_length=1,
        description="Ids of the preferences active during this phase (built-in or defined "
        "under `preferences`).",
    )


class LocalCheck(_Model):
    """A declarative checker; every condition given must hold for a response to pass."""

    max_words: Optional[int] = Field(
        None, ge=1, description="Pass when the response has at most this many words."
    )
    min_words: Optional[int] = Field(
        None, ge=1, description="Pass when the response has at least this many words."
    )
    max_sentences: Optional[int] = Field(
        None,
        ge=1,
        description="Pass when the response has at most this many sentences (list items and "
        "headings count as sentences).",
    )
    forbid_regex: Optional[str] = Field(
        None, min_length=1, description="Python regex; fail when it matches anywhere in the response "
        "(patterns that could backtrack without end are refused; see personas/README.md)."
    )
    require_regex: Optional[str] = Field(
        None, min_length=1, description="Python regex; fail unless it matches somewhere in the response."
    )

    @field_validator("forbid_regex", "require_regex")
    @classmethod
    def _compiles(cls, pattern: Optional[str]) -> Optional[str]:
        if pattern is not None:
            try:
                check_pattern(pattern)
            except UnsafePattern as exc:
                # No context: the message is final, so braces in the pattern stay literal.
                raise PydanticCustomError("regex", str(exc)) from None
        return pattern

    @model_validator(mode="after")
    def _consistent(self) -> LocalCheck:
        if all(value is None for _, value in self):
            raise PydanticCustomError(
                "empty_check",
                "a check needs at least one of max_words, min_words, max_sentences, "
                "forbid_regex, require_regex",
            )
        if self.max_words is not None and self.min_words is not None and self.min_words > self.max_words:
            raise PydanticCustomError(
                "empty_check",
                f"min_words {self.min_words} is above max_words {self.max_words}: no response can pass",
            )
        return self


class LocalPreference(_Model):
    """A preference defined inside the persona file, next to the built-in library."""

    id: Slug = Field(description="Lowercase slug, e.g. 'under-50-words'; must not reuse a built-in id.")
    description: str = Field(
        min_length=1, description="What the user wants, one sentence written for the simulated user."
    )
    opposite: Optional[str] = Field(
        None, description="Id of the preference that contradicts this one (built-in or local)."
    )
    complaints: list[Phrase] = Field(
        min_length=1,
        description="Follow-ups the user sends when a response violates it; say what to do.",
    )
    praise: list[Phrase] = Field(
        default_factory=list, description="Follow-ups the user sends when a response satisfies it."
    )
    check: Optional[LocalCheck] = Field(
        None, description="Declarative checker deciding whether a response satisfies it (or give `rubric`)."
    )
    rubric: Optional[str] = Field(
        None, min_length=1, max_length=1000,
        description="Instead of `check`: the criterion an LLM judge scores (`--judge`); without a "
        "judge the preference is reported as not scored.",
    )

    @model_validator(mode="after")
    def _one_scorer(self) -> LocalPreference:
        if (self.check is None) == (self.rubric is None):
            raise PydanticCustomError("scorer", "give exactly one of check (a checker) and rubric (judge-scored)")
        return self


def build_checker(check: LocalCheck) -> DeclarativeChecker:
    """The checker a persona file's `check:` block describes."""
    return DeclarativeChecker(**check.model_dump())


def to_preference(local: LocalPreference) -> Preference:
    """A persona-local definition as the `Preference` every user simulator and probe uses."""
    return Preference(
        id=local.id,
        description=local.description,
        checker=build_checker(local.check) if local.check is not None else None,
        rubric=local.rubric,
        opposite=local.opposite,
        complaints=tuple(local.complaints),
        praise=tuple(local.praise),
        min_tokens=(local.check.min_words or 0) if local.check is not None else 0,
    )


class Persona(_Model):
    """A simulated user: who they are, which prompts they ask, and what they want when."""

    id: Slug = Field(description="Lowercase slug naming the persona, e.g. 'concise-then-detailed'.")
    name: str = Field(min_length=1, max_length=120, description="Short human-readable name.")
    background: str = Field(
        min_length=1, description="Who the user is, in prose; LLM user simulators role-play from it."
    )
    interactions: int = Field(
        60,
        ge=1,
        le=100_000,
        description="Episode length: number of interactions (prompt, response, follow-up).",
    )
    prompts: PromptRefs = Field(default_factory=PromptRefs, description="Training and probe prompt sources.")
    noise: Noise = Field(
        default_factory=Noise, description="How often follow-ups are unrelated to the response."
    )
    schedule: list[Phase] = Field(
        min_length=1, description="Phases in order of `at`; the first starts at interaction 0."
    )
    preferences: list[LocalPreference] = Field(
        default_factory=list,
        description="Persona-local preference definitions, used like built-ins in the schedule.",
    )
    allow_outside_paths: bool = Field(
        False,
        description="Allow prompt paths that resolve outside the persona file's folder and the "
        "package data.",
    )

    _source: Optional[Path] = PrivateAttr(None)

    @model_validator(mode="after")
    def _schedule_rules(self) -> Persona:
        _check_local_preferences(self)
        _check_schedule(self)
        return self

    @property
    def source(self) -> Optional[Path]:
        """The file this persona was loaded from (None when built in memory)."""
        return self._source

    def known_ids(self) -> list[str]:
        """Every preference id a schedule may name: local ones, then the built-ins."""
        local = [p.id for p in self.preferences]
        return local + [pid for pid in builtin_ids() if pid not in local]

    def preference(self, pid: str) -> Preference:
        """The preference `pid`, looked up among local definitions first, then the built-ins."""
        for local in self.preferences:
            if local.id == pid:
                return to_preference(local)
        if pid in PREFERENCES:
            return PREFERENCES.get(pid)
        raise InputError(
            f"persona {self.id!r}", f"unknown preference {pid!r}", suggest(pid, self.known_ids(), list_when_close=False)
        )

    def warnings(self) -> list[str]:
        """One line per local preference that shares its id with a registered (built-in or
        plugin) preference: the persona keeps its own definition, which a reader may not expect."""
        return [f"preferences[{i}].id: {local.id!r} is also a built-in preference id; this persona uses its "
                "own definition (rename it to silence this)"
                for i, local in enumerate(self.preferences) if local.id in PREFERENCES]

    def content_hash(self) -> str:
        """sha256 of the canonical JSON of this persona: provenance that ignores formatting."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def rule_error(field: str, problem: str, hint: str = "") -> PydanticCustomError:
    """A schedule-rule violation carrying its own field path, so the loader can name it."""
    context = {"field": field, "problem": problem, "hint": hint}
    return PydanticCustomError(RULE_ERROR, "{field}: {problem}", context)


def _check_local_preferences(persona: Persona) -> None:
    seen: set[str] = set()
    for i, local in enumerate(persona.preferences):
        field = f"preferences[{i}].id"
        # A local id equal to a registered one is the persona's own definition (a warning,
        # `Persona.warnings`): adding a built-in must never invalidate a valid persona file.
        if local.id in seen:
            raise rule_error(field, f"duplicate local preference id {local.id!r}")
        seen.add(local.id)
    known = sorted(seen | set(PREFERENCES.names()))
    for i, local in enumerate(persona.preferences):
        field = f"preferences[{i}].opposite"
        if local.opposite == local.id:
            raise rule_error(field, f"{local.id!r} cannot be its own opposite")
        if local.opposite is not None and local.opposite not in known:
            raise rule_error(
                field, f"unknown preference {local.opposite!r}", suggest(local.opposite, known, list_when_close=False)
            )


def _check_schedule(persona: Persona) -> None:
    known = persona.known_ids()
    n = persona.interactions
    previous: Optional[Phase] = None
    for k, phase in enumerate(persona.schedule):
        at = f"schedule[{k}].at"
        if k == 0 and phase.at != 0:
            raise rule_error(
                at,
                f"the first phase must start at 0, got {phase.at}",
                "every interaction needs active preferences",
            )
        if previous is not None and phase.at == previous.at:
            raise rule_error(
                at,
                f"duplicate phase start {phase.at} (schedule[{k - 1}] starts there too)",
                "merge the two phases",
            )
        if previous is not None and phase.at < previous.at:
            raise rule_error(
                at,
                f"phase starts at {phase.at}, before schedule[{k - 1}] at {previous.at}",
                "list phases in increasing order of `at`",
            )
        if phase.at >= n:
            raise rule_error(
                at,
                f"phase starts at {phase.at}, beyond the episode (interactions: {n})",
                f"use at < {n} or raise interactions",
            )
        _check_phase_preferences(persona, k, known)
        if previous is not None and set(phase.preferences) == set(previous.preferences):
            raise rule_error(
                f"schedule[{k}].preferences", f"same preferences as schedule[{k - 1}]", "merge the two phases"
            )
        previous = phase


def _check_phase_preferences(persona: Persona, k: int, known: list[str]) -> None:
    prefs = persona.schedule[k].preferences
    for j, pid in enumerate(prefs):
        field = f"schedule[{k}].preferences[{j}]"
        if pid not in known:
            raise rule_error(field, f"unknown preference {pid!r}", suggest(pid, known, list_when_close=False))
        if pid in prefs[:j]:
            raise rule_error(field, f"duplicate preference {pid!r} in one phase")
    opposite = {pid: persona.preference(pid).opposite for pid in prefs}
    for j, pid in enumerate(prefs):
        for other in prefs[:j]:
            # Checked both ways: a preference may name an opposite that names another one.
            if are_opposites(pid, other, opposite):
                raise rule_error(
                    f"schedule[{k}].preferences[{j}]",
                    f"{pid!r} and its opposite {other!r} are active together",
                    "a user cannot want both; put them in different phases",
                )
