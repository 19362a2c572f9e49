"""The `openai` user against a real llama.cpp server behind the ScriptedServer fault proxy.

Transient faults (500, 429 + Retry-After, timeouts, empty, null or truncated replies, dropped
connections) are retried; an outage that outlasts the retries stops the run cleanly at a
checkpoint as a user-simulator failure (never an update), and `--resume` completes it once
the server is back. The policy is a tiny random model; only the user is a real LLM.
"""

from __future__ import annotations

import pytest
from reliability_helpers import (
    LOGS,
    TINY_RUN,
    manifest,
    run_cli,
    run_config,
    run_records,
    write_run_config,
)
from scripted_server import ScriptedServer

pytestmark = [pytest.mark.server, pytest.mark.timeout(300)]

MODEL = "smollm2-135m"
INTERACTIONS = 6  # an outage after t=4 leaves one batch for the resume
# Per-request timeout of the run's user; "slow" answers after it has fired.
TIMEOUT_S = 20.0  # generous: a loaded 2-core machine makes llama.cpp replies take seconds
TRANSIENT = ["500", "429:1", "empty", "none", "garbage", "truncated", "drop", f"slow:{TIMEOUT_S + 2}"]


def user_options(base_url: str, **overrides) -> dict:
    # concurrency 1: a batch's follow-ups go one by one, so scripted faults hit them in order.
    options = {
        "base_url": base_url, "model": MODEL, "api_key_env": None, "max_tokens": 16, "concurrency": 1,
        "timeout": TIMEOUT_S, "max_attempts": len(TRANSIENT) + 1, "backoff_base": 0.05, "backoff_max": 0.2,
        # One try through the quality gate: these tests count the endpoint's own retries, and
        # a gate retry (a second request for the same follow-up) would add to them.
        "gate_attempts": 1,
    }
    return {**options, **overrides}


def warmed(base_url: str) -> str:
    """`base_url` after one unhurried request: a fresh llama.cpp server's first reply takes
    seconds (weights paged in), which is not the fault a test should time out on.

    A raw chat request, not a user's follow-up: a 4-token follow-up can be nothing but a label
    ("My next message:") that the user's cleaning strips, which the user rightly refuses as
    malformed; the warm-up only needs the server to answer."""
    import openai

    client = openai.OpenAI(base_url=base_url, api_key="unused", timeout=120.0, max_retries=0)
    reply = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Hi"}], max_tokens=4)
    assert reply.choices, f"warm-up request to {base_url} got no choices"
    return base_url


