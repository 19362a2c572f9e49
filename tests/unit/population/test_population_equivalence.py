"""The population's promise: on a float64 tiny model, each member of a batched population
writes the logs (tokens, texts, updates, probes, drift) that a single run with the same cell
writes, for a mixed population of 3 and for a population of 1."""

from __future__ import annotations

import json

import pytest
from population_runs import SETTINGS, assert_same_logs, float64_loader, single_parts, write_persona
from tinymodels import single_torch_thread

from simbench.runner.executors.base import NO_DISPLAY
from simbench.runner.executors.batched import BatchedExecutor
from simbench.runner.run import execute
from simbench.runner.sweep import plan_sweep, run_sweep

MEMBERS = (("sdpo-token", 3), ("sdpo-logit", 5), ("frozen", 7))


@pytest.fixture(autouse=True)
def _one_thread():
    with single_torch_thread():
        yield


def test_a_mixed_population_of_three_writes_the_logs_of_three_single_runs(tmp_path, smol_tokenizer):
    persona = write_persona(tmp_path)
    out = tmp_path / "population"
    cells = [cell for learner, seed in MEMBERS
             for cell in plan_sweep([str(persona)], [learner], [seed], out, SETTINGS)]
    reports = list(BatchedExecutor(load=float64_loader(smol_tokenizer)).run(cells, None, NO_DISPLAY))
    assert sorted(r.status for r in reports) == ["complete"] * 3, [r.message for r in reports]
    for cell in cells:
        single = tmp_path / "single" / cell.name
        result = execute(cell.config, out=single, parts_factory=single_parts(smol_tokenizer))
        assert result.status == "complete"
        assert_same_logs(cell.run_dir, single)


def test_a_population_of_one_through_the_sweep_equals_a_single_run(tmp_path, smol_tokenizer):
    persona = write_persona(tmp_path)
    out = tmp_path / "population"
    executor = BatchedExecutor(max_members=1, load=float64_loader(smol_tokenizer))
    result = run_sweep([str(persona)], ["sdpo-logit+unrelated"], [2], out, SETTINGS, executor=executor)
    assert [o.status for o in result.outcomes] == ["complete"]
    assert json.loads((out / "sweep.json").read_text())["executor"] == {"name": "batched", "max_members": 1}
    cell = result.outcomes[0].cell
    single = tmp_path / "single"
    assert execute(cell.config, out=single, parts_factory=single_parts(smol_tokenizer)).status == "complete"
    assert_same_logs(cell.run_dir, single)
