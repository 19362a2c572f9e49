"""The `local` simulated user: a transformers chat model writes the follow-up, in process.

Same prompt as the `openai` user (prompting.py) and the same rule: the model phrases the
message, the checkers decide `violated`. Greedy or seeded sampling; short replies.
"""

from __future__ import annotations

import inspect
import random
from typing import Any, Sequence

from sdpo.errors import ModelNotFoundError
from sdpo.models import check_available, load_policy
from simbench.errors import InputError, UserSimulatorError
from simbench.option_types import typed_options
from simbench.persona.preference import Preference
from simbench.scoring import CHECKERS_ONLY, Scorer
from simbench.users.base import FollowUp, FollowUpRequest, UserContext, check_minimums, follow_up_each
from simbench.users.gate import DEFAULT_ATTEMPTS, RETRY_TEMPERATURE, gated, retry_temperature
from simbench.users.noise import NoisyUser
from simbench.users.prompting import checked_turn, clean_follow_up, prompt_hash

# A model that ends its turn at once (or only emits quotes/labels) gets this many tries,
# the later ones sampled, before the run stops with a user-simulator error.
_ATTEMPTS = 3


class LocalUser:
    """A simulated user played by an in-process transformers chat model.

    `temperature=0` decodes greedily; otherwise each call samples under a seed drawn from
    the caller's rng inside a forked torch RNG, so the global torch state is untouched and a
    run replays. `name` labels the model in `FollowUp.meta`. `gate_attempts`: tries per
    follow-up through the quality gate (users/gate.py), as for the `openai` user.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        name: str | None = None,
        background: str = "",
        temperature: float = 0.0,
        max_new_tokens: int = 48,
        show_checks: bool = True,
        gate_attempts: int = DEFAULT_ATTEMPTS,
    ) -> None:
        check_minimums("user", temperature=(temperature, 0), max_new_tokens=(max_new_tokens, 1),
                       gate_attempts=(gate_attempts, 1))
        self.model = model
        self.tokenizer = tokenizer
        self.name = name or str(getattr(model.config, "_name_or_path", "") or type(model).__name__)
        self.background = background
        self.temperature = temperature
        self.max_new_tokens = max_new_tokens
        self.show_checks = show_checks
        self.gate_attempts = gate_attempts
        self.scorer: Scorer = CHECKERS_ONLY  # from_config hands over the run's

    @classmethod
    def from_name(cls, name_or_path: str, device: str = "cpu", **kwargs: Any) -> "LocalUser":
        """Load the user model by short name or folder (e.g. "smollm2-135m") via `sdpo.models`."""
        model, tokenizer = load_policy(name_or_path, device=device)
        return cls(model, tokenizer, name=kwargs.pop("name", name_or_path), **kwargs)

    @classmethod
    def from_config(cls, context: UserContext) -> "LocalUser | NoisyUser":
        """The user model named by the `model` option (default: the run's policy model),
        role-playing the persona's background, noisy at the persona's rate."""
        typed = typed_options("--user-option", "user 'local'", cls.__init__, context.options)
        options = {"background": context.background, **typed}
        name = options.pop("model", context.model)
        user = cls.from_name(name, device=context.device, **options)
        user.scorer = context.scorer
        return NoisyUser.wrap(user, context.irrelevant_rate)

    @classmethod
    def check_options(cls, context: UserContext) -> None:
        """The options against the constructor's signature, and the model must exist (not loaded)."""
        options = dict(context.options)
        model = options.pop("model", context.model)
        if not isinstance(model, str) or not model:
            raise InputError("--user-option", f"local: model must be a model name or folder, got {model!r}")
        accepted = set(inspect.signature(cls.__init__).parameters) - {"self", "model", "tokenizer"}
        unknown = sorted(set(options) - accepted)
        if unknown:
            raise InputError("--user-option", f"local: unknown option {unknown[0]!r}",
                             f"the local user takes {', '.join(sorted(accepted))}")
        typed_options("--user-option", "user 'local'", cls.__init__, options)
        try:
            check_available(model)  # found locally; not loaded
        except ModelNotFoundError as exc:
            raise InputError("--user-option model" if "model" in context.options else "--model", str(exc)) from None

    def __repr__(self) -> str:
        return (
            f"LocalUser(name={self.name!r}, temperature={self.temperature}, "
            f"max_new_tokens={self.max_new_tokens}, show_checks={self.show_checks})"
        )

    def follow_up(
        self,
        prompt: str,
        response: str,
        active: Sequence[Preference],
        rng: random.Random,
    ) -> FollowUp:
        seed = rng.randrange(2**31)
        turn = checked_turn(prompt, response, active, self.background, self.show_checks, self.scorer)

        def write(attempt: int) -> tuple[str, int]:
            temperature = retry_temperature(self.temperature, attempt)
            return self._generate(turn.messages, seed + attempt * _ATTEMPTS, temperature)

        result = gated(write, response, active, turn.violated, self.gate_attempts)
        meta = turn.meta(
            model=self.name, prompt_hash=prompt_hash(turn.messages), seed=seed, attempts=result.extra,
            gate=result.meta(),
        )
        return FollowUp(result.text, turn.violated, meta)

    def follow_up_many(self, requests: Sequence[FollowUpRequest]) -> list[FollowUp]:
        """One at a time: batched decoding would pad, and padding changes greedy outputs."""
        return follow_up_each(self, requests)

    def _generate(self, messages: list[dict[str, str]], seed: int, first_temperature: float) -> tuple[str, int]:
        import torch

        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        inputs = self.tokenizer(text, return_tensors="pt", add_special_tokens=False).to(self.model.device)
        prompt_length = inputs["input_ids"].shape[1]
        pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id
        device = self.model.device
        for attempt in range(1, _ATTEMPTS + 1):
            temperature = first_temperature if attempt == 1 else max(first_temperature, RETRY_TEMPERATURE)
            sampling = {"do_sample": True, "temperature": temperature, "top_k": 0, "top_p": 1.0}
            options = sampling if temperature > 0 else {"do_sample": False}
            with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
                torch.manual_seed(seed + attempt - 1)
                with torch.no_grad():
                    output = self.model.generate(
                        **inputs, max_new_tokens=self.max_new_tokens, pad_token_id=pad_id, **options
                    )
            reply = self.tokenizer.decode(output[0, prompt_length:], skip_special_tokens=True)
            cleaned = clean_follow_up(reply)
            if cleaned:
                return cleaned, attempt
        raise UserSimulatorError(
            f"local user model {self.name!r} produced no usable follow-up in {_ATTEMPTS} attempts "
            f"(last reply {reply[:60]!r}); try a larger max_new_tokens or a chat-tuned model"
        )
