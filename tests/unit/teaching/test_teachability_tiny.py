"""The teachability map end to end on a tiny random Llama: the library call, the files, the
CLI; bad flags exit 2 with one line before any model loads."""

from __future__ import annotations

import json

import pytest
from cli_inprocess import run_main
from tinymodels import make_tiny_llama, single_torch_thread

from simbench.teaching.measure import TeachabilitySettings
from simbench.teaching.run import teachability

SETTINGS = TeachabilitySettings(preferences=("no-emojis", "detailed"), max_new_tokens=6, probes=3,
                                micro_steps=1, batch_size=2, bootstrap=200, seed=0)


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    with single_torch_thread():
        yield


def run(tokenizer, out, on_unit=None):
    model = make_tiny_llama(tokenizer)
    return teachability("tiny", SETTINGS, out, on_unit=on_unit, loader=lambda name, device: (model, tokenizer))


UNITS: list[str] = []


@pytest.fixture(scope="module")
def measured(smol_tokenizer, tmp_path_factory):
    out = tmp_path_factory.mktemp("teach")
    rows, paths = run(smol_tokenizer, out, on_unit=UNITS.append)
    return rows, paths, out


def test_the_caller_hears_every_measurement_unit(measured):
    assert len(UNITS) == SETTINGS.units() and all(isinstance(u, str) and u for u in UNITS)


def frozen_answers(tokenizer, probes):
    """Greedy answers of the same untouched tiny model, generated independently of the map."""
    from simbench.backends.base import GenerationRequest
    from simbench.backends.hf import GenerationConfig, HFBackend

    backend = HFBackend(make_tiny_llama(tokenizer), tokenizer, GenerationConfig(max_new_tokens=SETTINGS.max_new_tokens))
    requests = [GenerationRequest(messages=({"role": "user", "content": p.text},), seed=i, greedy=True)
                for i, p in enumerate(probes)]
    return [g.text for g in backend.generate(requests)]


def test_one_row_per_preference_with_frozen_adherence_from_the_real_checker(measured, smol_tokenizer):
    from simbench.persona.library import get_preference
    from simbench.prompts import load_prompts

    rows, _, _ = measured
    assert [r.preference for r in rows] == list(SETTINGS.preferences)
    answers = frozen_answers(smol_tokenizer, load_prompts("builtin:probe")[: SETTINGS.probes])
    for row in rows:
        expected = sum(get_preference(row.preference).check(a).passed for a in answers) / len(answers)
        assert row.frozen_adherence == expected and row.probes == SETTINGS.probes


def test_reachability_follows_the_token_floor(measured):
    rows = {r.preference: r for r in measured[0]}
    assert rows["no-emojis"].reachable and rows["no-emojis"].min_tokens == 0
    assert not rows["detailed"].reachable and rows["detailed"].min_tokens > SETTINGS.max_new_tokens
    assert rows["detailed"].verdict == "unreachable"


def test_sensitivity_and_micro_run_cover_the_first_batch_and_every_probe(measured):
    for row in measured[0]:
        assert row.sensitivity.cases == SETTINGS.batch_size
        assert row.sensitivity.mean_abs_relevant >= 0 and row.sensitivity.mean_abs_unrelated >= 0
        micro = row.micro
        assert len(micro.relevant_passes) == len(micro.unrelated_passes) == SETTINGS.probes
        assert micro.gap.n == SETTINGS.probes and micro.gap.low <= micro.gap.gap <= micro.gap.high
        assert micro.gap.gap == pytest.approx(micro.relevant_adherence - micro.unrelated_adherence)


def test_outputs_are_written_and_agree_with_the_rows(measured):
    rows, paths, out = measured
    data = json.loads(paths.json.read_text())
    assert data["rows"] == json.loads(json.dumps([r.to_dict() for r in rows]))
    assert data["meta"]["probes"] == SETTINGS.probes and data["meta"]["micro_steps"] == 1
    table = paths.markdown.read_text()
    assert all(f"| `{r.preference}` |" in table for r in rows)
    assert paths.plot.read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in out.iterdir()) == ["teachability.json", "teachability.md", "teachability.png"]


