"""The `openai` user and its endpoint against a scripted server on 127.0.0.1 (real sockets).

Covers the retry policy (what is retried, Retry-After, bounded attempts), batch order,
seeding, metadata and that the API key never leaves the client.
"""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from scripted_server import ScriptedServer

from simbench.errors import InputError, UserSimulatorError
from simbench.persona.preference import CheckResult, Preference
from simbench.users.base import USERS, FollowUpRequest
from simbench.users.endpoint import RetryPolicy, backoff_delay, map_bounded, parse_retry_after
from simbench.users.openai_compat import OpenAIUser
from simbench.users.prompting import prompt_hash, render_user_messages

SECRET = "sk-test-SECRET-7f3a9c"

NO_SHOUT = Preference(
    "pref-noshout-u1",
    "Answers without exclamation marks.",
    lambda text: CheckResult("!" not in text, "has '!'" if "!" in text else ""),
)
FAST = dict(backoff_base=0.01, backoff_max=0.05, timeout=5.0)


def _user(server: ScriptedServer, **kwargs) -> OpenAIUser:
    options = {"api_key_env": None, "max_attempts": 4, **FAST, **kwargs}
    return OpenAIUser(server.base_url, "sim-model", **options)


# ---- pure retry arithmetic -------------------------------------------------------------


def test_backoff_grows_exponentially_within_jitter_bounds_and_caps():
    policy = RetryPolicy(backoff_base=0.5, backoff_max=4.0)
    assert [backoff_delay(a, policy, 0.0) for a in (1, 2, 3, 4, 5)] == [0.25, 0.5, 1.0, 2.0, 2.0]
    assert [backoff_delay(a, policy, 0.999999) for a in (1, 5)] == pytest.approx([0.5, 4.0])


def test_retry_after_is_a_floor_capped_by_retry_after_max():
    policy = RetryPolicy(backoff_base=0.5, backoff_max=4.0, retry_after_max=10.0)
    assert backoff_delay(1, policy, 0.0, retry_after=3.0) == 3.0
    assert backoff_delay(4, policy, 0.0, retry_after=0.1) == 2.0
    assert backoff_delay(1, policy, 0.0, retry_after=600.0) == 10.0


def test_parse_retry_after_reads_seconds_milliseconds_and_http_dates():
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    later = datetime.now(timezone.utc) + timedelta(seconds=30)
    assert 25 < parse_retry_after({"retry-after": format_datetime(later, usegmt=True)}) <= 30
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None and parse_retry_after(None) is None


def test_map_bounded_keeps_order_and_raises_the_first_failure():
    def slow_square(x: int) -> int:
        time.sleep(0.02 * (5 - x))
        return x * x

    assert map_bounded(slow_square, [1, 2, 3, 4], 4) == [1, 4, 9, 16]

    def fail_on_two(x: int) -> int:
        if x == 2:
            raise ValueError("two")
        return x

    with pytest.raises(ValueError, match="two"):
        map_bounded(fail_on_two, [1, 2, 3], 2)


# ---- the user against a scripted endpoint --------------------------------------------


def test_follow_up_sends_the_rendered_prompt_and_records_model_hash_and_checks():
    with ScriptedServer(reply='"Fewer exclamation marks, please."') as server:
        follow_up = _user(server, background="A calm librarian.").follow_up(
            "Tell me a fact.", "Cats sleep a lot!", [NO_SHOUT], random.Random(0)
        )
    assert follow_up.text == "Fewer exclamation marks, please."  # quotes cleaned
    assert follow_up.violated == ("pref-noshout-u1",)
    expected = render_user_messages(
        "Tell me a fact.", "Cats sleep a lot!", [NO_SHOUT], "A calm librarian.",
        {"pref-noshout-u1": NO_SHOUT.check("Cats sleep a lot!")},
    )
    body = server.requests[0]
    assert body["messages"] == expected and body["model"] == "sim-model"
    assert follow_up.meta["prompt_hash"] == prompt_hash(expected)
    assert follow_up.meta["model"] == "sim-model"
    assert follow_up.meta["checked"] == {"pref-noshout-u1": False}
    assert follow_up.meta["attempts"] == 1 and follow_up.meta["irrelevant"] is False


def test_violated_comes_from_checkers_even_when_the_llm_complains():
    with ScriptedServer(reply="This is terrible, too many exclamation marks!") as server:
        follow_up = _user(server).follow_up("q", "A calm answer.", [NO_SHOUT], random.Random(0))
    assert follow_up.violated == ()
    assert follow_up.meta["checked"] == {"pref-noshout-u1": True}


def test_seeds_come_from_the_rng_so_runs_replay():
    with ScriptedServer() as server:
        user = _user(server, seed=5)
        first = [user.follow_up("q", "r", [], random.Random(11)).meta["seed"] for _ in range(2)]
        user.follow_up("q", "r", [], random.Random(12))
        sent = [body["seed"] for body in server.requests]
    assert first[0] == first[1] and sent[:2] == first and sent[2] != first[0]


def test_no_seed_is_sent_when_seed_is_none():
    with ScriptedServer() as server:
        follow_up = _user(server, seed=None).follow_up("q", "r", [], random.Random(0))
    assert "seed" not in server.requests[0] and follow_up.meta["seed"] is None


@pytest.mark.parametrize("faults", [["500", "503"], ["empty", "none"], ["no-choices", "garbage"], ["drop"]])
def test_transient_failures_and_unusable_replies_are_retried(faults):
    with ScriptedServer(faults) as server:
        follow_up = _user(server).follow_up("q", "r", [NO_SHOUT], random.Random(0))
    assert follow_up.text == "Thanks, that works."
    assert follow_up.meta["attempts"] == len(faults) + 1 == len(server.requests)


