"""The model passes behind a teachability map: frozen probes, hindsight sensitivity and the
relevant-vs-unrelated micro-run of every preference, on one loaded model.

Everything reuses the benchmark's own parts (episode `converse`/`probe`, the rules user,
`SDPOLearner`, `sdpo.signal.analyse_case`), so a row measures what a run would do. Both
arms of a micro-run start from the same weights (the LoRA matrices are restored, B = 0, and
the optimizer is new) and draw the same seeds, so their first batch of answers is identical:
the sensitivity cases are exactly the answers and follow-ups the first update trains on.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Sequence

from sdpo.signal import analyse_case, summarise
from simbench.backends.hf import GenerationConfig, HFBackend
from simbench.learners import LEARNERS
from simbench.learners.base import LearnerContext
from simbench.learners.frozen import FrozenLearner
from simbench.logs.schema import ProbeRecord
from simbench.persona.preference import Preference, beyond_cap, token_floors
from simbench.prompts import SignalCase
from simbench.run_defaults import DEFAULTS
from simbench.runner.episode import EpisodeParts, EpisodeSpec, converse, probe
from simbench.teaching.rows import Sensitivity, TeachabilityRow, micro_run
from simbench.users.rules import RulesUser

Progress = Callable[[str], None]
"""Called after every unit of work (a probe pass or an update) with a short description."""

ARMS = ("unrelated", "relevant")  # the unrelated arm first: its turns carry both follow-ups


@dataclass(frozen=True)
class TeachabilitySettings:
    """What to measure. `probes` held-out prompts answered greedily; `micro_steps` SDPO updates
    of `batch_size` interactions per arm; answers capped at `max_new_tokens`."""

    preferences: tuple[str, ...]
    max_new_tokens: int = 64
    probes: int = 16
    micro_steps: int = 2
    batch_size: int = 4
    seed: int = 0
    bootstrap: int = 2000
    learner_options: tuple[tuple[str, Any], ...] = ()

    def units(self) -> int:
        """Progress units: the frozen probe pass, then per preference and arm k updates + a probe."""
        return 1 + len(self.preferences) * len(ARMS) * (self.micro_steps + 1)


def measure_rows(
    model: Any,
    tokenizer: Any,
    preferences: Sequence[Preference],
    train: Sequence[Any],
    probes: Sequence[Any],
    settings: TeachabilitySettings,
    on_progress: Progress | None = None,
) -> list[TeachabilityRow]:
    """One `TeachabilityRow` per preference (in the order given)."""
    tick = on_progress or (lambda info: None)
    by_id = {p.id: p for p in preferences}
    backend = make_backend(model, tokenizer, settings.max_new_tokens, settings.batch_size)
    parts = single_phase_parts(by_id, tuple(by_id), train, probes, backend, FrozenLearner())
    frozen = probe(parts, _spec(settings), 0).records
    tick("frozen probes")
    floors = token_floors(preferences)
    unreachable = set(beyond_cap(floors, settings.max_new_tokens))
    start: dict[str, Any] | None = None
    rows = []
    for preference in preferences:
        passes: dict[str, list[bool]] = {}
        sensitivity: Sensitivity | None = None
        for arm in ARMS:
            learner = _learner(model, tokenizer, settings, unrelated=arm == "unrelated")
            # Later learners must get the LoRA-wrapped model, or peft would wrap it twice.
            model = learner.policy
            start = _restore(learner, start)
            parts = single_phase_parts(by_id, (preference.id,), train, probes, backend, learner)
            sense = partial(_sensitivity, model, tokenizer, learner) if arm == "unrelated" else None
            passes[arm], measured = _micro_arm(parts, settings, preference, tick, sense)
            sensitivity = sensitivity or measured
        assert sensitivity is not None
        rows.append(TeachabilityRow(
            preference=preference.id,
            frozen_adherence=sum(_passed(r, preference.id) for r in frozen) / len(frozen),
            probes=len(frozen),
            min_tokens=floors.get(preference.id, 0),
            reachable=preference.id not in unreachable,
            sensitivity=sensitivity,
            micro=micro_run(settings.micro_steps, passes["relevant"], passes["unrelated"],
                            settings.bootstrap, settings.seed),
        ))
    return rows


def _micro_arm(
    parts: Any,
    settings: TeachabilitySettings,
    preference: Preference,
    tick: Progress,
    sensitivity_of: Callable[[Sequence[Any]], Sensitivity] | None = None,
) -> tuple[list[bool], Sensitivity | None]:
    """k updates of one arm, then the held-out probe pass: per-probe passes, and
    `sensitivity_of` the first batch's turns, taken before the first update (start weights)."""
    spec = _spec(settings)
    b = settings.batch_size
    sensitivity = None
    for step in range(settings.micro_steps):
        turns = [turn for _, turn in converse(parts, spec, range(step * b, (step + 1) * b))]
        if step == 0 and sensitivity_of is not None:
            sensitivity = sensitivity_of(turns)
        parts.learner.observe(turns)
        tick(f"{preference.id}: update {step + 1}/{settings.micro_steps}")
    records = probe(parts, spec, settings.micro_steps * b).records
    tick(f"{preference.id}: probes")
    return [_passed(r, preference.id) for r in records], sensitivity


