"""A member's view of the population: its backend, its learner and the check of what can join.

A member's episode is the single run's, unchanged; only two parts differ. Its backend hands
its requests to the rendezvous, tagged with its adapter slot. An SDPO member's learner is the
single run's `SDPOLearner` whose updater is its slot of the population's `PopulationUpdater`
(reached through the rendezvous), so `observe`, `save`, `load` and `adapter_dir` keep their
meaning and checkpoints keep the single-run layout. Arms without weights of their own (frozen,
in-context) answer with the base weights (slot -1) and are built exactly as in a single run.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

from sdpo.hindsight import end_of_turn_id
from simbench.arms import base_learner, parse_arm
from simbench.backends.base import Generation, GenerationRequest
from simbench.errors import InputError
from simbench.learners import LEARNERS
from simbench.learners.base import LearnerContext
from simbench.learners.handoff import AdapterFolder
from simbench.learners.sdpo import SDPOLearner, lora_config
from simbench.learners.unrelated import twin_class
from simbench.population.rendezvous import Rendezvous
from simbench.runner.build import resolve_matmul_path

GENERATE, UPDATE = "generate", "update"
# Learners whose policy is a LoRA adapter the population keeps as a stacked slot: loss kind.
SLOTTED = {"sdpo-token": "token", "sdpo-logit": "logit"}
# Learners that never change the weights: they answer with the shared base model.
BASE_WEIGHTS = ("frozen", "in-context-oracle", "in-context-oracle-user", "in-context-oracle-fewshot",
                "in-context-memory")


def check_member_learner(learner: str) -> None:
    """Raise a one-line InputError for a learner a population cannot run."""
    base = base_learner(learner)
    if base not in SLOTTED and base not in BASE_WEIGHTS:
        supported = ", ".join([*SLOTTED, *BASE_WEIGHTS])
        raise InputError("--learners", f"{learner} cannot run in a population: it runs alone, use --executor local",
                         f"--executor batched runs {supported} and their +unrelated twins")


def has_slot(learner: str) -> bool:
    """Whether `learner`'s members own an adapter slot (SDPO arms and their twins)."""
    return base_learner(learner) in SLOTTED


class MemberBackend:
    """A member's `PolicyBackend`: its requests join the population's next batched generation."""

    def __init__(self, rendezvous: Rendezvous, member: int, slot: int) -> None:
        self.rendezvous = rendezvous
        self.member = member
        self.slot = slot

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        tagged = [replace(request, adapter_slot=self.slot) for request in requests]
        return self.rendezvous.call(self.member, GENERATE, tagged)


class MemberUpdater:
    """What `SDPOLearner` asks of its updater, served by one slot of a `PopulationUpdater`:
    `step` waits for the population's next batched update."""

    def __init__(self, rendezvous: Rendezvous, member: int, population: Any, slot: int) -> None:
        self.rendezvous = rendezvous
        self.member = member
        self.population = population
        self.slot = slot

    @property
    def steps(self) -> int:
        return self.population.steps(self.slot)

    def step(self, samples: Sequence[Any]) -> Any:
        return self.rendezvous.call(self.member, UPDATE, list(samples))

    def save(self, directory: Path) -> None:
        self.population.save(self.slot, directory)

    def load(self, directory: Path) -> None:
        self.population.load(self.slot, directory)


class SlotSDPOLearner(SDPOLearner):
    """`sdpo-token` / `sdpo-logit` on one slot of the population's stacked adapters."""

    updater: Any  # a MemberUpdater: SDPOUpdater's step/save/load/steps, on one slot

    def __init__(self, context: LearnerContext, loss: str, updater: MemberUpdater, stacked: Any) -> None:
        # The slot was initialised and joined the updater when the population was built.
        self.loss = loss
        _, self.signal_samples = lora_config(context, loss=loss)
        self.updater = updater
        self.model = self.policy = context.model
        self.tokenizer = context.tokenizer
        self.seed = context.seed
        self.eot = end_of_turn_id(context.tokenizer)
        self.adapter = AdapterFolder(None, save=lambda _model, folder: stacked.save_slot(updater.slot, folder))


def build_member_learner(learner: str, context: LearnerContext, updater: MemberUpdater | None,
                         stacked: Any) -> Any:
    """The member's learner: the single run's, with SDPO arms on their slot (`updater`)."""
    base = base_learner(learner)
    if base not in SLOTTED:
        return LEARNERS.get(learner).from_config(context)
    assert updater is not None, "an SDPO member needs its slot"
    inner = SlotSDPOLearner(context, SLOTTED[base], updater, stacked)
    if parse_arm(learner).feedback == "unrelated":
        return twin_class(base, LEARNERS)(inner, context.seed)
    return inner


def slot_config(config: Any) -> Any:
    """The `SDPOConfig` of an SDPO member's run config, built without a model (so bad options
    and settings a population cannot batch fail before anything loads); raises ValueError."""
    context = LearnerContext(model=None, tokenizer=None, seed=config.seed, options=dict(config.learner_options),
                             matmul_path=resolve_matmul_path(config).path)
    return lora_config(context, loss=SLOTTED[base_learner(config.learner)])[0]
