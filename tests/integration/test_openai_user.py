"""The `openai` user and the judge against a real llama.cpp server serving SmolLM2 (marker `server`).

Faults are injected by a scripted HTTP proxy on 127.0.0.1 in front of the real server
(real sockets end to end); the kill test stops a private server mid-run.
"""

from __future__ import annotations

import random
import threading
import time

import pytest
from scripted_server import ScriptedServer

from simbench.errors import UserSimulatorError
from simbench.judge import EndpointJudge
from simbench.persona.library import get_preference
from simbench.users.base import FollowUpRequest
from simbench.users.openai_compat import OpenAIUser

pytestmark = [pytest.mark.server, pytest.mark.timeout(120)]

MODEL = "smollm2-135m"
PROMPT = "How do plants make food?"
LONG = (
    "Plants make food through photosynthesis. They take in sunlight with chlorophyll. "
    "They absorb water through their roots and carbon dioxide through their leaves. "
    "Inside the chloroplasts, light energy turns these into glucose and oxygen."
)
SHORT = "Plants use sunlight, water and carbon dioxide to make sugar."


def _user(base_url: str, **kwargs) -> OpenAIUser:
    options = {"api_key_env": None, "max_tokens": 40, "timeout": 60.0, "backoff_base": 0.05, "backoff_max": 0.5}
    return OpenAIUser(base_url, MODEL, **{**options, **kwargs})


def test_a_real_follow_up_comes_back_with_model_and_prompt_hash(llama_server):
    concise = get_preference("concise")
    follow_up = _user(llama_server, background="A busy parent.").follow_up(PROMPT, LONG, [concise], random.Random(0))
    assert follow_up.text.strip() and "\n" not in follow_up.text
    assert follow_up.violated == ("concise",)
    assert follow_up.meta["model"] == MODEL
    assert len(follow_up.meta["prompt_hash"]) == 64
    assert follow_up.meta["checked"] == {"concise": False}


def test_same_seed_replays_the_same_follow_up(llama_server):
    user = _user(llama_server, temperature=0.8, seed=3)
    first = user.follow_up(PROMPT, SHORT, [get_preference("concise")], random.Random(5))
    second = user.follow_up(PROMPT, SHORT, [get_preference("concise")], random.Random(5))
    assert first.text == second.text and first.violated == second.violated == ()


def test_batch_keeps_order_against_the_real_server(llama_server):
    concise = get_preference("concise")
    items = [(PROMPT, LONG, [concise]), (PROMPT, SHORT, [concise]), (PROMPT, LONG, [])]
    batch = _user(llama_server, concurrency=3).follow_up_many(
        [FollowUpRequest(*item, random.Random(i)) for i, item in enumerate(items)])
    assert [f.violated for f in batch] == [("concise",), (), ()]
    assert [f.meta["checked"] for f in batch] == [{"concise": False}, {"concise": True}, {}]
    assert all(f.text for f in batch)


def test_errors_empty_and_garbage_replies_are_retried_before_the_real_answer(llama_server):
    with ScriptedServer(["500", "429:1", "empty", "none", "garbage"], upstream=llama_server) as proxy:
        started = time.monotonic()
        follow_up = _user(proxy.base_url, max_attempts=6).follow_up(PROMPT, LONG, [], random.Random(0))
        elapsed = time.monotonic() - started
    assert follow_up.meta["attempts"] == 6 == len(proxy.requests)
    assert follow_up.text and follow_up.meta["model"] == MODEL
    assert elapsed >= 1.0  # Retry-After honoured


def test_unusable_replies_exhaust_attempts_with_a_clear_error(llama_server):
    with ScriptedServer(["empty", "garbage", "503"], upstream=llama_server) as proxy:
        with pytest.raises(UserSimulatorError) as caught:
            _user(proxy.base_url, max_attempts=3).follow_up(PROMPT, LONG, [], random.Random(0))
    message = str(caught.value)
    assert proxy.base_url in message and "after 3 attempts" in message and "HTTP 503" in message


def test_server_killed_mid_run_fails_with_user_simulator_error_in_bounded_time(start_llama_server):
    server = start_llama_server()
    concise = get_preference("concise")
    with ScriptedServer(upstream=server.base_url) as proxy:
        user = _user(proxy.base_url, max_attempts=3, backoff_base=0.2, backoff_max=1.0, concurrency=2)
        assert user.follow_up(PROMPT, LONG, [concise], random.Random(0)).text

        outcome: dict[str, object] = {}

        def run_batch() -> None:
            try:
                outcome["result"] = user.follow_up_many(
                    [FollowUpRequest(PROMPT, LONG, [concise], random.Random(i)) for i in range(8)])
            except UserSimulatorError as error:
                outcome["error"] = error

        batch = threading.Thread(target=run_batch)
        started = time.monotonic()
        batch.start()
        while len(proxy.requests) < 2 and time.monotonic() - started < 20:
            time.sleep(0.05)
        server.stop()  # requests are in flight
        batch.join(timeout=60)
        elapsed = time.monotonic() - started
    assert not batch.is_alive() and elapsed < 60
    error = outcome.get("error")
    assert isinstance(error, UserSimulatorError), outcome
    assert "after 3 attempts" in str(error) and "\n" not in str(error)

    # Hitting the dead server directly: connection refused, retried, then the same error type.
    direct = _user(server.base_url, max_attempts=2, backoff_base=0.1)
    started = time.monotonic()
    with pytest.raises(UserSimulatorError, match="connection error"):
        direct.follow_up(PROMPT, LONG, [], random.Random(0))
    assert time.monotonic() - started < 5


def test_judge_compares_both_orders_on_the_real_server(llama_server):
    judge = EndpointJudge(llama_server, MODEL, api_key_env=None, max_tokens=8, timeout=60.0, cache="off")
    result = judge.compare(PROMPT, SHORT, LONG, get_preference("concise").description)
    assert result.winner in ("current", "base", "tie")
    assert all(v.strip() for v in result.verdicts)
    assert result.model == MODEL and len(result.prompt_hash) == 64
