"""The run layer on real tiny runs: reproducibility, crash/resume, Ctrl-C, refusals.

Logs are compared after dropping wall-clock fields only (`tiny_runs.TIMING_KEYS`: every
record's `seconds` and `stats.seconds`); everything else (texts, token counts, losses,
advantages, checks) must be identical.
"""

from __future__ import annotations

import json
import os
import signal

import pytest
from tiny_runs import (  # noqa: F401
    comparable_logs,
    one_torch_thread,
    records,
    run_tiny,
    tiny_config,
    write_persona,
)

from simbench.errors import InputError
from simbench.runner.episode import BatchDone, InteractionDone
from simbench.runner.run import execute

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# Checkpoints every 4 interactions (2 batches): crashes can land on or between checkpoints.
SETTINGS = dict(turns=1, checkpoint_every=4)


@pytest.fixture(scope="module")
def persona(tmp_path_factory):
    return write_persona(tmp_path_factory.mktemp("persona"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory, persona, smol_tokenizer, one_torch_thread):  # noqa: F811
    """An uninterrupted seed-0 run every other run is compared with (read-only)."""
    result = run_tiny(tiny_config(persona, **SETTINGS), tmp_path_factory.mktemp("ref") / "run", smol_tokenizer)
    assert result.status == "complete", result.message
    return result.run_dir


def test_same_seed_twice_gives_identical_logs(reference, persona, smol_tokenizer, tmp_path):
    again = run_tiny(tiny_config(persona, **SETTINGS), tmp_path / "again", smol_tokenizer)
    expected = comparable_logs(reference)
    assert all(expected[name] for name in ("interactions", "updates", "probes", "signals"))
    assert comparable_logs(again.run_dir) == expected


def test_different_seed_gives_different_logs(reference, persona, smol_tokenizer, tmp_path):
    other = run_tiny(tiny_config(persona, seed=1, **SETTINGS), tmp_path / "seed1", smol_tokenizer)
    theirs, ours = comparable_logs(other.run_dir), comparable_logs(reference)
    assert len(theirs["interactions"]) == len(ours["interactions"])
    assert theirs["interactions"] != ours["interactions"]
    assert theirs["updates"] != ours["updates"]


def crash_at(kind: str, t: int):
    """An on_event callback that kills the run (like a crash) when it reaches `kind` at t."""

    def on_event(event, context):
        if kind == "interaction" and isinstance(event, InteractionDone) and event.record.t == t:
            raise KeyboardInterrupt
        if kind == "batch" and isinstance(event, BatchDone) and event.t == t:
            raise KeyboardInterrupt

    return on_event


@pytest.mark.parametrize(
    "kind, t, checkpoint_t",
    [
        ("interaction", 0, 0),  # before the first batch ends: only the t=0 checkpoint exists
        ("interaction", 4, 4),  # just after the checkpoint at t=4
        ("batch", 6, 4),  # between checkpoints: t=4..5, update 2 and probes at 6 must go
    ],
)
def test_resumed_run_equals_uninterrupted(reference, persona, smol_tokenizer, tmp_path, kind, t, checkpoint_t):
    config = tiny_config(persona, **SETTINGS)
    run_dir = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_tiny(config, run_dir, smol_tokenizer, on_event=crash_at(kind, t))
    assert (run_dir / "checkpoints" / "LATEST").read_text().strip() == f"ckpt-{checkpoint_t:07d}"
    written = records(run_dir, "interactions")
    assert max(r["t"] for r in written) >= checkpoint_t, "the crash left records past the checkpoint"
    with open(run_dir / "interactions.jsonl", "a") as handle:
        handle.write('{"t": 99, "torn')  # a line the crash cut mid-write

    result = run_tiny(config, run_dir, smol_tokenizer, resume=True)
    assert result.status == "complete", result.message
    assert comparable_logs(run_dir) == comparable_logs(reference)


def test_ctrl_c_stops_at_a_checkpoint_and_resume_finishes(reference, persona, smol_tokenizer, tmp_path):
    config = tiny_config(persona, **SETTINGS)
    handler_before = signal.getsignal(signal.SIGINT)
    sent = []

    def press_ctrl_c(event, context):
        if isinstance(event, InteractionDone) and event.record.t == 4 and not sent:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGINT)

    result = run_tiny(config, tmp_path / "run", smol_tokenizer, on_event=press_ctrl_c)
    assert sent and result.status == "interrupted"
    # The batch in progress (t=4..5) finishes; t=6 is not a checkpoint_every multiple, so
    # this checkpoint exists only because of the stop request.
    assert result.t == 6 and "--resume" in result.message
    assert (result.run_dir / "checkpoints" / "LATEST").read_text().strip() == "ckpt-0000006"
    assert max(r["t"] for r in records(result.run_dir, "interactions")) == 5
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["status"] == "interrupted" and manifest["position"] == 6
    assert signal.getsignal(signal.SIGINT) is handler_before  # the run's handler is gone

    statuses = []

    def watch(event, context):
        statuses.append(json.loads((result.run_dir / "manifest.json").read_text())["status"])

    resumed = run_tiny(config, result.run_dir, smol_tokenizer, resume=True, on_event=watch)
    assert resumed.status == "complete"
    assert set(statuses) == {"running"}  # not the previous session's "interrupted"
    assert comparable_logs(result.run_dir) == comparable_logs(reference)
    sessions = json.loads((result.run_dir / "manifest.json").read_text())["sessions"]
    assert [s["status"] for s in sessions] == ["interrupted", "complete"]


