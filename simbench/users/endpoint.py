"""One OpenAI-compatible chat endpoint with explicit, bounded retries (user simulator and judge).

The `openai` client runs with max_retries=0; this module owns the retry loop so the policy
is visible: timeouts, connection errors, 408/409/429 (Retry-After honoured) and 5xx back
off exponentially with jitter, empty or malformed replies are retried, everything else
fails at once; after `max_attempts` one line names the endpoint and the last error.
Retries are quiet: each attempt is logged at debug level only, and an endpoint that needed
retries but answered is reported once, in one warning line (a flaky endpoint, not 25 lines).
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence, TypeVar

from simbench.errors import InputError, SimbenchError, UserSimulatorError, missing_package
from simbench.users.base import check_minimums
from simbench.users.prompting import prompt_hash

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# Status codes worth another try: request timeout, conflict (lock contention), rate limit.
RETRYABLE_STATUS = frozenset({408, 409, 429})
NO_KEY = "no-key"  # sent when the endpoint needs no authentication (llama.cpp, vLLM)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry. Delays: base * 2^(attempt-1), capped, jittered."""

    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    retry_after_max: float = 60.0

    def validate(self, where: str) -> None:
        check_minimums(where, max_attempts=(self.max_attempts, 1), backoff_base=(self.backoff_base, 0),
                       backoff_max=(self.backoff_max, 0), retry_after_max=(self.retry_after_max, 0))


def backoff_delay(attempt: int, policy: RetryPolicy, jitter: float, retry_after: float | None = None) -> float:
    """Seconds to wait after failed attempt `attempt` (1-based); `jitter` is uniform in [0, 1).

    "Equal jitter": half the exponential step is fixed, half random, so concurrent callers
    spread out yet never retry immediately. A server's Retry-After is a floor (capped at
    `retry_after_max` so a bad header cannot stall a run).
    """
    step = min(policy.backoff_max, policy.backoff_base * 2 ** (attempt - 1))
    delay = step * (0.5 + 0.5 * jitter)
    if retry_after is not None:
        delay = max(delay, min(retry_after, policy.retry_after_max))
    return delay


