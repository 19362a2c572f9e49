"""What a population needs of its cells, checked before any model loads, and the alignment of
its members' checkpoints before a resume."""

from __future__ import annotations

from typing import Any, Sequence

from sdpo.population_update import TEACHERS
from simbench.errors import InputError
from simbench.logs.io import write_atomic
from simbench.population.members import check_member_learner, has_slot, slot_config
from simbench.runner.executors.base import checkpoint_position
from simbench.runner.lock import FolderLock

BACKENDS = ("hf",)  # backends that apply a per-row adapter slot inside one batched call


def check_population(cells: Sequence[Any]) -> None:
    """Raise a one-line InputError for a learner, backend or learner option a population
    cannot batch. The cells of one sweep share every other setting, model and device too."""
    for cell in cells:
        check_member_learner(cell.learner)
        if cell.config.backend not in BACKENDS:
            raise InputError("--backend", f"{cell.config.backend} cannot serve many adapters in one batched call",
                             "use --backend hf with --executor batched, or --executor local")
    for cell in cells:
        if not has_slot(cell.learner):
            continue
        try:
            config = slot_config(cell.config)
        except ValueError as exc:
            raise InputError("--learner-option", f"{cell.learner}: {exc}") from None
        if config.lora_dropout != 0:
            raise InputError("--learner-option", f"lora_dropout={config.lora_dropout} cannot run in a population",
                             "stacked adapters need lora_dropout=0 (the default)")
        if config.teacher not in TEACHERS:
            raise InputError("--learner-option", f"teacher={config.teacher} cannot run in a population",
                             f"use teacher={' or teacher='.join(TEACHERS)}, or --executor local")


def align_checkpoints(cells: Sequence[Any]) -> None:
    """Point every resumed member at the population's earliest common checkpoint.

    A kill lands between members' checkpoint writes, so one may hold a checkpoint one
    interval ahead of another (never more: the rendezvous keeps them together, and each folder
    keeps its last two). Resuming all from one position puts them side by side again, so members
    of the same learner meet in the same batched calls as without the kill and their float32
    logs continue bit for bit (a member's logs never depend on its batch beyond rounding).
    """
    positions = {cell.run_dir: checkpoint_position(cell.run_dir) for cell in cells if cell.state == "resume"}
    known = [t for t in positions.values() if t is not None]
    if not known:
        return
    common = min(known)
    for run_dir, t in positions.items():
        earlier = run_dir / "checkpoints" / f"ckpt-{common:07d}"
        if t is not None and t > common and earlier.is_dir():
            with FolderLock(run_dir):
                write_atomic(run_dir / "checkpoints" / "LATEST", earlier.name + "\n")