def expected_counts() -> dict[str, int]:
    """Records of a complete tiny run of INTERACTIONS interactions."""
    from simbench.prompts import load_drift_texts
    from simbench.runner.episode import EpisodeSpec, probe_times

    spec = EpisodeSpec(INTERACTIONS, TINY_RUN["batch_size"], TINY_RUN["probe_every"])
    probes = len(probe_times(spec))
    updates = -(-INTERACTIONS // TINY_RUN["batch_size"])
    return {
        "interactions": INTERACTIONS, "updates": updates, "probes": probes * TINY_RUN["probe_prompts"],
        "general": probes * TINY_RUN["general_questions"],
        "signals": updates * min(2, TINY_RUN["batch_size"]),  # the SDPO learner logs 2 per update
        "drift": probes * (len(load_drift_texts()) + TINY_RUN["general_questions"]),
    }


def counts(run_dir) -> dict[str, int]:
    return {name: len(records) for name, records in run_records(run_dir).items()}


def test_faults_are_retried_and_an_outage_stops_the_run_at_a_checkpoint_until_resume(
    tmp_path, tiny_model_dir, llama_server, one_torch_thread
):
    from simbench.runner.episode import BatchDone
    from simbench.runner.run import execute

    with ScriptedServer(upstream=warmed(llama_server)) as clean:
        config_file = write_run_config(tmp_path / "clean.json", tiny_model_dir, learner="sdpo-token",
                                       interactions=INTERACTIONS, user="openai",
                                       user_options=user_options(clean.base_url))
        baseline = execute(run_config(config_file), out=tmp_path / "baseline")
    assert baseline.status == "complete"
    assert counts(tmp_path / "baseline") == expected_counts()

    with ScriptedServer(TRANSIENT, upstream=llama_server) as proxy:
        config = run_config(write_run_config(
            tmp_path / "faulty.json", tiny_model_dir, learner="sdpo-token", interactions=INTERACTIONS,
            user="openai", user_options=user_options(proxy.base_url)))

        def outage_after_first_probe_interval(event, context) -> None:
            # The server behind the proxy goes away: every request now fails to connect.
            if isinstance(event, BatchDone) and event.t == TINY_RUN["probe_every"]:
                proxy.upstream = f"http://127.0.0.1:{_free_port()}/v1"

        run_dir = tmp_path / "run"
        stopped = execute(config, out=run_dir, on_event=outage_after_first_probe_interval)

        assert stopped.status == "user_error" and stopped.t == TINY_RUN["probe_every"]
        assert "user simulator failed" in stopped.message and "\n" not in stopped.message
        state = manifest(run_dir)
        assert state["status"] == "user_error" and state["position"] == TINY_RUN["probe_every"]
        assert state["sessions"][-1]["failure"] == "user_simulator"
        records = run_records(run_dir)
        # Every transient fault was absorbed by the first follow-up's retries.
        assert records["interactions"][0]["user_meta"]["attempts"] == len(TRANSIENT) + 1
        # The logs end at the checkpoint; the failed batch never reached the learner.
        assert [r["t"] for r in records["interactions"]] == list(range(TINY_RUN["probe_every"]))
        assert [u["t"] for u in records["updates"]] == [2, 4] and not any(u["skipped"] for u in records["updates"])
        assert (run_dir / "checkpoints" / "LATEST").read_text().strip() == "ckpt-0000004"

        # Still down: resuming fails the same way without losing or adding anything.
        again = execute(config, out=run_dir, resume=True)
        assert again.status == "user_error" and again.t == TINY_RUN["probe_every"]
        assert run_records(run_dir) == records

        proxy.upstream = llama_server.rstrip("/")  # the server is back
        resumed = execute(config, out=run_dir, resume=True)

    assert resumed.status == "complete" and resumed.t == INTERACTIONS
    assert counts(run_dir) == counts(tmp_path / "baseline") == expected_counts()
    final = run_records(run_dir)
    assert [r["t"] for r in final["interactions"]] == list(range(INTERACTIONS))
    assert final["interactions"][:TINY_RUN["probe_every"]] == records["interactions"]
    assert [s["status"] for s in manifest(run_dir)["sessions"]] == ["user_error", "user_error", "complete"]


def test_connection_refused_from_the_start_exits_3_and_resume_completes_at_the_same_address(
    tmp_path, tiny_model_dir, llama_server, one_torch_thread
):
    from simbench.runner.run import execute

    port = _free_port()
    config = write_run_config(
        tmp_path / "run.json", tiny_model_dir, learner="sdpo-token", interactions=INTERACTIONS,
        user="openai", user_options=user_options(f"http://127.0.0.1:{port}/v1", max_attempts=3))
    run_dir = tmp_path / "run"

    refused = run_cli("run", "--config", str(config), "--out", str(run_dir), "--quiet", cwd=tmp_path)
    assert refused.returncode == 3, refused.stderr
    assert "Traceback" not in refused.stderr
    assert "user simulator failed" in refused.stderr and "Connection refused" in refused.stderr
    state = manifest(run_dir)
    assert state["status"] == "user_error" and state["position"] == 0
    assert state["sessions"][-1]["failure"] == "user_simulator"
    # The t=0 probe ran before the failure; the logs are cut back to the t=0 checkpoint.
    assert all((run_dir / f"{name}.jsonl").read_text() == "" for name in LOGS)

    with ScriptedServer(upstream=warmed(llama_server), port=port):
        resumed = execute(run_config(config), out=run_dir, resume=True)
    assert resumed.status == "complete"
    assert counts(run_dir) == expected_counts()
    assert [s["status"] for s in manifest(run_dir)["sessions"]] == ["user_error", "complete"]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
