"""The batched executor's settings: everything a population cannot run is one line, exit 2,
before any model loads and with nothing written."""

from __future__ import annotations

import pytest
from cli_inprocess import run_main

from simbench.config import build_config
from simbench.errors import InputError
from simbench.runner.executors import make_executor
from simbench.runner.executors.batched import BatchedExecutor
from simbench.runner.sweep import SweepCell

PERSONA = """\
id: short
name: Short
background: A tester who wants short answers.
interactions: 4
schedule:
  - at: 0
    preferences: [concise]
"""


def _sweep(tmp_path, capsys, *extra):
    persona = tmp_path / "short.yaml"
    persona.write_text(PERSONA)
    code, _, err = run_main(capsys, "sweep", "--personas", persona, "--out", tmp_path / "out", "--quiet", *extra)
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "out").exists()
    return err


@pytest.mark.parametrize("learner", ["sft-hindsight", "sft-hindsight+unrelated"])
def test_a_learner_that_runs_alone_is_refused_with_the_executor_to_use(tmp_path, capsys, learner):
    err = _sweep(tmp_path, capsys, "--learners", "frozen", learner, "--executor", "batched")
    assert err.startswith(f"error: --learners: {learner} cannot run in a population: it runs alone, use --executor local")


def test_max_members_below_one_is_refused(tmp_path, capsys):
    err = _sweep(tmp_path, capsys, "--learners", "frozen", "--executor", "batched", "--max-members", "0")
    assert err.startswith("error: --max-members: must be a whole number of at least 1, got 0")


def test_max_members_names_the_executor_that_takes_it(tmp_path, capsys):
    err = _sweep(tmp_path, capsys, "--learners", "frozen", "--max-members", "2")
    assert err.startswith("error: --max-members: does not apply to --executor local")
    assert "it is an option of --executor batched" in err


@pytest.mark.parametrize(("option", "problem"), [
    ("lora_dropout=0.1", "lora_dropout=0.1 cannot run in a population"),
    ("teacher=ema", "teacher=ema cannot run in a population"),
])
def test_sdpo_options_a_population_cannot_batch_are_refused(tmp_path, capsys, option, problem):
    err = _sweep(tmp_path, capsys, "--learners", "sdpo-token", "--executor", "batched", "--learner-option", option)
    assert err.startswith(f"error: --learner-option: {problem}")


@pytest.mark.parametrize("backend", ["vllm", "llama-cpp"])
def test_backends_without_per_row_adapters_are_refused(tmp_path, backend):
    persona = tmp_path / "short.yaml"
    persona.write_text(PERSONA)
    config = build_config({"persona": str(persona), "learner": "frozen", "backend": backend})
    cell = SweepCell("short", "frozen", 0, config, tmp_path / "cell", "new")
    with pytest.raises(InputError, match=f"^--backend: {backend} cannot serve many adapters in one batched call"):
        BatchedExecutor().open([cell])


def test_the_executor_is_registered_and_describes_its_group_size():
    executor = make_executor("batched", max_members=4)
    assert isinstance(executor, BatchedExecutor)
    assert executor.describe() == {"name": "batched", "max_members": 4}
    assert make_executor("batched").describe() == {"name": "batched", "max_members": None}