def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def no_model(inputs):
    raise AssertionError("the model must not be loaded for a refused or finished run")


def test_resume_with_a_changed_config_is_refused_with_a_diff(reference, persona):
    before = snapshot(reference)
    changed = tiny_config(persona, probe_prompts=1, **SETTINGS)
    with pytest.raises(InputError) as error:
        execute(changed, out=reference, resume=True, parts_factory=no_model)
    message = str(error.value)
    assert message.startswith("--resume:") and "probe_prompts: 2 -> 1" in message
    assert "\n" not in message
    assert snapshot(reference) == before


def test_out_holding_a_run_is_refused_without_resume(reference, persona):
    before = snapshot(reference)
    with pytest.raises(InputError, match="^--out: .*already holds files.*--resume"):
        execute(tiny_config(persona, **SETTINGS), out=reference, parts_factory=no_model)
    assert snapshot(reference) == before


def test_resume_without_a_run_is_refused(persona, tmp_path):
    with pytest.raises(InputError, match="^--resume: no run to resume"):
        execute(tiny_config(persona, **SETTINGS), out=tmp_path / "nothing", resume=True, parts_factory=no_model)
    assert not (tmp_path / "nothing").exists()


def test_resuming_a_complete_run_does_nothing(reference, persona):
    before = snapshot(reference)
    result = execute(tiny_config(persona, **SETTINGS), out=reference, resume=True, parts_factory=no_model)
    assert result.status == "complete" and result.message == "already complete"
    assert snapshot(reference) == before


def test_secrets_are_options_named_as_such_so_max_tokens_is_kept_and_checked_on_resume(persona):
    """The manifest drops the options named in SECRET_OPTIONS (not every name containing
    "token"); resuming compares every other option, max_tokens included."""
    from simbench.runner.build import resolve_inputs
    from simbench.runner.provenance import manifest_for
    from simbench.runner.resume import config_diff

    options = {"api_key": "sk-test", "headers": {"x": "y"}, "model": "m", "max_tokens": 32}
    config = tiny_config(persona, user="openai", user_options=options)
    stored = manifest_for(resolve_inputs(config)).to_json()["config"]
    assert stored["user_options"] == {"model": "m", "max_tokens": 32}
    assert config_diff(stored, config.for_resume_check()) == []
    other = tiny_config(persona, user="openai", user_options={**options, "api_key": "sk-other", "max_tokens": 16})
    assert config_diff(stored, other.for_resume_check()) == ["user_options.max_tokens: 32 -> 16"]


def test_end_of_run_table_reads_start_phase_end_and_end(reference):
    from simbench.reporting.summary_table import adherence_columns

    labels, values = adherence_columns(reference)
    assert labels == ["start (t=0)", "phase 1 last probe (t=4)", "end (t=8)"]
    probes = records(reference, "probes")
    for pid, row in values.items():
        for t, value in zip((0, 4, 8), row):
            at_t = [r["checks"][pid]["passed"] for r in probes if r["t"] == t]
            assert value == pytest.approx(sum(at_t) / len(at_t))


def test_end_of_run_columns_are_labelled_by_the_probe_time_they_show(tmp_path):
    """A flip at t=13 with probes every 8: phase 1's column shows the t=8 probe and says so;
    a phase that no probe measures gets no number at all."""
    from simbench.logs.io import write_json
    from simbench.reporting.summary_table import adherence_columns

    schedule = [{"at": 0, "preferences": ["concise"]}, {"at": 13, "preferences": ["detailed"]},
                {"at": 14, "preferences": ["concise"]}]
    write_json(tmp_path / "manifest.json", {
        "schema_version": 1, "status": "complete", "learner": "frozen", "seed": 0, "interactions": 24,
        "persona": {"id": "p", "schedule": schedule, "ever": ["concise", "detailed"],
                    "opposites": {"concise": "detailed"}}})
    lines = []
    for t in (0, 8, 16, 24):
        for k in range(2):
            checks = {"concise": {"passed": t >= 8 + 8 * k}, "detailed": {"passed": False}}
            lines.append(json.dumps({"v": 1, "t": t, "probe_id": f"p{k}", "prompt": "q", "response": "r",
                                     "checks": checks}))
    (tmp_path / "probes.jsonl").write_text("\n".join(lines) + "\n")
    # A consistent folder (readers refuse probes past the logged interactions).
    (tmp_path / "interactions.jsonl").write_text("".join(
        json.dumps({"v": 1, "t": t, "prompt_id": f"q{t}", "messages": [], "response": "r",
                    "follow_up": "f", "violated": [], "active": ["concise"]}) + "\n"
        for t in range(24)))
    (tmp_path / "updates.jsonl").write_text("")
    labels, values = adherence_columns(tmp_path)
    assert labels == ["start (t=0)", "phase 1 last probe (t=8)", "phase 2: no probe", "end (t=24)"]
    assert values["concise"][:2] == [0.0, 0.5] and values["concise"][2] != values["concise"][2]
    assert values["concise"][3] == 1.0
