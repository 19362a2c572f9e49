"""One population: a group of sweep cells run together on one loaded model.

The base model is loaded once (the single run's loader and cache); SDPO members get a slot of
one `StackedLoRA` and a membership of one `PopulationUpdater`, the other members answer with
the base weights. Each member runs `run_cell` (the unchanged single-run path, its own folder,
lock and checkpoints) in its own thread and meets the others at the rendezvous. When a member
fails, the others stop at their next batch end as after a Ctrl-C (checkpointed, resumable) and
their reports name the member that failed.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import replace
from typing import Any, Callable, Iterator, Mapping, Sequence

from sdpo.multi_lora import BASE, StackedLoRA
from sdpo.population_update import PopulationUpdater
from simbench.backends.hf import HFBackend
from simbench.errors import InputError
from simbench.learners.base import LearnerContext
from simbench.population.members import (
    GENERATE,
    UPDATE,
    MemberBackend,
    MemberUpdater,
    build_member_learner,
    has_slot,
    slot_config,
)
from simbench.population.rendezvous import Rendezvous
from simbench.runner.build import Inputs
from simbench.runner.drift import DriftScorer, drift_items
from simbench.runner.executors.base import CellReport, run_cell, this_node
from simbench.runner.parts import ModelLoader, episode_parts, generation_config, load_model

# Rows per batched generation call: decode is memory-bound, and on the 2-core reference CPU
# greedy decode ran 40 tok/s at batch 4 against 153 at batch 64 (fp32), so a population fills
# batches up to here; beyond it the KV cache and logits grow with little more to gain.
POPULATION_BATCH = 64
# Samples per update forward/backward (whole members each; results do not depend on it): a
# pass keeps full-vocabulary logits for every row, ~75 MB per 4-sample batch on SmolLM2.
UPDATE_ROWS_PER_PASS = 32
POLL_SECONDS = 0.2  # how often the driver thread wakes from waiting, so Ctrl-C is handled


class Population:
    """`cells` (SweepCells sharing model, device and generation settings) on one model."""

    def __init__(self, cells: Sequence[Any], load: ModelLoader = load_model) -> None:
        self.cells = list(cells)
        first = self.cells[0].config
        self.model, self.tokenizer = load(first.model, first.device)
        slotted = [index for index, cell in enumerate(self.cells) if has_slot(cell.learner)]
        self.slots = {index: slot for slot, index in enumerate(slotted)}
        self.stacked = self.updater = None
        if slotted:
            self.stacked = StackedLoRA(self.model, slot_config(self.cells[slotted[0]].config), slots=len(slotted))
            self.updater = PopulationUpdater(self.model, self.tokenizer, self.stacked,
                                             rows_per_pass=UPDATE_ROWS_PER_PASS)
            # Here, in one thread and in member order: a slot is initialised exactly as a single
            # run's adapter, under its seed on torch's global generator, which threads would share.
            for index, slot in self.slots.items():
                config = slot_config(self.cells[index].config)
                self.stacked.init_slot(slot, config)
                self.updater.add_member(slot, config)
        self.backend: Any = None  # the shared HF backend, built with the first member's inputs
        self._backend_lock = threading.Lock()
        self.rendezvous = Rendezvous(range(len(self.cells)), {GENERATE: self._generate, UPDATE: self._update})

    def parts_factory(self, index: int) -> Callable[[Inputs], Any]:
        """Builds member `index`'s episode parts from its validated inputs (run.execute's hook)."""

        def build(inputs: Inputs) -> Any:
            config = inputs.config
            slot = self.slots.get(index)
            self._shared_backend(inputs)
            context = LearnerContext(model=self.model, tokenizer=self.tokenizer, seed=config.seed,
                                     options=dict(config.learner_options), matmul_path=inputs.matmul_path)
            updater = None if slot is None else MemberUpdater(self.rendezvous, index, self.updater, slot)
            try:
                learner = build_member_learner(config.learner, context, updater, self.stacked)
            except (TypeError, ValueError) as exc:
                raise InputError("--learner-option", f"{config.learner}: {exc}") from None
            stacked = self.stacked
            rows = None if slot is None or stacked is None else (lambda n: stacked.rows([slot] * n))
            drift = DriftScorer(self.model, self.tokenizer, drift_items(inputs.drift_texts, inputs.general), rows)
            backend = MemberBackend(self.rendezvous, index, BASE if slot is None else slot)
            return episode_parts(inputs, learner, backend, drift)

        return build

    def _shared_backend(self, inputs: Inputs) -> None:
        with self._backend_lock:
            if self.backend is None:
                config = generation_config(inputs)
                batch = min(POPULATION_BATCH, config.batch_size * len(self.cells))
                config = replace(config, batch_size=max(batch, config.batch_size))
                self.backend = HFBackend(self.model, self.tokenizer, config, adapters=self.stacked)

    def _generate(self, group: Mapping[int, list[Any]]) -> dict[int, list[Any]]:
        """Every waiting member's requests as one call; each gets its own rows back."""
        requests = [request for member in group for request in group[member]]
        outputs = iter(self.backend.generate(requests))
        return {member: [next(outputs) for _ in group[member]] for member in group}

    def _update(self, group: Mapping[int, list[Any]]) -> dict[int, Any]:
        """Every waiting SDPO member's update as one `PopulationUpdater.step`."""
        assert self.updater is not None, "only a population with SDPO members updates"
        records = self.updater.step({self.slots[member]: samples for member, samples in group.items()})
        return {member: records[self.slots[member]] for member in group}

    def run(self, stop: threading.Event, on_event: Callable[[Any, dict[str, Any]], None] | None = None,
            ) -> Iterator[CellReport]:
        """Run every member in its own thread; yield each report as its member ends. `on_event`
        gets the episode events of the last member (members move together, so one shows the
        progress of all; a display started last on that member names it).

        The first Ctrl-C (or `stop`) stops every member at its next batch end; a second one
        leaves at once (each folder keeps its last checkpoint). An exception that is not a run
        result (a setting every cell trips on) is raised once every member has ended.
        """
        node = this_node()
        done: queue.Queue[Any] = queue.Queue()  # each member's report (or exception) as it ends
        failure: list[str] = []
        guard = threading.Lock()

        def member(index: int, cell: Any) -> None:
            try:
                events = on_event if index == len(self.cells) - 1 else None
                outcome: Any = run_cell(cell, self.parts_factory(index), on_event=events, node=node,
                                        stop=stop.is_set)
            except BaseException as exc:  # raised again by the driver thread below
                outcome = exc
            status = outcome.status if isinstance(outcome, CellReport) else "error"
            if status != "complete":
                with guard:
                    if not failure and status != "interrupted":  # the first member that failed
                        failure.append(f"{cell.name} ({status})")
                stop.set()
            self.rendezvous.leave(index)
            done.put(outcome)

        for index, cell in enumerate(self.cells):
            threading.Thread(target=member, args=(index, cell), name=f"member-{cell.name}", daemon=True).start()
        errors: list[BaseException] = []
        interrupted = False
        for _ in self.cells:
            while True:
                try:
                    outcome = done.get(timeout=POLL_SECONDS)
                    break
                except queue.Empty:
                    continue
                except KeyboardInterrupt:
                    if interrupted:
                        raise
                    interrupted = True
                    stop.set()
            if isinstance(outcome, BaseException):
                errors.append(outcome)
                continue
            if outcome.status == "interrupted" and failure and not interrupted:
                outcome = replace(outcome, message=f"{outcome.message} (the population stopped: member {failure[0]} failed)")
            yield outcome
        if errors:
            raise errors[0]
