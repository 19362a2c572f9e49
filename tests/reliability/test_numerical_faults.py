"""Numerical faults: a NaN loss skips the update (logged with its reason) and the run goes on;
repeated ones stop the run with NumericalError, exit code 5 and status "numerical_error".

The NaN is real, not patched in: the policy's input embedding of one token is NaN, so any
hindsight context whose follow-up mentions that token makes SDPO's teacher pass non-finite.
"""

from __future__ import annotations

import functools
import textwrap

from reliability_helpers import (
    POISON_TOKEN,
    TINY_RUN,
    manifest,
    read_log,
    run_cli,
    run_config,
    write_run_config,
)

from simbench.cli import main
from simbench.users.base import follow_up_each


class PoisonedFollowUps:
    """The run's real user, whose follow-ups at interactions `at` also mention POISON_TOKEN.

    The episode asks for one follow-up per interaction in order, so the call count is t.
    """

    def __init__(self, user, at: set[int]) -> None:
        self.user = user
        self.at = at
        self.calls = 0

    def follow_up_many(self, requests):
        return follow_up_each(self, requests)

    def follow_up(self, prompt, response, active, rng):
        follow_up = self.user.follow_up(prompt, response, active, rng)
        t, self.calls = self.calls, self.calls + 1
        if t not in self.at:
            return follow_up
        return type(follow_up)(f"{follow_up.text} {POISON_TOKEN}", follow_up.violated, follow_up.meta)


def poisoned_parts(inputs, at: set[int]):
    from simbench.runner.parts import build_parts, load_model

    parts = build_parts(inputs, load=load_model)
    parts.user = PoisonedFollowUps(parts.user, at)
    return parts


def test_a_nan_loss_skips_that_update_logs_why_and_the_run_goes_on(tmp_path, poisoned_model_dir, one_torch_thread):
    from simbench.runner.run import execute

    config = run_config(write_run_config(tmp_path / "run.json", poisoned_model_dir, learner="sdpo-token"))
    batch = TINY_RUN["batch_size"]
    result = execute(config, out=tmp_path / "run",
                     parts_factory=functools.partial(poisoned_parts, at={batch, batch + 1}))

    assert result.status == "complete" and result.t == TINY_RUN["interactions"]
    updates = read_log(tmp_path / "run" / "updates.jsonl")  # strict JSON: no NaN tokens
    assert [u["skipped"] for u in updates] == [u["update"] == 1 for u in updates]
    assert updates[1]["reason"] == "non-finite loss" and updates[1]["stats"]["loss"] is None
    assert all(u["reason"] == "" and u["stats"]["loss"] is not None for u in updates if u["update"] != 1)
    signals = read_log(tmp_path / "run" / "signals.jsonl")
    assert any(None in s["advantages"] for s in signals if s["update"] == 1)
    for name in ("interactions", "probes", "general"):
        read_log(tmp_path / "run" / f"{name}.jsonl")
    assert manifest(tmp_path / "run")["status"] == "complete"
    # The skipped update's null advantages do not stop the run from being reported.
    main(["report", str(tmp_path / "run"), "--out", str(tmp_path / "report"), "--bootstrap", "10"])
    assert (tmp_path / "report" / "report.html").stat().st_size > 0


def test_repeated_nan_losses_stop_the_cli_run_with_exit_code_5_and_a_clear_message(tmp_path, poisoned_model_dir):
    persona = tmp_path / "poison.yaml"
    persona.write_text(textwrap.dedent(f"""\
        id: poison
        name: Poison
        background: Every follow-up mentions a token whose embedding is NaN.
        interactions: 16
        preferences:
          - id: never-satisfied
            description: Something no answer does.
            complaints: ["Please drop the {POISON_TOKEN} markup."]
            check: {{require_regex: "never-matches-[0-9]{{40}}"}}
        schedule:
          - at: 0
            preferences: [never-satisfied]
        """), encoding="utf-8")
    config = write_run_config(tmp_path / "run.json", poisoned_model_dir, learner="sdpo-token",
                              persona=str(persona), max_failed_updates=2)
    run_dir = tmp_path / "run"
    result = run_cli("run", "--config", str(config), "--out", str(run_dir), "--quiet", cwd=tmp_path)

    assert result.returncode == 5, result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("error: 2 consecutive updates were skipped (non-finite loss or gradient)")
    assert "up to interaction 4" in error and "Traceback" not in result.stderr
    state = manifest(run_dir)
    assert state["status"] == "numerical_error" and state["position"] == 4
    assert state["sessions"][-1]["failure"] == "numerical"
    updates = read_log(run_dir / "updates.jsonl")
    assert [(u["t"], u["skipped"], u["reason"]) for u in updates] == [
        (2, True, "non-finite loss"), (4, True, "non-finite loss")]
    assert [r["t"] for r in read_log(run_dir / "interactions.jsonl")] == [0, 1, 2, 3]
    assert (run_dir / "checkpoints" / "LATEST").read_text().strip() == "ckpt-0000004"
