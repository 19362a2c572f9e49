"""Run settings that make a preference impossible are reported before the run starts."""

from __future__ import annotations

import logging

from simbench.config import build_config
from simbench.runner.build import resolve_inputs
from simbench.runner.provenance import manifest_for

LOCAL = """\
id: long-form
name: Long form
background: Wants long answers.
interactions: 8
preferences:
  - id: essay
    description: Answers of at least eighty words.
    complaints: ["Please write more.", "Longer, please."]
    check: {min_words: 80}
schedule:
  - at: 0
    preferences: [essay]
  - at: 4
    preferences: [concise]
"""


def test_flip_to_detailed_under_a_small_cap_warns_and_is_recorded():
    inputs = resolve_inputs(build_config({"persona": "concise-then-detailed", "max_new_tokens": 64}))
    (warning,) = inputs.warnings()
    assert "'detailed' needs answers of at least 150 words (so at least 150 tokens, usually more) but max_new_tokens is 64" in warning
    manifest = manifest_for(inputs)
    assert manifest.warnings == [warning]
    assert manifest.persona.min_tokens == {"detailed": 150}
    roomy = resolve_inputs(build_config({"persona": "concise-then-detailed", "max_new_tokens": 256}))
    assert roomy.warnings() == []


def test_a_persona_local_word_minimum_is_a_token_floor(tmp_path):
    path = tmp_path / "long-form.yaml"
    path.write_text(LOCAL)
    inputs = resolve_inputs(build_config({"persona": str(path), "max_new_tokens": 40, "batch_size": 4, "probe_every": 4}))
    assert [w.split(" needs")[0] for w in inputs.warnings()] == ["preference 'essay'"]
    assert manifest_for(inputs).persona.min_tokens == {"essay": 80}


def test_execute_logs_the_warning_before_loading_anything(tmp_path, caplog):
    from simbench.runner.run import execute

    def refuse(inputs):  # stands in for model loading: the warning must already be out
        raise RuntimeError("stop before loading")

    config = build_config({"persona": "concise-then-detailed", "max_new_tokens": 32})
    with caplog.at_level(logging.WARNING, logger="simbench.runner.run"):
        try:
            execute(config, out=tmp_path / "run", parts_factory=refuse)
        except RuntimeError:
            pass
    assert any("'detailed' needs answers" in r.getMessage() for r in caplog.records)
    assert not (tmp_path / "run").exists()


SHORT_PHASE = """\
id: short-middle
name: Short middle phase
background: Changes its mind quickly.
interactions: 24
schedule:
  - at: 0
    preferences: [concise]
  - at: 9
    preferences: [concise, no-emojis]
  - at: 12
    preferences: [no-emojis]
"""


def test_a_phase_without_a_probe_after_it_starts_warns_before_the_run(tmp_path):
    path = tmp_path / "short-middle.yaml"
    path.write_text(SHORT_PHASE)
    config = {"persona": str(path), "batch_size": 4, "probe_every": 8, "max_new_tokens": 256}
    inputs = resolve_inputs(build_config(config))
    (warning,) = inputs.warnings()  # probes at 0, 8, 16, 24: nothing in 10..12
    assert warning.startswith("phase 2 (interactions 9-11) has no probe after it starts")
    assert "probes at t=0, 8, 16, 24" in warning
    assert manifest_for(inputs).warnings == [warning]
    assert resolve_inputs(build_config({**config, "probe_every": 4})).warnings() == []
