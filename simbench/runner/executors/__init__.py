"""Sweep executors by name: `local` (this process, the default), `ray` (a Ray cluster) and
`batched` (cells as populations sharing one model in this process).

Registered lazily, so naming `local` never imports Ray; `make_executor` turns the CLI's
executor flags into one, refusing flags the chosen executor does not take.
"""

from __future__ import annotations

from typing import Any

from simbench.errors import InputError
from simbench.runner.executors.base import EXECUTORS, CellReport, Executor, SweepDisplay, run_cell

EXECUTORS.register_lazy("local", "simbench.runner.executors.local:LocalExecutor")
EXECUTORS.register_lazy("ray", "simbench.runner.executors.ray:RayExecutor")
EXECUTORS.register_lazy("batched", "simbench.runner.executors.batched:BatchedExecutor")

# Executor option -> its flag; an option given to an executor that does not take it is an error.
OPTION_FLAGS = {"address": "--address", "cpus_per_run": "--cpus-per-run", "gpus_per_run": "--gpus-per-run",
                "max_members": "--max-members"}
# Which executor takes each option, for the hint when another one is given it.
OPTION_OWNERS = {"address": "ray", "cpus_per_run": "ray", "gpus_per_run": "ray", "max_members": "batched"}


def make_executor(name: str = "local", **options: Any) -> Executor:
    """The executor `name` with the options that were given (None = not given)."""
    factory = EXECUTORS.get(name)
    given = {key: value for key, value in options.items() if value is not None}
    takes = getattr(factory, "OPTIONS", ())
    for key in given:
        if key not in takes:
            flag = OPTION_FLAGS.get(key, key)
            raise InputError(flag, f"does not apply to --executor {name}",
                             f"it is an option of --executor {OPTION_OWNERS.get(key, 'ray')}")
    return factory(**given)


__all__ = ["EXECUTORS", "CellReport", "Executor", "SweepDisplay", "make_executor", "run_cell"]
