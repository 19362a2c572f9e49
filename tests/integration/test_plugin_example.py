"""The out-of-tree example plugin (examples/plugins/outside_arm.py), end to end through the CLI:
its learner and that learner's automatic unrelated-feedback twin run on a persona that names
its preference, and the leaderboard shows the learner's specificity cell. Once with
`--plugin FILE`, once through an installed `simbench.plugins` entry point (a real dist-info
on sys.path). Only the model loader is swapped, for a tiny random Llama.
"""

from __future__ import annotations

import functools
import json
import re
import shutil

import pytest
from cli_inprocess import run_main
from plugin_sandbox import EXAMPLE, fresh_process, sandbox
from tinymodels import make_tiny_llama, single_torch_thread

import simbench.api as api_module
import simbench.runner.run as run_module

PERSONA = """\
id: direct
name: Direct
background: A tester who wants plain text, then short answers.
interactions: 4
schedule:
  - at: 0
    preferences: [plain-ascii]
  - at: 2
    preferences: [concise]
"""
TINY = ["--interactions", "4", "--batch-size", "2", "--probe-every", "2", "--probe-prompts", "2",
        "--general-questions", "1", "--max-new-tokens", "4", "--seed", "0", "--quiet"]


@pytest.fixture(autouse=True)
def isolated():
    with single_torch_thread(), sandbox():
        yield


@pytest.fixture
def tiny_model(monkeypatch, smol_tokenizer):
    from simbench.runner.parts import build_parts

    load = lambda name, device: (make_tiny_llama(smol_tokenizer), smol_tokenizer)  # noqa: E731
    execute = functools.partial(run_module.execute, parts_factory=functools.partial(build_parts, load=load))
    monkeypatch.setattr(api_module, "execute", execute)


def installed_example(site):
    """The example installed as pip lays it out: the module and a dist-info whose
    entry_points.txt is the one examples/plugins/pyproject.toml declares."""
    pyproject = (EXAMPLE.parent / "pyproject.toml").read_text()
    table = re.search(r'^\[project\.entry-points\."simbench\.plugins"\]\n(.*?)(?:\n\n|\Z)', pyproject, re.S | re.M)
    group = dict(re.findall(r'^([\w-]+) = "([\w.:]+)"$', table.group(1), re.M))
    assert group == {"outside-arm": "outside_arm"}
    shutil.copy(EXAMPLE, site / "outside_arm.py")
    info = site / "simbench_outside_arm-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: simbench-outside-arm\nVersion: 0.1.0\n")
    lines = "".join(f"{name} = {value}\n" for name, value in group.items())
    (info / "entry_points.txt").write_text(f"[simbench.plugins]\n{lines}")


def run_arm(capsys, persona, learner, out, *plugin):
    code, _, err = run_main(capsys, "run", *plugin, "--persona", persona, "--learner", learner, *TINY, "--out", out)
    assert code == 0, err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["learner"] == learner
    updates = [json.loads(line) for line in (out / "updates.jsonl").read_text().splitlines()]
    assert updates and {u["stats"]["feedback"] for u in updates} == {manifest["feedback"]}
    return manifest


def test_plugin_learner_and_its_twin_reach_the_leaderboard_with_a_specificity_cell(capsys, tmp_path, tiny_model):
    persona = tmp_path / "direct.yaml"
    persona.write_text(PERSONA)
    results = tmp_path / "results"
    for learner, feedback in (("outside-sdpo", "user"), ("outside-sdpo+unrelated", "unrelated")):
        manifest = run_arm(capsys, persona, learner, results / f"direct--{learner}--s0", "--plugin", EXAMPLE)
        assert manifest["feedback"] == feedback
        assert manifest["config"]["plugins"] == [str(EXAMPLE)]  # what workers and resumes import

    code, _, err = run_main(capsys, "leaderboard", "--plugin", EXAMPLE, results, "--out", tmp_path / "board",
                            "--bootstrap", "20")
    assert code == 0, err
    board = json.loads((tmp_path / "board" / "leaderboard.json").read_text())
    rows = {row["learner"]: row["cells"] for row in board["rows"]}
    assert set(rows) == {"outside-sdpo", "outside-sdpo+unrelated"}
    assert rows["outside-sdpo"]["drop"]["specificity"]["mean"] is not None
    assert rows["outside-sdpo+unrelated"]["drop"]["specificity"] is None  # a control has none of its own

    fresh_process()  # a reader without the plugin: the manifests say which run is whose control
    code, _, err = run_main(capsys, "leaderboard", results, "--out", tmp_path / "board2", "--bootstrap", "20")
    assert code == 0, err
    again = json.loads((tmp_path / "board2" / "leaderboard.json").read_text())
    assert [row["cells"]["drop"]["specificity"] for row in again["rows"]] == \
        [row["cells"]["drop"]["specificity"] for row in board["rows"]]


def test_an_installed_entry_point_registers_the_learner_and_its_twin(capsys, tmp_path, monkeypatch, tiny_model):
    site = tmp_path / "site"
    site.mkdir()
    installed_example(site)
    monkeypatch.syspath_prepend(str(site))
    code, listing, err = run_main(capsys, "list", "learners")
    assert code == 0, err
    assert {"outside-sdpo", "outside-sdpo+unrelated"} <= {line.split()[0] for line in listing.splitlines()}
    persona = tmp_path / "direct.yaml"
    persona.write_text(PERSONA)
    manifest = run_arm(capsys, persona, "outside-sdpo+unrelated", tmp_path / "twin")
    assert manifest["feedback"] == "unrelated" and "plugins" not in manifest["config"]


def test_a_resumed_run_imports_the_plugins_its_manifest_records(capsys, tmp_path, tiny_model):
    persona = tmp_path / "direct.yaml"
    persona.write_text(PERSONA)
    out = tmp_path / "run"
    args = ["run", "--persona", persona, "--learner", "outside-sdpo", *TINY, "--out", out]
    code, _, err = run_main(capsys, *args[:1], "--plugin", EXAMPLE, *args[1:])
    assert code == 0, err
    fresh_process()  # a later process: nothing registers outside-sdpo or plain-ascii
    code, _, err = run_main(capsys, *args, "--resume")
    assert code == 0, err
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
