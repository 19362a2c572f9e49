"""The `PolicyBackend` Protocol, its request/output types, build context and registry.

A backend is one class: `preflight()` fails fast (before any model loads) when it cannot run
here, `from_config(context)` builds it for a run, and `generate` answers a batch of chats with
the policy's current weights: read in process from `context.policy`, or loaded out of process
from the folder `context.adapter_dir()` names after each update. A backend that only suits some
models or devices may add `check_settings(model_name, device)`, which preflight calls before
any model loads (llama-cpp: GGUF models on the CPU).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

from simbench.registry import Registry


@dataclass(frozen=True)
class GenerationRequest:
    """One chat to continue. `messages` are {role, content} dicts ending with a user turn."""

    messages: tuple[dict[str, str], ...]
    seed: int
    greedy: bool = False
    adapter_slot: int | None = None
    """The stacked-adapter slot this row answers with (population members; -1: base weights);
    None for a single run, whose policy carries its own adapter."""


@dataclass(frozen=True)
class Generation:
    """The assistant's reply: its text and the exact token ids generated (no re-tokenising)."""

    text: str
    token_ids: tuple[int, ...]
    finish_reason: str  # "stop" (end-of-turn token) or "length" (max new tokens)


def with_system_prompt(
    messages: Sequence[dict[str, str]], system_prompt: str | None
) -> list[dict[str, str]]:
    """`messages`, led by `system_prompt` unless they already carry their own system message."""
    messages = [dict(m) for m in messages]
    if system_prompt is not None and (not messages or messages[0].get("role") != "system"):
        messages.insert(0, {"role": "system", "content": system_prompt})
    return messages


@dataclass(frozen=True)
class BackendContext:
    """What a policy backend is built from (the learner is built first: it owns the policy)."""

    model_name: str
    """The `--model` value (short name, folder or HF id), for backends that load it themselves."""
    device: str
    policy: Any
    """The learner's model, LoRA adapter attached when the arm trains one (in-process backends)."""
    tokenizer: Any
    generation: Any
    """A `backends.hf.GenerationConfig`: token cap, sampling, stop tokens, batch size."""
    adapter_dir: Callable[[], Path | None]
    """The learner's current adapter folder (None: the base weights); out-of-process backends
    call it before each batch."""


class PolicyBackend(Protocol):
    """Generates replies for a batch of requests with the policy's current weights."""

    @classmethod
    def preflight(cls) -> None:
        """Raise a one-line error if this backend cannot run here (a missing optional
        package); called while validating a run, before any model is loaded."""
        ...

    @classmethod
    def from_config(cls, context: BackendContext) -> PolicyBackend: ...

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]: ...


BACKENDS: Registry = Registry("policy backend", flag="--backend")
