"""`read_run`: the typed reader of run folders, on the committed reference runs (older schema,
written before the typed manifest) and on damaged folders; `simbench schema manifest`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cli_inprocess import run_main

from simbench.config import RunConfig
from simbench.errors import InputError
from simbench.logs import run_folder
from simbench.logs.invariants import LOGS
from simbench.logs.io import JsonlWriter
from simbench.logs.run_folder import read_run
from simbench.logs.schema import SCHEMA_VERSION, DriftRecord, Manifest, RunStatus

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = sorted(p.parent for p in (ROOT / "results" / "cpu-reference").glob("*/manifest.json"))
RUN = ROOT / "results" / "cpu-reference" / "concise-32--sdpo-token--s1"


def test_every_committed_reference_manifest_reads_into_the_typed_manifest():
    assert len(COMMITTED) == 30
    for folder in COMMITTED:
        manifest = read_run(folder).manifest
        assert manifest.status is RunStatus.COMPLETE
        assert isinstance(manifest.config, RunConfig) and manifest.config.learner == manifest.learner
        assert manifest.persona.schedule and manifest.sessions[-1].t == manifest.interactions


def test_a_committed_run_reads_every_log_as_typed_records_and_writes_back_the_same_json():
    folder = read_run(RUN)
    # The reference runs predate drift.jsonl: a missing log reads as no records ("not measured").
    assert not (RUN / "drift.jsonl").exists() and folder.drift == []
    for name, model in run_folder.LOG_RECORDS.items():
        if name == "drift":
            continue  # round-tripped below on records the run writer writes
        lines = (RUN / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        records = folder.records(name)
        assert len(records) == len(lines) > 0 and all(isinstance(r, model) for r in records)
        assert [r.model_dump(mode="json") for r in records] == [json.loads(line) for line in lines], name
    stored = json.loads((RUN / "manifest.json").read_text())
    assert folder.manifest.config.model_dump(mode="json") == stored["config"]


def test_drift_records_written_by_the_run_writer_read_back_typed_and_checked(tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(RUN, copy)
    written = [DriftRecord(t=t, id=f"text-{i}", kind="text", tokens=12 + i, nll=2.5 + t / 10,
                           nll_frozen=2.5, kl=0.01 * t) for t in (0, 8) for i in range(2)]
    writer = JsonlWriter(copy / "drift.jsonl")
    for record in written:
        writer.write(record)
    writer.close()
    folder = read_run(copy)
    assert folder.drift == written
    folder.check_invariants()  # drift is one of the logs every reader checks
    (copy / "drift.jsonl").write_text(json.dumps({**written[0].model_dump(mode="json"), "kl": "big"}) + "\n")
    with pytest.raises(InputError, match=r"drift.jsonl: line 1: kl"):
        read_run(copy).drift


def test_the_typed_logs_are_the_run_folder_logs():
    assert tuple(run_folder.LOG_RECORDS) == LOGS


def test_a_torn_last_line_is_dropped_and_a_bad_middle_line_named(tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(RUN, copy)
    probes = copy / "probes.jsonl"
    whole = probes.read_text().splitlines()
    probes.write_text("\n".join(whole) + "\n" + whole[0][:30])  # a crash mid-write
    assert len(read_run(copy).probes) == len(whole)
    probes.write_text(whole[0][:30] + "\n" + "\n".join(whole) + "\n")
    with pytest.raises(InputError, match=r"probes.jsonl: line 1: malformed JSON"):
        read_run(copy).probes
    probes.write_text(whole[0].replace('"t": 0', '"t": "zero"') + "\n")
    with pytest.raises(InputError, match=r"probes.jsonl: line 1: t: Input should be a valid integer"):
        read_run(copy).probes


def test_a_manifest_from_a_newer_simbench_is_refused(tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(RUN, copy, ignore=shutil.ignore_patterns("*.jsonl"))
    data = json.loads((copy / "manifest.json").read_text())
    data["schema_version"] = SCHEMA_VERSION + 1
    (copy / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(InputError, match="newer than this simbench reads"):
        read_run(copy)
    data["schema_version"], data["statuss"] = SCHEMA_VERSION, "complete"
    (copy / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(InputError, match="manifest.json: statuss: Extra inputs are not permitted"):
        read_run(copy)


def test_schema_command_prints_the_manifest_json_schema(capsys):
    code, out, _ = run_main(capsys, "schema", "manifest")
    assert code == 0
    schema = json.loads(out)
    assert schema == Manifest.model_json_schema()
    assert {"config", "persona", "prompts", "status", "sessions"} <= set(schema["properties"])
    assert set(schema["$defs"]["RunStatus"]["enum"]) == {s.value for s in RunStatus}
    code, _, err = run_main(capsys, "schema", "manifets")
    assert code == 2 and "did you mean 'manifest'" in err


def test_a_written_manifest_reads_back_equal_with_the_whole_config():
    manifest = read_run(RUN).manifest.model_copy(update={"position": None, "peak_rss_mb": None})
    data = manifest.to_json()
    # Every field, except those at their defaults that came later (judge, precision, probe draw,
    # feedback, plugins): such a run is written as before those settings existed.
    assert "position" not in data and "matmul_path" not in data
    later = {"judge", "judge_options", "precision", "probe_draw", "feedback", "plugins"}
    assert set(data["config"]) == set(RunConfig.model_fields) - later
    assert Manifest.model_validate(json.loads(json.dumps(data))) == manifest
    judged = manifest.model_copy(update={"config": manifest.config.model_copy(
        update={"judge": "openai", "judge_options": {"model": "m"}})})
    assert judged.to_json()["config"]["judge_options"] == {"model": "m"}
    assert Manifest.model_validate(json.loads(json.dumps(judged.to_json()))) == judged
    fast = manifest.model_copy(update={"config": manifest.config.model_copy(update={"precision": "auto"}),
                                       "matmul_path": "bf16"})
    assert fast.to_json()["config"]["precision"] == "auto" and fast.to_json()["matmul_path"] == "bf16"
    assert Manifest.model_validate(json.loads(json.dumps(fast.to_json()))) == fast
