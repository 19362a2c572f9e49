"""The public Python API (`simbench.run`, `simbench.report`, ...): what the CLI wraps."""

from __future__ import annotations

import importlib
import shutil
import types
from pathlib import Path

import pytest

import simbench
from simbench.errors import InputError
from simbench.logs.schema import Manifest, RunStatus

RUN = Path(__file__).resolve().parents[2] / "results" / "cpu-reference" / "concise-32--frozen--s0"


def test_report_writes_both_pages_whether_the_name_is_the_function_or_the_package(tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(RUN, copy)
    md, html = simbench.report(copy, out=tmp_path / "a", bootstrap=20)
    importlib.import_module("simbench.report.html")  # now `simbench.report` is the package
    assert isinstance(simbench.report, types.ModuleType)

    again = simbench.report(copy, out=tmp_path / "b", bootstrap=20)
    assert md.read_text() == again[0].read_text() and html.is_file() and again[1].is_file()


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
