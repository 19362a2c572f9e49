"""The feedback-reading recipe's data: the model's own samples, turned into training examples.

An example is (chat the hindsight teacher would see, target token ids). With a relevant
follow-up the target is the sample rewritten to satisfy the preference (or the sample itself
when it already complies); with an irrelevant follow-up, or with no follow-up at all, it is the
sample unchanged, so the adapter learns to *use* feedback and to ignore what is not feedback,
without changing the answer it gives when there is none.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from sdpo.hindsight import DEFAULT_HINDSIGHT_TEMPLATE, end_of_turn_id, hindsight_messages
from simbench.backends.base import GenerationRequest
from simbench.backends.hf import GenerationConfig, HFBackend
from simbench.persona.library import BUILTIN
from simbench.preset.rewrites import FEEDBACK, IRRELEVANT, TRAINED, rewrite


@dataclass(frozen=True)
class Sample:
    """One answer of the base model to a recipe prompt, exactly as generated."""

    prompt: str
    text: str
    token_ids: tuple[int, ...]
    complete: bool  # False: generation stopped at the token cap


@dataclass(frozen=True)
class Example:
    """One training item: the chat (user turn possibly carrying a follow-up) and its target."""

    kind: str  # "rewrite" | "read" | "compliant" | "irrelevant" | "plain"
    preference: str | None
    messages: tuple[dict[str, str], ...]
    target_ids: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "preference": self.preference, "messages": list(self.messages),
                "target_ids": list(self.target_ids)}


def generate_samples(policy: Any, tokenizer: Any, prompts: Sequence[str], seed: int, max_new_tokens: int,
                     temperature: float, batch_size: int = 16,
                     on_batch: Callable[[int, int], None] | None = None,
                     chats: Sequence[tuple[dict[str, str], ...]] | None = None) -> list[Sample]:
    """The model's own sampled answers to `prompts` (or to whole `chats`, whose last user turn
    is then the sample's prompt), one seeded request per item; `on_batch(done, total)` after each
    batch. Temperature 0 decodes greedily."""

    config = GenerationConfig(max_new_tokens=max_new_tokens, temperature=temperature, top_p=1.0,
                              batch_size=batch_size)
    backend = HFBackend(policy, tokenizer, config)
    items = list(chats) if chats is not None else [({"role": "user", "content": p},) for p in prompts]
    samples: list[Sample] = []
    for start in range(0, len(items), batch_size):
        chunk = items[start : start + batch_size]
        requests = [GenerationRequest(messages=chat, seed=seed * 1_000_003 + start + i) for i, chat in enumerate(chunk)]
        for chat, out in zip(chunk, backend.generate(requests)):
            samples.append(Sample(chat[-1]["content"], out.text, tuple(out.token_ids), out.finish_reason == "stop"))
        if on_batch is not None:
            on_batch(len(samples), len(items))
    return samples


def build_examples(samples: Sequence[Sample], encode: Callable[[str], list[int]], eot_id: int,
                   rng: random.Random, relevant_per_sample: int = 2, irrelevant_share: float = 0.5,
                   plain_share: float = 0.5, template: str = DEFAULT_HINDSIGHT_TEMPLATE) -> list[Example]:
    """Training examples from `samples` (pure given `rng`): see the module docstring.

    `encode(text)` gives token ids without special tokens; rewritten targets end with `eot_id`.
    A rewrite that its checker does not pass is dropped, never trained on.
    """
    examples: list[Example] = []
    for sample in samples:
        plain = ({"role": "user", "content": sample.prompt},)
        for pid in rng.sample(TRAINED, min(relevant_per_sample, len(TRAINED))):
            follow_up = rng.choice(FEEDBACK[pid])
            messages = tuple(hindsight_messages(list(plain), follow_up, template))
            checker = BUILTIN[pid]
            if sample.complete and checker.check(sample.text).passed:
                examples.append(Example("compliant", pid, messages, sample.token_ids))
                continue
            target = rewrite(pid, sample.text, sample.complete, rng)
            if target is not None and checker.check(target).passed:
                examples.append(Example("rewrite", pid, messages, tuple(encode(target)) + (eot_id,)))
        if rng.random() < irrelevant_share:
            messages = tuple(hindsight_messages(list(plain), rng.choice(IRRELEVANT), template))
            examples.append(Example("irrelevant", None, messages, sample.token_ids))
        if rng.random() < plain_share:
            examples.append(Example("plain", None, plain, sample.token_ids))
    rng.shuffle(examples)
    return examples


def read_targets(examples: Sequence[Example], answer: Callable[[list[tuple[dict[str, str], ...]]], list[Sample]]
                 ) -> list[Example]:
    """The `targets="self"` recipe: each rewrite's target replaced by the model's own answer to
    the same chat (feedback in context), kept only where that answer passes the checker.

    Rewrites keep the sample's opening words, so training on them teaches the model to begin
    as it would without feedback (measured: it stopped writing lists when asked). The model's
    own in-context answers are what it already does when it reads the feedback well; training
    on those that pass sharpens reading without a template of ours. Other examples pass through.
    """
    asked = [i for i, e in enumerate(examples) if e.kind == "rewrite"]
    answers = answer([examples[i].messages for i in asked]) if asked else []
    replaced: dict[int, Example | None] = {}
    for i, sample in zip(asked, answers):
        example = examples[i]
        assert example.preference is not None
        passed = BUILTIN[example.preference].check(sample.text).passed
        replaced[i] = Example("read", example.preference, example.messages, sample.token_ids) if passed else None
    out = []
    for i, example in enumerate(examples):
        kept = replaced.get(i, example)
        if kept is not None:
            out.append(kept)
    return out


def tokenizer_encoder(tokenizer: Any) -> tuple[Callable[[str], list[int]], int]:
    """(encode without special tokens, end-of-turn id) for `tokenizer`."""
    return (lambda text: list(tokenizer.encode(text, add_special_tokens=False))), end_of_turn_id(tokenizer)