def _passed(record: ProbeRecord, pid: str) -> bool:
    """A probe record's checker verdict on `pid`; judge-scored preferences are refused before
    any measuring (`teachability.run`), so an unscored one here is a bug, not a user error."""
    passed = record.checks[pid].passed
    if passed is None:
        raise ValueError(f"preference {pid!r} was not scored; teachability measures checker-scored ones only")
    return passed


def _sensitivity(model: Any, tokenizer: Any, learner: Any, turns: Sequence[Any]) -> Sensitivity:
    """Mean |A| and end-of-turn shifts on the first batch: the user's follow-up (relevant) vs
    the control's unrelated message for the same turn (`learner.feedback`)."""

    signals = []
    for turn in turns:
        case = SignalCase(
            id=f"t{turn.t}", preference=",".join(turn.active), kind="on-policy",
            prompt=turn.messages[-1]["content"], response=turn.response_text,
            relevant=turn.follow_up, unrelated=learner.feedback(turn),
        )
        signals.append(analyse_case(model, tokenizer, case))
    summary = summarise(signals, group=False)
    # Sensitivity is the signal summary's numbers (same names) without its per-case groups.
    return Sensitivity(**{name: getattr(summary, name) for name in Sensitivity.__dataclass_fields__})


def _learner(model: Any, tokenizer: Any, settings: TeachabilitySettings, unrelated: bool) -> Any:
    context = LearnerContext(model=model, tokenizer=tokenizer, seed=settings.seed,
                             options={"signal_samples": 0, **dict(settings.learner_options)})
    return LEARNERS.get("sdpo-token+unrelated" if unrelated else "sdpo-token").from_config(context)


def _restore(learner: Any, start: dict[str, Any] | None) -> dict[str, Any]:
    """Put the LoRA weights back to `start` (None: take them as the start now)."""
    import torch

    parameters = learner.updater.parameters
    if start is None:
        return {name: p.detach().clone() for name, p in parameters.items()}
    with torch.no_grad():
        for name, p in parameters.items():
            p.copy_(start[name])
    return start


def make_backend(model: Any, tokenizer: Any, max_new_tokens: int, batch_size: int = 1) -> Any:
    """The transformers backend with a run's default sampling, answers capped at `max_new_tokens`."""
    config = GenerationConfig(
        max_new_tokens=max_new_tokens,
        temperature=DEFAULTS["temperature"],
        top_p=DEFAULTS["top_p"],
        batch_size=max(DEFAULTS["generation_batch_size"], batch_size),
    )
    return HFBackend(model, tokenizer, config)


def _spec(settings: TeachabilitySettings) -> Any:
    steps = settings.micro_steps * settings.batch_size
    return EpisodeSpec(interactions=steps, batch_size=settings.batch_size, probe_every=steps, seed=settings.seed)


def single_phase_parts(by_id: dict[str, Preference], active: tuple[str, ...], train: Sequence[Any],
                       probes: Sequence[Any], backend: Any, learner: Any) -> Any:
    """Episode parts whose persona holds `active` throughout (and checks only those), rules user."""
    return EpisodeParts(
        active=lambda t: active, preference=by_id.__getitem__, ever=active,
        train_prompts=train, probe_prompts=probes, backend=backend, user=RulesUser(), learner=learner,
    )
