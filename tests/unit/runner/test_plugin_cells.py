"""A run config records its `--plugin` plugins, and resolving the config imports them: a sweep
cell on a Ray worker (a config unpickled in a fresh process) builds with the plugin's learner
and preference without any flag."""

from __future__ import annotations

import pickle

import pytest
from plugin_sandbox import EXAMPLE, fresh_process, sandbox

from simbench.config import build_config
from simbench.plugins import load_plugin
from simbench.runner.build import resolve_inputs
from simbench.runner.sweep import plan_sweep

PERSONA = """\
id: ascii
name: Ascii
background: A tester who wants plain text.
interactions: 4
schedule:
  - at: 0
    preferences: [plain-ascii]
"""


@pytest.fixture(autouse=True)
def isolated():
    with sandbox():
        yield


def test_a_fresh_worker_imports_the_plugins_its_cell_config_records(tmp_path):
    persona = tmp_path / "ascii.yaml"
    persona.write_text(PERSONA)
    load_plugin(str(EXAMPLE))
    cells = plan_sweep([str(persona)], ["outside-sdpo", "outside-sdpo+unrelated"], [0], tmp_path / "out",
                       {"interactions": 4, "batch_size": 2, "probe_every": 2, "probe_prompts": 2})
    assert [cell.config.plugins for cell in cells] == [[str(EXAMPLE)]] * 2
    shipped = pickle.dumps(cells[1].config)  # what the Ray executor sends a worker
    fresh_process()
    inputs = resolve_inputs(pickle.loads(shipped))
    assert inputs.config.learner == "outside-sdpo+unrelated"
    assert inputs.persona.preference("plain-ascii").check("plain text").passed


def test_a_config_file_naming_a_plugin_imports_it_before_names_resolve(tmp_path):
    config = build_config({"plugins": [str(EXAMPLE)], "learner": "outside-sdpo"})
    assert config.plugins == [str(EXAMPLE)]
    resolve_inputs(config)  # outside-sdpo resolves
