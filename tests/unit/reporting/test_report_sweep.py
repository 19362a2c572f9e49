"""`simbench sweep`: the grid is validated before anything runs, complete runs are skipped,
unfinished ones resumed; sweep.json records grid, command and statuses."""

from __future__ import annotations

import functools
import json

import pytest
from synthetic_runs import never, write_run

from simbench.cli import main
from simbench.commands.display import SweepProgress
from simbench.commands.sweep import expand_grid_flags
from simbench.errors import InputError, UserSimulatorError
from simbench.runner.sweep import plan_sweep, run_sweep
from simbench.users.base import follow_up_each

PERSONA = """\
id: tiny-flip
name: Tiny flip
background: A test user who first wants short answers, then long ones.
interactions: 4
schedule:
  - at: 0
    preferences: [concise]
  - at: 2
    preferences: [detailed]
"""
SETTINGS = dict(interactions=4, batch_size=2, probe_every=2, probe_prompts=2,
                max_new_tokens=4, general_questions=1)


@pytest.fixture
def persona_file(tmp_path):
    path = tmp_path / "tiny-flip.yaml"
    path.write_text(PERSONA)
    return str(path)


class FailingUser:
    """The real user simulator, failing from interaction `fail_at` on (a broken endpoint)."""

    def __init__(self, inner, fail_at):
        self.inner, self.fail_at, self.calls = inner, fail_at, 0

    def follow_up_many(self, requests):
        return follow_up_each(self, requests)

    def follow_up(self, prompt, response, active, rng):
        self.calls += 1
        if self.calls > self.fail_at:
            raise UserSimulatorError("endpoint down")
        return self.inner.follow_up(prompt, response, active, rng)


def test_expand_grid_flags_turns_space_separated_values_into_repeated_flags():
    args = ["--personas", "a", "b", "--learners", "x", "--out", "o", "--seeds", "0", "1", "--quiet"]
    assert expand_grid_flags(args) == ["--personas", "a", "--personas", "b", "--learners", "x", "--out", "o",
                                       "--seeds", "0", "--seeds", "1", "--quiet"]


def test_unknown_learner_fails_before_anything_runs(persona_file, tmp_path):
    with pytest.raises(InputError, match=r"--learners: unknown learner 'sdpo-tokn' \(did you mean 'sdpo-token'"):
        run_sweep([persona_file], ["frozen", "sdpo-tokn"], [0], tmp_path / "out", SETTINGS)
    assert not (tmp_path / "out").exists()


def test_unknown_persona_fails_before_anything_runs(persona_file, tmp_path):
    with pytest.raises(InputError, match="--personas"):
        run_sweep([persona_file, "no-such-persona"], ["frozen"], [0], tmp_path / "out", SETTINGS)
    assert not (tmp_path / "out").exists()


def test_existing_run_with_other_settings_is_refused(persona_file, tmp_path):
    write_run(tmp_path / "out" / "tiny-flip--frozen--s0", learner="frozen", passing=never)
    with pytest.raises(InputError, match="was run with other settings"):
        plan_sweep([persona_file], ["frozen"], [0], tmp_path / "out", SETTINGS)


def test_sweep_command_reports_bad_names_in_one_line(persona_file, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", "--personas", persona_file, "--learners", "frozen", "nope", "--out", str(tmp_path / "o")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --learners: unknown learner 'nope'") and "\n" not in err


def test_sweep_runs_the_grid_skips_complete_runs_and_resumes_failed_ones(persona_file, tmp_path, smol_tokenizer,
                                                                         capsys):
    from tinymodels import make_tiny_llama

    from simbench.runner.parts import build_parts

    built = []

    def tiny(name, device):
        return make_tiny_llama(smol_tokenizer, layers=1, hidden=32), smol_tokenizer

    def factory(inputs, fail_at=None):
        built.append(inputs.config.learner)
        parts = build_parts(inputs, load=tiny)
        if fail_at is not None and inputs.config.learner == "in-context-oracle":
            parts.user = FailingUser(parts.user, fail_at)
        return parts

    out = tmp_path / "results"
    first = run_sweep([persona_file], ["frozen", "in-context-oracle"], [0], out, SETTINGS,
                      command="simbench sweep ...", parts_factory=functools.partial(factory, fail_at=2),
                      display=None)
    assert [(o.cell.name, o.status) for o in first.outcomes] == [
        ("tiny-flip--frozen--s0", "complete"), ("tiny-flip--in-context-oracle--s0", "user_error")]
    assert not first.ok
    record = json.loads((out / "sweep.json").read_text())
    assert record["command"] == "simbench sweep ..." and record["settings"] == SETTINGS
    grid = (record["personas"], record["learners"], record["seeds"])
    assert grid == (["tiny-flip"], ["frozen", "in-context-oracle"], [0])
    assert record["runs"]["tiny-flip--in-context-oracle--s0"]["status"] == "user_error"
    oracle = out / "tiny-flip--in-context-oracle--s0"
    assert json.loads((oracle / "manifest.json").read_text())["position"] == 2

    built.clear()
    capsys.readouterr()
    second = run_sweep([persona_file], ["frozen", "in-context-oracle"], [0], out, SETTINGS,
                       parts_factory=factory, display=SweepProgress(enabled=True))
    assert [o.status for o in second.outcomes] == ["skipped", "complete"] and second.ok
    # A finished cell's line names its status by value, not as the enum's repr.
    assert capsys.readouterr().err.splitlines()[-1].startswith("[2/2] tiny-flip--in-context-oracle--s0: complete (")
    assert built == ["in-context-oracle"]  # the complete run was not even loaded
    times = [json.loads(line)["t"] for line in (oracle / "interactions.jsonl").read_text().splitlines()]
    assert times == [0, 1, 2, 3]  # resumed at t=2, nothing repeated or lost
    runs = json.loads((out / "sweep.json").read_text())["runs"]
    assert runs["tiny-flip--in-context-oracle--s0"]["status"] == "complete"

    built.clear()
    capsys.readouterr()
    third = run_sweep([persona_file], ["frozen", "in-context-oracle"], [0], out, SETTINGS,
                      parts_factory=factory, display=SweepProgress(enabled=True))
    assert [o.status for o in third.outcomes] == ["skipped", "skipped"] and built == []
    # No terminal here, so progress is one line per run (for nohup and CI logs).
    assert capsys.readouterr().err.splitlines() == [
        "[1/2] tiny-flip--frozen--s0: skipped: already complete",
        "[2/2] tiny-flip--in-context-oracle--s0: skipped: already complete"]
