"""`simbench schema summary|leaderboard`: the JSON Schemas of a run summary and of a
leaderboard.json, which every committed leaderboard and the summaries of committed runs meet."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
from cli_inprocess import run_main

import simbench
from simbench.metrics import load_run_logs, summarise_run
from simbench.metrics.run_summary import RunSummary
from simbench.reporting.leaderboard_schema import Leaderboard
from simbench.schemas import KINDS

RESULTS = Path(__file__).resolve().parents[2] / "results"
BOARDS = sorted(RESULTS.glob("*/leaderboard.json"))
# One run per scenario type the committed results hold: single, flip and complementary.
RUNS = ["cpu-specificity/concise-32--sdpo-token--s0", "cpu-reference/concise-then-detailed-48--sdpo-token--s0",
        "cpu-reference/complementary-48--sdpo-token--s0"]


def test_schema_command_prints_the_summary_and_leaderboard_schemas(capsys):
    for kind, model in (("summary", RunSummary), ("leaderboard", Leaderboard)):
        code, out, _ = run_main(capsys, "schema", kind)
        assert code == 0 and json.loads(out) == model.model_json_schema() == simbench.schema(kind)
    code, out, err = run_main(capsys, "schema", "sumary")
    assert code == 2 and out == "" and "did you mean 'summary'" in err
    code, out, _ = run_main(capsys, "schema", "--help")
    assert code == 0 and " | ".join(KINDS) in " ".join(out.replace("│", " ").split())


@pytest.mark.parametrize("model", [RunSummary, Leaderboard])
def test_every_summary_and_leaderboard_field_has_a_description(model):
    schema = model.model_json_schema()
    for name, definition in [(model.__name__, schema), *schema["$defs"].items()]:
        assert definition.get("description"), name
        for field, spec in definition["properties"].items():
            assert spec.get("description"), f"{name}.{field}"


@pytest.mark.parametrize("board", BOARDS, ids=lambda p: p.parent.name)
def test_committed_leaderboards_meet_the_leaderboard_schema_and_read_back_unchanged(board):
    data = json.loads(board.read_text())
    jsonschema.validate(data, Leaderboard.model_json_schema())
    assert Leaderboard.model_validate(data).dump() == data


def test_a_leaderboard_with_a_malformed_cell_fails_the_schema():
    data = json.loads(BOARDS[0].read_text())
    broken = copy.deepcopy(data)
    cells = broken["rows"][0]["cells"]
    metric_cell = next(c for cells_of in cells.values() for c in cells_of.values() if c and "n" not in c)
    metric_cell["mean"] = "high"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, Leaderboard.model_json_schema())


def test_summaries_of_committed_runs_meet_the_summary_schema():
    assert len(BOARDS) >= 5  # the committed results this guards
    scenarios = set()
    for run in RUNS:
        summary = summarise_run(load_run_logs(RESULTS / run), bootstrap=1)
        data = json.loads(json.dumps(summary.model_dump(), allow_nan=False))
        jsonschema.validate(data, RunSummary.model_json_schema())
        assert RunSummary.model_validate(data) == summary
        scenarios.add(summary.scenario)
    assert scenarios == {"single", "flip", "complementary"}
