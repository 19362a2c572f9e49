"""sdpo's own one-line errors (where, problem, hint), so callers can translate them.

sdpo never imports simbench; simbench maps these onto its `InputError` / `PolicyError`
by reading the same three attributes.
"""

from __future__ import annotations


class SDPOError(Exception):
    """Base class: `where` names the model, field, file or sample; `problem` says what is
    wrong; `hint` (optional) says how to fix it. The message is always one line."""

    def __init__(self, where: str, problem: str, hint: str | None = None) -> None:
        self.where = where
        self.problem = problem
        self.hint = hint
        message = f"{where}: {problem}"
        if hint:
            message += f" ({hint})"
        super().__init__(" ".join(message.split()))


class ModelNotFoundError(SDPOError):
    """A policy model or tokenizer could not be found or loaded."""


class ConfigError(SDPOError):
    """An `SDPOConfig` field has a bad value (`where` is the field name)."""


class SampleError(SDPOError):
    """A training sample is malformed (`where` names the sample and field)."""


class CheckpointError(SDPOError):
    """An updater checkpoint is missing, incomplete or does not match the updater."""