def test_a_reply_that_is_only_a_label_is_retried_resampled_not_replayed():
    """SmolLM2 as a user can answer greedily with nothing but "Your next message:", which the
    cleaning strips; replaying the same greedy, seeded request would get it every time."""
    def reply(body: dict) -> str:
        return "Your next message:" if body["temperature"] == 0 else "Shorter, please."

    with ScriptedServer(reply=reply) as server:
        follow_up = _user(server, seed=5, temperature=0.0).follow_up("q", "r", [NO_SHOUT], random.Random(0))
    first, second = server.requests
    assert follow_up.text == "Shorter, please." and follow_up.meta["attempts"] == 2
    assert first["temperature"] == 0 and second["temperature"] >= 0.7
    assert first["seed"] != second["seed"]


def test_rate_limit_waits_at_least_retry_after():
    with ScriptedServer(["429:0.6"]) as server:
        started = time.monotonic()
        follow_up = _user(server).follow_up("q", "r", [], random.Random(0))
        elapsed = time.monotonic() - started
    assert follow_up.meta["attempts"] == 2
    assert 0.6 <= elapsed < 3.0


def test_exhausted_attempts_raise_one_line_naming_endpoint_and_last_error():
    with ScriptedServer(["500", "500", "empty"]) as server:
        started = time.monotonic()
        with pytest.raises(UserSimulatorError) as caught:
            _user(server, max_attempts=3).follow_up("q", "r", [], random.Random(0))
        assert time.monotonic() - started < 2.0
        message = str(caught.value)
        assert "\n" not in message
        assert server.base_url in message and "3 attempts" in message and "empty content" in message
        assert len(server.requests) == 3


def test_client_errors_fail_at_once_with_a_hint():
    with ScriptedServer(["404"]) as server:
        with pytest.raises(UserSimulatorError, match="check base_url"):
            _user(server).follow_up("q", "r", [], random.Random(0))
        assert len(server.requests) == 1


def test_a_hanging_endpoint_times_out_within_bounded_time():
    with ScriptedServer(["slow:5", "slow:5"]) as server:
        started = time.monotonic()
        with pytest.raises(UserSimulatorError, match="timed out"):
            _user(server, timeout=0.3, max_attempts=2).follow_up("q", "r", [], random.Random(0))
        assert time.monotonic() - started < 2.0


def requests_of(items, seed):
    return [FollowUpRequest(*item, random.Random(seed * 1000 + i)) for i, item in enumerate(items)]


def test_batch_keeps_item_order_under_concurrency_and_replays_seeds():
    def echo(body: dict) -> str:
        prompt = body["messages"][1]["content"].split("\n")[1]
        time.sleep(0.05 if prompt.endswith(("0", "4")) else 0.0)  # finish out of order
        return f"About {prompt}"

    items = [(f"question {i}", "answer", [NO_SHOUT]) for i in range(6)]
    with ScriptedServer(["500"], reply=echo) as server:
        user = _user(server, concurrency=3)
        batch = user.follow_up_many(requests_of(items, 9))
        again = user.follow_up_many(requests_of(items, 9))
    assert [f.text for f in batch] == [f"About question {i}" for i in range(6)]
    assert [f.meta["seed"] for f in batch] == [f.meta["seed"] for f in again]
    assert len({f.meta["seed"] for f in batch}) == 6


def test_a_failing_item_fails_the_batch_with_a_user_simulator_error():
    with ScriptedServer(["404"]) as server:
        with pytest.raises(UserSimulatorError):
            _user(server, concurrency=2).follow_up_many(requests_of([("q", "r", [])] * 3, 0))


def test_api_key_is_sent_but_never_kept_shown_or_logged(monkeypatch):
    monkeypatch.setenv("SIMBENCH_TEST_KEY", SECRET)
    with ScriptedServer(["500"] * 3) as server:
        user = OpenAIUser(server.base_url, "sim-model", api_key_env="SIMBENCH_TEST_KEY", max_attempts=2, **FAST)
        with pytest.raises(UserSimulatorError) as caught:
            user.follow_up("q", "r", [], random.Random(0))
        follow_up = user.follow_up("q", "r", [], random.Random(0))
    assert server.headers[0]["authorization"] == f"Bearer {SECRET}"
    assert SECRET not in str(caught.value) and SECRET not in repr(user)
    assert SECRET not in repr(follow_up.meta)
    assert not any(SECRET in repr(value) for value in vars(user).values())
    kept = [value for value in vars(user.endpoint).values() if value is not user.endpoint._client]
    assert not any(SECRET in repr(value) for value in kept)


def test_missing_key_env_var_is_an_input_error_naming_it(monkeypatch):
    monkeypatch.delenv("SIMBENCH_NO_SUCH_KEY", raising=False)
    with pytest.raises(InputError, match="SIMBENCH_NO_SUCH_KEY"):
        OpenAIUser("http://127.0.0.1:9/v1", "m", api_key_env="SIMBENCH_NO_SUCH_KEY")


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"base_url": "localhost:8000/v1"}, "base_url"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"concurrency": 0}, "concurrency"),
        ({"timeout": 0}, "timeout"),
        ({"temperature": -1}, "temperature"),
    ],
)
def test_bad_settings_are_input_errors_naming_the_field(kwargs, field):
    options = {"base_url": "http://127.0.0.1:9/v1", "model": "m", "api_key_env": None, **kwargs}
    with pytest.raises(InputError, match=field):
        OpenAIUser(**options)


def test_openai_user_is_registered_by_name():
    assert USERS.get("openai") is OpenAIUser
