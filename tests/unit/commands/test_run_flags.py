"""The run flags are checked against RunConfig once: every field has a flag, a KEY=VALUE
option flag, or is named as settable only through --config; and both commands expose them."""

from __future__ import annotations

import inspect

from simbench.commands import options as opts
from simbench.commands.run import run_command
from simbench.commands.sweep import sweep_command
from simbench.config import RunConfig

GRID = {"persona", "learner", "seed", "feedback"}  # sweep: chosen by --personas/--learners/--seeds


def test_flags_options_and_file_only_fields_are_exactly_the_config_fields():
    named = [*opts.RUN_FLAGS, *opts.OPTION_FLAGS, *opts.FILE_ONLY, opts.PLUGIN_FIELD]
    assert len(named) == len(set(named))
    assert set(named) == set(RunConfig.model_fields)


def test_run_and_sweep_take_every_run_flag():
    run = set(inspect.signature(run_command).parameters)
    assert set(opts.RUN_FLAGS) | set(opts.OPTION_FLAGS.values()) <= run
    sweep = set(inspect.signature(sweep_command).parameters)
    assert (set(opts.RUN_FLAGS) - GRID) | set(opts.OPTION_FLAGS.values()) <= sweep


def test_run_flags_picks_only_config_fields_from_a_commands_parameters():
    assert opts.run_flags({"seed": 3, "quiet": True, "out": "x", "batch_size": None}) == {"seed": 3, "batch_size": None}
