"""What counts as a secret in a run, decided by name, and scrubbing it from what is written.

Secret options are an explicit list of names, not a substring test: `max_tokens` is a
setting (kept in the manifest and checked on resume), `api_key` is a secret. The API key
itself is resolved from the environment variable the user options name, and every string
of every record, manifest and message is scrubbed of it before it is written, so an
endpoint that echoes the key back in its reply cannot leak it into a run folder.

A base module, not part of `runner/`: the config drops secrets too, and sits below the runner.
"""

from __future__ import annotations

import os
from typing import Any, Callable

from simbench.run_defaults import DEFAULTS

# Options whose VALUES are secrets: never stored, never compared on resume.
SECRET_OPTIONS = frozenset({"api_key", "headers", "default_headers", "extra_headers", "authorization"})
# Users that read a key from the environment, and the variable they read by default.
KEY_ENV_DEFAULTS = {"openai": "OPENAI_API_KEY"}
REPLACEMENT = "***"
# A key shorter than this is only scrubbed where a whole string equals it: replacing every
# occurrence of a 3-letter "key" would garble ordinary text.
MIN_SUBSTRING = 8
PLACEHOLDERS = frozenset({"", "no-key", "EMPTY"})


def redact(options: dict[str, Any]) -> dict[str, Any]:
    """`options` without the secret ones (the *name* of a key's environment variable stays)."""
    return {k: v for k, v in options.items() if k.lower() not in SECRET_OPTIONS}


def resolved_secrets(user: str = DEFAULTS["user"], user_options: dict[str, Any] | None = None) -> list[str]:
    """The secret values a run of user backend `user` holds (the API key from the environment)."""
    options = user_options or {}
    if user not in KEY_ENV_DEFAULTS:
        return []
    env = options.get("api_key_env", KEY_ENV_DEFAULTS[user])
    value = os.environ.get(env) if isinstance(env, str) and env else None
    return [value] if value and value not in PLACEHOLDERS else []


def scrubber(secrets: list[str]) -> Callable[[Any], Any] | None:
    """A function replacing each secret in every string (keys included) of a JSON-like value."""
    if not secrets:
        return None

    def scrub_text(text: str) -> str:
        for secret in secrets:
            if text == secret:
                return REPLACEMENT
            if len(secret) >= MIN_SUBSTRING and secret in text:
                text = text.replace(secret, REPLACEMENT)
        return text

    def scrub(value: Any) -> Any:
        if isinstance(value, str):
            return scrub_text(value)
        if isinstance(value, dict):
            return {scrub(k): scrub(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [scrub(v) for v in value]
        return value

    return scrub
