"""Collateral drift on what the model already does: NLL of fixed texts and KL to the frozen model.

Accuracy on general questions cannot show harm when the frozen model answers none of them,
so every probe also scores a fixed set the model handles at t=0: short general-text passages
(plain language modelling, no chat template) and the run's general questions with their
reference answers (as a chat, framed as the learner frames its probes: system prompt, stated
preferences, examples). For each item the scorer records the policy's mean NLL per token,
the frozen model's (LoRA adapters disabled, the bare chat: what the `frozen` arm sees), and
the mean per-token KL(frozen || policy) over the full vocabulary. One forward pass per item
and model state, batched.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass
from typing import Any, Callable, ContextManager, Iterator, Sequence

from sdpo.hindsight import ResponseBatch, prompt_ids, response_batch
from sdpo.scoring import pad_token_id, response_logits
from simbench.logs.schema import DriftRecord
from simbench.prompts import GeneralQuestion, Prompt

BATCH = 4  # items per forward pass: bounds the (items, tokens, vocab) logits tensors
Frame = Callable[[list[dict[str, str]]], list[dict[str, str]]]


def bare(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """The chat as the frozen arm answers it: no system prompt, nothing added."""
    return messages


@dataclass(frozen=True)
class DriftItem:
    """A text to score: `kind` "text" (all tokens after the first) or "qa" (the answer)."""

    id: str
    kind: str
    text: str
    question: str = ""


def drift_items(texts: Sequence[Prompt], questions: Sequence[GeneralQuestion]) -> list[DriftItem]:
    """The passages as "text" items and the general questions with their answers as "qa"."""
    return [DriftItem(p.id, "text", p.text) for p in texts] + [
        DriftItem(q.id, "qa", q.answer, q.question) for q in questions
    ]


def finite(value: float) -> float | None:
    """`value`, or None when it is NaN or infinite (logs hold strict JSON)."""
    return value if math.isfinite(value) else None


@contextlib.contextmanager
def adapters_disabled(model: Any) -> Iterator[None]:
    """The frozen base model: peft's LoRA layers switched off (a plain model is unchanged)."""
    disable = getattr(model, "disable_adapter", None)
    with disable() if disable is not None else contextlib.nullcontext():
        yield


class DriftScorer:
    """Scores `items` under the current policy and the frozen model at each probe."""

    def __init__(self, model: Any, tokenizer: Any, items: Sequence[DriftItem],
                 adapter_rows: Callable[[int], ContextManager[Any]] | None = None) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.items = list(items)
        # A population member's policy is its slot of stacked adapters on a shared plain
        # model: `adapter_rows(n)` applies that slot to a batch of n rows (outside it the
        # model is the frozen base). A single run's policy carries its own peft adapter.
        self.adapter_rows = adapter_rows or (lambda rows: contextlib.nullcontext())

    def sequence(self, item: DriftItem, frame: Frame) -> tuple[list[int], int]:
        """(token ids, prompt length): the tokens from the prompt length on are scored."""
        if item.kind == "text":
            ids = self.tokenizer(item.text, add_special_tokens=False)["input_ids"]
            return list(ids), 1
        prompt = prompt_ids(self.tokenizer, frame([{"role": "user", "content": item.question}]))
        answer = self.tokenizer(item.text, add_special_tokens=False)["input_ids"]
        return prompt + list(answer), len(prompt)

    def __call__(self, t: int, frame: Frame = bare) -> list[DriftRecord]:
        """One record per item at probe time `t`; `frame` turns a chat into the one the
        learner's probes answer (its system prompt, stated preferences, examples)."""
        records = []
        for start in range(0, len(self.items), BATCH):
            chunk = self.items[start : start + BATCH]
            started = time.perf_counter()
            scores = self.score(chunk, frame)
            share = (time.perf_counter() - started) / len(chunk)
            records += [
                DriftRecord(t=t, id=item.id, kind=item.kind, tokens=n, nll=finite(nll),
                            nll_frozen=finite(nll_frozen), kl=finite(kl), seconds=share)
                for item, (n, nll, nll_frozen, kl) in zip(chunk, scores)
            ]
        return records

    def batch(self, chunk: Sequence[DriftItem], frame: Frame, pad: int) -> ResponseBatch:
        pairs = [self.sequence(item, frame) for item in chunk]
        return response_batch([ids for ids, _ in pairs], [prompt_len for _, prompt_len in pairs], pad)

    def score(self, chunk: Sequence[DriftItem], frame: Frame) -> list[tuple[int, float, float, float]]:
        """(scored tokens, mean NLL, frozen mean NLL, mean KL(frozen || policy)) per item."""
        import torch
        pad = pad_token_id(self.tokenizer)
        current = self.batch(chunk, frame, pad)
        frozen = self.batch(chunk, bare, pad)
        device = next(self.model.parameters()).device
        with torch.no_grad():
            with self.adapter_rows(len(chunk)):
                log_p = response_logits(self.model, current).float().log_softmax(-1)
            with adapters_disabled(self.model):
                log_q = response_logits(self.model, frozen).float().log_softmax(-1)
            # Answer tokens are the same in both contexts; only the framing of the prompt may differ.
            mask = current.mask.to(device)
            nll = -log_p.gather(-1, current.targets.to(device).unsqueeze(-1)).squeeze(-1)
            nll_frozen = -log_q.gather(-1, frozen.targets.to(device).unsqueeze(-1)).squeeze(-1)
            kl = (log_q.exp() * (log_q - log_p)).sum(-1)
            counts = mask.sum(-1).clamp(min=1)
            rows = [((x * mask).sum(-1) / counts).tolist() for x in (nll, nll_frozen, kl)]
        return [(int(n), a, b, c) for n, a, b, c in zip(mask.sum(-1).tolist(), *rows)]
