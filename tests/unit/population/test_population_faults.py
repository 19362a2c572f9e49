"""A member's user endpoint failing stops the population cleanly: that member ends as a user
error at its last batch boundary, the others stop at theirs (checkpointed) with a report naming
it, and running the same cells again resumes every member from its own checkpoint to the logs
of an uninterrupted population (float64 tiny model, real HTTP user on 127.0.0.1)."""

from __future__ import annotations

import json
import threading

import pytest
from population_runs import assert_same_logs, float64_loader
from scripted_server import ScriptedServer
from tinymodels import single_torch_thread

from simbench.runner.executors.base import NO_DISPLAY
from simbench.runner.executors.batched import BatchedExecutor
from simbench.runner.sweep import plan_sweep

PERSONA = """\
id: {id}
name: {id}
background: A tester ({id}) who wants short answers.
interactions: 6
schedule:
  - at: 0
    preferences: [concise]
"""
FAILING = "tester (fails)"  # in the failing persona's background, so in its user's requests
SETTINGS = dict(batch_size=2, probe_every=2, probe_prompts=1, general_questions=1, max_new_tokens=4, user="openai")


@pytest.fixture(autouse=True)
def _one_thread():
    with single_torch_thread():
        yield


class FlakyUser:
    """Replies to every user request, except that while `down` the failing persona's requests
    after its first `healthy` ones get empty content (a malformed reply, retried, then fatal)."""

    def __init__(self, healthy: int) -> None:
        self.down, self.healthy, self.seen = True, healthy, 0
        self.lock = threading.Lock()

    def __call__(self, body):
        if FAILING in json.dumps(body):
            with self.lock:
                self.seen += 1
                if self.down and self.seen > self.healthy:
                    return ""
        return "Please keep it shorter."


def _cells(tmp_path, out, server):
    personas = []
    for pid in ("steady", "fails"):
        path = tmp_path / f"{pid}.yaml"
        path.write_text(PERSONA.format(id=pid))
        personas.append(str(path))
    options = {"base_url": server.base_url, "model": "u", "api_key_env": None, "max_attempts": 2,
               "backoff_base": 0.01, "gate_attempts": 1}
    return plan_sweep(personas, ["sdpo-token"], [0], out, {**SETTINGS, "user_options": options})


def _run(cells, tokenizer):
    return {r.name: r for r in BatchedExecutor(load=float64_loader(tokenizer)).run(cells, None, NO_DISPLAY)}


def test_a_failing_member_stops_the_population_and_a_rerun_resumes_it_exactly(tmp_path, smol_tokenizer):
    flaky = FlakyUser(healthy=2)  # the failing persona's second batch (interactions 2-3) fails
    with ScriptedServer(reply=flaky) as server:
        out = tmp_path / "population"
        reports = _run(_cells(tmp_path, out, server), smol_tokenizer)
        failed, stopped = reports["fails--sdpo-token--s0"], reports["steady--sdpo-token--s0"]
        assert failed.status == "user_error" and "user simulator failed" in failed.message
        assert stopped.status == "interrupted"
        assert "member fails--sdpo-token--s0 (user_error) failed" in stopped.message
        for name, t in (("fails--sdpo-token--s0", 2), ("steady--sdpo-token--s0", 4)):
            manifest = json.loads((out / name / "manifest.json").read_text())
            assert manifest["position"] == t and (out / name / "checkpoints" / f"ckpt-{t:07d}").is_dir()

        flaky.down = False
        cells = _cells(tmp_path, out, server)
        assert [c.state for c in cells] == ["resume", "resume"]
        assert {r.status for r in _run(cells, smol_tokenizer).values()} == {"complete"}

        reference = tmp_path / "uninterrupted"
        assert {r.status for r in _run(_cells(tmp_path, reference, server), smol_tokenizer).values()} == {"complete"}
    for cell in cells:
        assert_same_logs(cell.run_dir, reference / cell.name)
