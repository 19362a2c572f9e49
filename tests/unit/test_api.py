"""The public Python API (`simbench.run`, `simbench.report`, ...): what the CLI wraps."""

from __future__ import annotations

import importlib
import shutil
import types
from pathlib import Path

import pytest
from scripted_server import ScriptedServer

import simbench
from simbench.errors import InputError
from simbench.logs.schema import Manifest, RunStatus

RUN = Path(__file__).resolve().parents[2] / "results" / "cpu-reference" / "concise-32--frozen--s0"


def test_report_with_a_judge_works_twice_in_one_process_after_the_leaderboard_was_imported(tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(RUN, copy)
    importlib.import_module("simbench.reporting.leaderboard")  # the report modules are loaded
    assert callable(simbench.leaderboard) and isinstance(simbench.report, types.FunctionType)
    with ScriptedServer(reply="The answer is short.\nVERDICT: YES") as server:
        options = {"base_url": server.base_url, "model": "scripted-judge", "api_key_env": None, "cache": "off"}
        first = simbench.report(copy, out=tmp_path / "a", bootstrap=20, judge="openai", judge_options=options)
        asked = len(server.requests)
        second = simbench.report(copy, out=tmp_path / "b", bootstrap=20, judge="openai", judge_options=options)
    assert asked and len(server.requests) == 2 * asked  # both reports asked the judge
    assert first[0].read_text() == second[0].read_text() and second[1].is_file()
    assert "scripted-judge" in first[0].read_text()


def test_read_run_and_schema_are_the_typed_ones():
    assert simbench.read_run(RUN).manifest.status is RunStatus.COMPLETE
    assert simbench.manifest_schema() == Manifest.model_json_schema()


def test_bad_settings_fail_before_anything_is_written(tmp_path):
    with pytest.raises(InputError, match="--learner: unknown learner 'sdpo-tokn'"):
        simbench.run(persona="concise", learner="sdpo-tokn", out=tmp_path / "run")
    with pytest.raises(InputError, match="--batch-size"):
        simbench.run({"persona": "concise"}, batch_size=0, out=tmp_path / "run")
    with pytest.raises(InputError, match="sets 'seed'"):
        simbench.sweep(["concise"], ["frozen"], [0], tmp_path / "grid", settings={"seed": 1})
    assert not (tmp_path / "run").exists() and not (tmp_path / "grid").exists()


def _commands(group, prefix=()):
    """(path of names, callback) of every command of a click group, subcommands included."""
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


# `list` would shadow the builtin under `from simbench import *`: its function is list_names.
# `simbench data NAME` is one function of the converter's name (`simbench.data` is its package).
API_NAME = {("list",): ("list_names",),
            **{("data", name): ("convert_data",) for name in ("helpsteer2", "tldr", "wildchat", "wildfeedback")}}


def test_every_cli_command_is_a_function_of_the_same_name():
    import typer

    from simbench.cli import app

    commands = dict(_commands(typer.main.get_command(app)))
    assert ("personas", "validate") in commands and ("train-preset",) in commands
    for path in commands:
        target = simbench
        for part in API_NAME.get(path, path):
            target = getattr(target, part.replace("-", "_"))
        assert callable(target), path


def test_all_is_static_and_no_public_name_is_also_a_module_or_package():
    import ast

    tree = ast.parse(Path(simbench.__file__).read_text())
    static = next(ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
                  and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["__all__"])
    assert static == simbench.__all__ and set(static) <= set(dir(simbench.api)) | {"__version__"}
    package = Path(simbench.__file__).parent
    for name in static:
        if (package / name).is_dir() or (package / f"{name}.py").is_file():
            # Only a namespace may be a module, and then the attribute is that module itself.
            assert isinstance(getattr(simbench, name), types.ModuleType), name