def parse_retry_after(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """Seconds the server asked us to wait: `retry-after-ms`, or `retry-after` as seconds or HTTP date."""
    if not headers:
        return None
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


# Seeds of resampled retries, far from the seed + attempt the quality gate's own tries use.
RESAMPLE_SEED_STRIDE = 1_000_003


class MalformedReply(Exception):
    """The endpoint answered 200 but without usable text."""


@dataclass(frozen=True)
class Completion:
    """One successful chat completion and how it was obtained."""

    text: str
    model: str  # the model name requested
    served_model: str  # the model name the endpoint reported (may differ, e.g. a file path)
    prompt_hash: str
    attempts: int
    seconds: float


class ChatEndpoint:
    """A chat-completions endpoint; `complete` is the single request/retry path.

    The API key is read from the env var `api_key_env` (None: the endpoint needs none) and
    handed to the client only: it is never kept on this object, shown in repr, or put in
    errors or metadata.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key_env: str | None = "OPENAI_API_KEY",
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        where: str = "user",
        error_type: type[SimbenchError] = UserSimulatorError,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise InputError(f"{where}.base_url", f"must start with http:// or https://, got {base_url!r}")
        if not model:
            raise InputError(f"{where}.model", "must name the model to request, got an empty string")
        if timeout <= 0:
            raise InputError(f"{where}.timeout", f"must be > 0 seconds, got {timeout!r}")
        retry.validate(where)
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key_env = api_key_env
        self.timeout = timeout
        self.retry = retry
        self.error_type = error_type
        self.where = where
        self._jitter = random.Random()
        self._retries_reported = False  # the one warning line per endpoint (see _report_recovery)
        self._jitter_lock = threading.Lock()
        key = _read_key(api_key_env, where)
        # Only the exact secret is scrubbed from error text; a placeholder is no secret.
        self._scrub = (lambda text: text.replace(key, "***")) if key != NO_KEY else (lambda text: text)
        self._client = _make_client(self.base_url, key, timeout, where)

    def __repr__(self) -> str:
        return (
            f"ChatEndpoint(base_url={self.base_url!r}, model={self.model!r}, "
            f"api_key_env={self.api_key_env!r}, timeout={self.timeout}, retry={self.retry})"
        )

    def complete(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        temperature: float = 0.0,
        max_tokens: int = 64,
        seed: int | None = None,
        postprocess: Callable[[str], str] = str.strip,
        resample_temperature: float | None = None,
    ) -> Completion:
        """The endpoint's reply to `messages`, after `postprocess`; empty results are retried.

        A retry after a malformed reply is resampled: a new seed and, when given, at least
        `resample_temperature`, since a greedy or seeded request would only get the same reply
        again (a small model that answers with nothing but a label does so every time).
        """
        import openai

        started = time.monotonic()
        last_error = "no attempt made"
        extra: dict[str, Any] = {} if seed is None else {"seed": seed}
        for attempt in range(1, self.retry.max_attempts + 1):
            retry_after = None
            unreachable = False  # no answer at all: the final error's hint says where to look
            try:
                response = self._client.chat.completions.create(
                    model=self.model,
                    messages=list(messages),
                    temperature=temperature,
                    max_tokens=max_tokens,
                    **extra,
                )
                text, served = _extract(response, postprocess)
                if attempt > 1:
                    self._report_recovery(attempt, time.monotonic() - started, last_error)
                return Completion(
                    # An endpoint that echoes the key must not put it in a follow-up: from
                    # there it would reach the logs, the learner's memory and its training.
                    text=self._scrub(text),
                    model=self.model,
                    served_model=served or self.model,
                    prompt_hash=prompt_hash(messages),
                    attempts=attempt,
                    seconds=time.monotonic() - started,
                )
            except MalformedReply as error:
                last_error = f"malformed reply: {error}"
                if resample_temperature is not None:
                    temperature = max(temperature, resample_temperature)
                if seed is not None:
                    extra = {"seed": (seed + RESAMPLE_SEED_STRIDE * attempt) % 2**31}
            except openai.APIStatusError as error:
                last_error = f"HTTP {error.status_code}: {error.message}"
                if not (error.status_code in RETRYABLE_STATUS or error.status_code >= 500):
                    hint = _status_hint(error.status_code, self.api_key_env)
                    raise self._error(attempt, time.monotonic() - started, last_error, hint) from error
                retry_after = parse_retry_after(error.response.headers)
            except openai.APITimeoutError:
                last_error = f"timed out after {self.timeout:g} s"
            except openai.APIConnectionError as error:
                cause = error.__cause__ or error
                last_error = f"connection error: {type(cause).__name__}: {cause}"
                unreachable = True
            except openai.APIResponseValidationError as error:
                last_error = f"malformed reply: {error.message}"
            except json.JSONDecodeError as error:  # a 200 whose body is not JSON
                last_error = f"malformed reply: body is not JSON ({error})"
            if attempt < self.retry.max_attempts:
                with self._jitter_lock:
                    jitter = self._jitter.random()
                delay = backoff_delay(attempt, self.retry, jitter, retry_after)
                log.debug(
                    "%s endpoint %s attempt %d/%d failed (%s); retrying in %.2f s", self.where,
                    self.base_url, attempt, self.retry.max_attempts, self._one_line(last_error), delay,
                )
                time.sleep(delay)
        hint = f"is a server listening at {self.base_url}? check {self.where}.base_url" if unreachable else None
        raise self._error(self.retry.max_attempts, time.monotonic() - started, last_error, hint)

    def _report_recovery(self, attempts: int, seconds: float, last_error: str) -> None:
        """One warning line the first time a request of this endpoint needed retries; later
        ones stay at debug level. Giving up is not logged here: the raised error is its line."""
        with self._jitter_lock:  # requests run on several threads; one of them reports
            if self._retries_reported:
                return
            self._retries_reported = True
        log.warning(
            "warning: %s endpoint %s needed retries: answered at attempt %d/%d after %.1f s, last error: %s "
            "(later retries of this endpoint are not shown)", self.where, self.base_url, attempts,
            self.retry.max_attempts, seconds, self._one_line(last_error),
        )

    def _error(self, attempts: int, seconds: float, last_error: str, hint: str | None) -> SimbenchError:
        message = (
            f"{self.where} endpoint {self.base_url} (model {self.model!r}) failed after {attempts} "
            f"attempt{'s' if attempts != 1 else ''} over {seconds:.1f} s: {self._one_line(last_error)}"
        )
        if hint:
            message += f" ({hint})"
        return self.error_type(message)

    def _one_line(self, text: str) -> str:
        text = " ".join(self._scrub(str(text)).split())
        return text if len(text) <= 300 else text[:297] + "..."


def map_bounded(fn: Callable[[T], R], items: Sequence[T], concurrency: int) -> list[R]:
    """`[fn(x) for x in items]` on at most `concurrency` threads, order kept.

    The first failure (in item order) is raised; requests not yet started are cancelled.
    """
    if concurrency <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    pool = ThreadPoolExecutor(max_workers=min(concurrency, len(items)))
    try:
        futures = [pool.submit(fn, item) for item in items]
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _read_key(api_key_env: str | None, where: str) -> str:
    if api_key_env is None:
        return NO_KEY
    key = os.environ.get(api_key_env)
    if not key:
        raise InputError(
            f"{where}.api_key_env",
            f"environment variable {api_key_env!r} is not set",
            "export it, or set api_key_env to null for an endpoint without authentication",
        )
    return key


def _make_client(base_url: str, key: str, timeout: float, where: str) -> Any:
    try:
        import openai
    except ImportError as error:
        raise missing_package(f"--{where} openai", "openai", error.msg, "pip install openai") from None
    return openai.OpenAI(base_url=base_url, api_key=key, timeout=timeout, max_retries=0)


def _extract(response: Any, postprocess: Callable[[str], str]) -> tuple[str, str | None]:
    """(text, served model) from a chat completion, or `MalformedReply`."""
    choices = getattr(response, "choices", None)
    if not choices:
        raise MalformedReply(f"no choices in {type(response).__name__} reply")
    message = getattr(choices[0], "message", None)
    content = getattr(message, "content", None)
    if not isinstance(content, str) or not content.strip():
        raise MalformedReply(f"empty content ({content!r})")
    text = postprocess(content)
    if not text:
        raise MalformedReply(f"nothing left of {content[:60]!r} after cleaning")
    served = getattr(response, "model", None)
    return text, served if isinstance(served, str) else None


def _status_hint(status: int, api_key_env: str | None) -> str | None:
    if status in (401, 403):
        if api_key_env:
            return f"check the API key in ${api_key_env}"
        return "the endpoint wants an API key: set api_key_env"
    if status == 404:
        return "check base_url (it usually ends in /v1) and the model name"
    return None