def test_same_seed_gives_the_same_rows(measured, smol_tokenizer, tmp_path):
    again, _ = run(smol_tokenizer, tmp_path)
    assert [r.to_dict() for r in again] == [r.to_dict() for r in measured[0]]


def test_the_cli_writes_the_map_for_a_model_folder(capsys, smol_tokenizer, tmp_path):
    folder = tmp_path / "tiny"
    make_tiny_llama(smol_tokenizer).save_pretrained(folder)
    smol_tokenizer.save_pretrained(folder)
    out = tmp_path / "map"
    code, stdout, err = run_main(capsys, "teachability", "--model", folder, "--preferences", "concise",
                                 "--max-new-tokens", "4", "--probes", "2", "--micro-steps", "1",
                                 "--batch-size", "1", "--bootstrap", "50", "--out", out, "--quiet")
    assert code == 0, err
    assert stdout.startswith("concise: frozen ") and stdout.rstrip().endswith("teachability.png")
    assert json.loads((out / "teachability.json").read_text())["rows"][0]["preference"] == "concise"


@pytest.mark.parametrize("args, starts", [
    (["--preferences", "concize"], "error: --preferences: unknown preference 'concize' (did you mean 'concise'?"),
    (["--probes", "0"], "error: --probes: must be >= 1"),
    (["--probes", "100000"], "error: --probes: 100000 requested but the probe pool has"),
    (["--micro-steps", "0"], "error: --micro-steps: must be >= 1"),
    (["--preferences", "concise", "--preferences", "concise"], "error: --preferences: a preference is named twice"),
    (["--preferences", "concise,lists,concise"], "error: --preferences: a preference is named twice"),
    (["--preferences", "concise,"], "error: --preferences: unknown preference ''"),
    (["--learner-option", "lr=-1"], "error: --learner-option: "),
    (["--learner-option", "nope=1"], "error: --learner-option: "),
])
def test_bad_flags_fail_in_one_line_before_the_model_loads(capsys, tmp_path, args, starts):
    # The model folder does not exist: an error about the flag proves nothing was loaded first.
    out = tmp_path / "map"
    code, stdout, err = run_main(capsys, "teachability", "--model", tmp_path / "missing", "--out", out, *args)
    assert code == 2 and stdout == "" and err.startswith(starts) and err.count("\n") == 1, err
    assert not out.exists()


def test_an_out_path_that_is_a_file_is_refused(capsys, tmp_path):
    out = tmp_path / "file"
    out.write_text("x")
    code, _, err = run_main(capsys, "teachability", "--out", out, "--preferences", "concise")
    assert code == 2 and err.startswith("error: --out:")


def test_every_micro_run_arm_starts_from_the_same_untrained_weights(smol_tokenizer, tmp_path, monkeypatch):
    from simbench.learners.sdpo import SDPOLearner
    from simbench.users.rules import UNRELATED_MESSAGES

    starts, feedback = [], []
    observe = SDPOLearner.observe

    def spy(self, turns):
        if self.updater.steps == 0:
            starts.append({n: p.detach().clone() for n, p in self.updater.parameters.items()})
            # The control arm's learner sees unrelated messages in place of the follow-ups.
            feedback.append(all(turn.follow_up in UNRELATED_MESSAGES for turn in turns))
        return observe(self, turns)

    monkeypatch.setattr(SDPOLearner, "observe", spy)
    run(smol_tokenizer, tmp_path)
    # Two preferences x (unrelated, relevant): four arms, one adapter, reset before each.
    assert feedback == [True, False, True, False]
    names = set(starts[0])
    assert len(names) == 2 * 4 * 2  # 2 layers x q,k,v,o x (A, B): the model is wrapped once
    for start in starts[1:]:
        assert set(start) == names and all(start[n].equal(starts[0][n]) for n in names)
    assert all(not starts[0][n].any() for n in names if "lora_B" in n)
