"""Turning a validated `RunConfig` into the objects an episode drives (names -> objects).

`resolve_inputs` reads and checks every input file and name without loading a model, so a
bad flag or file fails before anything is written; `build_parts` then loads the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sdpo.precision_choice import PathChoice, PrecisionUnavailable
from sdpo.precision_choice import resolve as resolve_precision
from simbench.backends import BACKENDS
from simbench.config import RunConfig
from simbench.errors import InputError
from simbench.judge import build_judge
from simbench.learners import LEARNERS
from simbench.paths import resolve_persona
from simbench.persona.engine import PersonaEngine
from simbench.persona.loader import load_persona, load_persona_prompts, parse_persona
from simbench.persona.preference import token_cap_warnings, token_floors
from simbench.plugins import load_plugins
from simbench.prompts import GeneralQuestion, Prompt, load_drift_texts, load_general
from simbench.prompts.draws import draw_probes
from simbench.runner.episode import EpisodeSpec, probe_times
from simbench.scoring import Scorer
from simbench.users import USERS
from simbench.users.base import UserContext


@dataclass
class Inputs:
    """Everything a run reads, validated, before any model is loaded or file written."""

    config: RunConfig
    persona: Any
    persona_path: Path
    engine: Any
    train: list[Prompt]
    probe: list[Prompt]
    general: list[GeneralQuestion]
    drift_texts: list[Prompt] = field(default_factory=list)
    judge: Any = None
    """The run's judge (simbench.judge.Judge) when `--judge` names one; built without a request."""
    matmul_path: str = "fp32"
    """What `--precision` resolves to on this machine and device ("fp32" or "bf16"), once."""
    matmul_reason: str = "asked for"
    """Why that path: asked for, or what the start-up measurement showed (sdpo/precision_choice.py)."""

    @property
    def interactions(self) -> int:
        return self.persona.interactions

    def token_floors(self) -> dict[str, int]:
        """Minimum answer lengths (tokens) of the preferences the persona ever holds."""
        return token_floors(self.persona.preference(pid) for pid in self.engine.ever())

    def warnings(self) -> list[str]:
        """Settings that make part of the run meaningless, e.g. a preference no answer
        within the token cap can pass; printed before the run and kept in its manifest."""
        warnings = self.persona.warnings() + token_cap_warnings(self.token_floors(), self.config.max_new_tokens)
        warnings += unscored_warnings(self.engine.ever(), self.persona.preference, self.judge is not None)
        return warnings + unprobed_phase_warnings(self.engine.phase_bounds(), self.probe_times())

    @property
    def scorer(self) -> Scorer:
        return Scorer(self.judge)

    def probe_times(self) -> list[int]:
        """When the run will probe (runner/episode.py's rule)."""
        spec = EpisodeSpec(self.interactions, self.config.batch_size, self.config.probe_every)
        return probe_times(spec)


def unprobed_phase_warnings(bounds: list[tuple[int, int]], times: list[int]) -> list[str]:
    """One line per phase with no probe after it starts: nothing measures what it taught.

    `times` are the probe times; the probe at t has seen t interactions, so phase
    [start, end) is measured by probes with start < t <= end.
    """
    out = []
    for number, (start, end) in enumerate(bounds, start=1):
        if not any(start < t <= end for t in times):
            out.append(
                f"phase {number} (interactions {start}-{end - 1}) has no probe after it starts "
                f"(probes at t={', '.join(map(str, times))}): its adaptation cannot be measured "
                f"(choose --probe-every so a probe falls in {start + 1}..{end})"
            )
    return out


def resolve_inputs(config: RunConfig) -> Inputs:
    """Load the persona and prompt pools, check every registry name and that the backend can
    run here (vLLM installed), all before any model is loaded. The config's plugins are
    imported first: a sweep cell on a Ray worker or a resumed run starts here too."""
    load_plugins(config.plugins, where="plugins")
    for registry, name in ((LEARNERS, config.learner), (USERS, config.user)):
        registry.target(name)  # raises InputError with a did-you-mean hint
    BACKENDS.get(config.backend).preflight()
    path = resolve_persona(config.persona, flag="--persona")
    persona = load_persona(path, check_prompts=False)
    if config.interactions is not None and config.interactions != persona.interactions:
        data = persona.model_dump(mode="json")
        data["interactions"] = config.interactions
        source = persona.source
        persona = parse_persona(data, f"--interactions {config.interactions} with {path}")
        persona._source = source
    train, pool = load_persona_prompts(persona)
    engine = PersonaEngine(persona)
    probe = draw_probes(pool, config.probe_prompts, config.probe_draw, config.seed,
                        [persona.preference(pid) for pid in engine.ever()])
    judge = resolve_judge(config)
    matmul = resolve_matmul_path(config)
    general = load_general()
    if config.general_questions > len(general):
        raise InputError(
            "--general-questions",
            f"{config.general_questions} requested but only {len(general)} exist",
        )
    return Inputs(
        config=config,
        persona=persona,
        persona_path=path,
        engine=engine,
        train=train,
        probe=probe,
        general=general[: config.general_questions],
        drift_texts=load_drift_texts(),
        judge=judge,
        matmul_path=matmul.path,
        matmul_reason=matmul.reason,
    )


def resolve_matmul_path(config: RunConfig) -> PathChoice:
    """The path `--precision` takes here; "auto" is measured once per machine (cached)."""
    try:
        return resolve_precision(config.precision, config.device)
    except PrecisionUnavailable as exc:
        raise InputError("--precision", str(exc), "use --precision fp32 or auto") from None


def resolve_judge(config: RunConfig) -> Any:
    """The judge `--judge` names, built from `--judge-option` (no request is sent yet)."""
    if config.judge is None:
        if config.judge_options:
            raise InputError("--judge-option", "given without --judge", "add --judge openai, or drop the options")
        return None
    return build_judge(config.judge, config.judge_options)


def unscored_warnings(ever: Any, preference: Any, judged: bool) -> list[str]:
    """One line per judge-scored preference a run without a judge cannot score."""
    if judged:
        return []
    return [
        f"preference {pid!r} is judge-scored (a rubric, no checker) and the run has no --judge: "
        "it is logged as not scored, and the rules user does not react to it"
        for pid in ever if not preference(pid).verifiable
    ]


def build_user(inputs: Inputs) -> Any:
    """The user simulator named by the config, built by its own `from_config` hook."""
    try:
        return USERS.get(inputs.config.user).from_config(user_context(inputs))
    except TypeError as exc:
        raise InputError("--user-option", f"invalid options for user {inputs.config.user!r}: {exc}") from None


def check_user(inputs: Inputs) -> None:
    """The user simulator's options are valid, checked by its own `check_options` hook
    (which loads no model), before anything is loaded or written."""
    try:
        USERS.get(inputs.config.user).check_options(user_context(inputs))
    except TypeError as exc:
        raise InputError("--user-option", f"invalid options for user {inputs.config.user!r}: {exc}") from None


def user_context(inputs: Inputs) -> UserContext:
    config = inputs.config
    return UserContext(
        options=dict(config.user_options),
        background=inputs.persona.background,
        irrelevant_rate=inputs.persona.noise.irrelevant_rate,
        model=config.model,
        device=config.device,
        scorer=inputs.scorer,
    )
