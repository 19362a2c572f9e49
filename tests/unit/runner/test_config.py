"""`RunConfig`: bad values fail in one line naming the flag (or config-file field) and value;
config files load as YAML or JSON; names and pool sizes are checked before any model loads."""

from __future__ import annotations

import json

import pytest

from simbench.config import RunConfig, build_config, flag_name, load_config_file
from simbench.errors import InputError


def error_of(values, where=None) -> str:
    with pytest.raises(InputError) as error:
        build_config(values, where)
    message = str(error.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    "values, starts, mentions",
    [
        ({"probe_every": 0}, "--probe-every:", "got 0"),
        ({"probe_every": 12, "batch_size": 8}, "--probe-every:", "multiple of batch_size=8"),
        ({"checkpoint_every": 3, "batch_size": 2}, "--checkpoint-every:", "got 3"),
        ({"interactions": -5}, "--interactions:", "got -5"),
        ({"batch_size": 0}, "--batch-size:", "got 0"),
        ({"turns": 9}, "--turns:", "got 9"),
        ({"top_p": 0}, "--top-p:", "got 0"),
        ({"seed": "abc"}, "--seed:", "'abc'"),
    ],
)
def test_bad_value_names_the_flag_and_the_value(values, starts, mentions):
    message = error_of(values)
    assert message.startswith(starts) and mentions in message


def test_defaults_are_a_valid_config():
    config = build_config({})
    assert config.learner == "sdpo-token" and config.probe_every % config.batch_size == 0
    assert config.checkpoint_every is None and config.turns == 1


def test_flag_names_are_dashed_field_names():
    assert flag_name("probe_every") == "--probe-every"
    assert all(flag_name(f).startswith("--") and "_" not in flag_name(f) for f in RunConfig.model_fields)


def test_config_file_errors_name_the_file_and_field(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("batch_size: 4\nprobe_every: 6\n")
    with pytest.raises(InputError, match=rf"^{path}: probe_every: must be a multiple of batch_size=4"):
        load_config_file(path)


def test_misspelled_setting_suggests_the_closest():
    message = error_of({"probe_evry": 4}, "run.yaml")
    assert message.startswith("run.yaml: probe_evry: unknown setting") and "did you mean 'probe_every'" in message


def test_yaml_and_json_config_files_load_the_same_settings(tmp_path):
    settings = {"learner": "frozen", "batch_size": 4, "probe_every": 8, "learner_options": {"lr": 0.001}}
    yaml_path, json_path = tmp_path / "run.yaml", tmp_path / "run.json"
    yaml_path.write_text("learner: frozen\nbatch_size: 4\nprobe_every: 8\nlearner_options:\n  lr: 0.001\n")
    json_path.write_text(json.dumps(settings))
    assert load_config_file(yaml_path) == load_config_file(json_path) == settings


def test_flags_override_config_file_values(tmp_path):
    """The CLI's merge rule: file values first, then every flag given."""
    path = tmp_path / "run.yaml"
    path.write_text("learner: frozen\nseed: 3\nbatch_size: 4\nprobe_every: 8\n")
    values = load_config_file(path)
    values.update({"seed": 7})
    config = build_config(values)
    assert (config.learner, config.seed, config.batch_size) == ("frozen", 7, 4)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("- a\n- b\n", "must be a mapping"),
        ("learner: [unclosed\n", "cannot parse"),
        ("!!python/object:os.system {}\n", "cannot parse"),  # the safe loader runs no code
    ],
)
def test_unusable_config_file_is_one_line_error(tmp_path, text, problem):
    path = tmp_path / "run.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as error:
        load_config_file(path)
    assert str(error.value).startswith(str(path)) and problem in str(error.value)
    assert "\n" not in str(error.value)


def test_missing_config_file_names_the_flag(tmp_path):
    with pytest.raises(InputError, match="^--config: file not found"):
        load_config_file(tmp_path / "absent.yaml")


def test_unknown_learner_suggests_the_closest_name():
    from simbench.runner.build import resolve_inputs

    with pytest.raises(InputError) as error:
        resolve_inputs(build_config({"learner": "sdpo-tokn"}))
    assert str(error.value).startswith("--learner: unknown learner 'sdpo-tokn'")
    assert "did you mean 'sdpo-token'" in str(error.value)


def test_unknown_user_and_backend_name_their_flags():
    from simbench.runner.build import resolve_inputs

    with pytest.raises(InputError, match="^--user: .*did you mean 'rules'"):
        resolve_inputs(build_config({"user": "rule"}))
    with pytest.raises(InputError, match="^--backend: .*did you mean 'vllm'"):
        resolve_inputs(build_config({"backend": "vlm"}))


def test_more_probe_prompts_than_the_pool_holds_is_refused():
    from simbench.runner.build import resolve_inputs

    with pytest.raises(InputError, match=r"^--probe-prompts: 100000 requested"):
        resolve_inputs(build_config({"probe_prompts": 100_000}))


def test_interactions_flag_shortens_the_persona_and_is_checked_against_its_schedule(tmp_path):
    from simbench.runner.build import resolve_inputs

    persona = tmp_path / "p.yaml"
    persona.write_text(
        "id: p\nname: P\nbackground: b\ninteractions: 20\nschedule:\n"
        "  - at: 0\n    preferences: [concise]\n  - at: 10\n    preferences: [no-emojis]\n"
    )
    assert resolve_inputs(build_config({"persona": str(persona), "interactions": 12})).interactions == 12
    with pytest.raises(InputError, match="^--interactions 6 with"):
        resolve_inputs(build_config({"persona": str(persona), "interactions": 6}))


def test_feedback_unrelated_names_the_learners_control_arm_as_the_suffix_does():
    by_flag = build_config({"learner": "sdpo-logit", "feedback": "unrelated"})
    by_name = build_config({"learner": "sdpo-logit+unrelated"})
    assert by_flag == by_name and (by_flag.learner, by_flag.feedback) == ("sdpo-logit+unrelated", "unrelated")
    assert build_config({"learner": "sdpo-unrelated"}).feedback == "unrelated"  # the old alias
    # stored once, in the learner's name: configs and manifests read as before the setting existed
    assert "feedback" not in by_flag.model_dump() and "plugins" not in by_flag.model_dump()
    assert RunConfig.model_validate(by_flag.model_dump()) == by_flag


def test_feedback_user_on_a_control_arm_is_one_line_naming_the_flag():
    assert error_of({"learner": "sdpo-token+unrelated", "feedback": "user"}).startswith(
        "--feedback: learner 'sdpo-token+unrelated' is an unrelated-feedback control")
    assert error_of({"feedback": "other"}).startswith("--feedback: Input should be 'user' or 'unrelated'")
