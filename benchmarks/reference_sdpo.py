"""A reference SDPO token-level update written the way the official pipeline runs it, for timing.

Three forward passes per batch (student no-grad for the "old" log-probs, hindsight teacher
no-grad, student with grad) and the model's default forward, which applies the output head at
EVERY position, then backward. `sdpo.SDPOUpdater` drops the first pass and applies the head
only at response positions; on-policy both compute the same loss (checked by the harness).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Sequence

import torch

from sdpo.hindsight import (
    DEFAULT_HINDSIGHT_TEMPLATE,
    HindsightSample,
    ResponseBatch,
    build_contexts,
    student_batch,
    teacher_batch,
)
from sdpo.scoring import pad_token_id


@dataclass(frozen=True)
class ReferenceRecord:
    """What one reference step did: the loss value, tokens trained on and wall time."""

    loss: float
    tokens: int
    seconds: float


def full_logprobs(model: Any, batch: ResponseBatch) -> torch.Tensor:
    """log π(target) at the response positions, from logits computed at ALL (B, L) positions.

    This is what `model(input_ids).logits` costs a naive pipeline: the (B, L, V) head output,
    most of it at prompt positions that are then thrown away. Returns (B, T).
    """
    device = next(model.parameters()).device
    logits = model(
        input_ids=batch.input_ids.to(device), attention_mask=batch.attention_mask.to(device), use_cache=False
    ).logits
    index = batch.positions.to(device).unsqueeze(-1).expand(-1, -1, logits.shape[-1])
    response = logits.gather(1, index)
    return response.log_softmax(-1).gather(-1, batch.targets.to(device).unsqueeze(-1)).squeeze(-1)


def reference_loss(
    model: Any,
    tokenizer: Any,
    samples: Sequence[HindsightSample],
    template: str = DEFAULT_HINDSIGHT_TEMPLATE,
    centre: bool = False,
) -> tuple[torch.Tensor, int]:
    """The token-level SDPO loss through the three-pass pipeline; returns (loss with graph, tokens).

    loss = −Σ_t A_t · log π(y_t|x,y<t) / N with A_t = log π(y_t|x,o,y<t) − log π_old(y_t|x,y<t),
    N the number of response tokens; `centre` subtracts each sequence's mean A_t first.
    """
    pad = pad_token_id(tokenizer)
    contexts = [build_contexts(tokenizer, s, template) for s in samples]
    student, teacher = student_batch(contexts, pad), teacher_batch(contexts, pad)
    device = next(model.parameters()).device
    mask = student.mask.to(device)

    model.eval()
    with torch.no_grad():
        old_lp = full_logprobs(model, student)  # pass 1: the rollout policy's log-probs
        teacher_lp = full_logprobs(model, teacher)  # pass 2: hindsight teacher
    model.train()
    try:
        student_lp = full_logprobs(model, student)  # pass 3: the same student, with grad
    finally:
        model.eval()

    advantages = (teacher_lp - old_lp) * mask
    if centre:
        mean = advantages.sum(-1, keepdim=True) / mask.sum(-1, keepdim=True).clamp(min=1.0)
        advantages = (advantages - mean) * mask
    tokens = int(mask.sum())
    loss = -(advantages * student_lp * mask).sum() / max(tokens, 1)
    return loss, tokens


class ReferenceUpdater:
    """Reference optimizer steps on an already LoRA-wrapped `model`: AdamW + grad clipping,
    the same settings `SDPOUpdater` uses, so the two differ only in how the loss is computed."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        lr: float = 5e-4,
        max_grad_norm: float | None = 1.0,
        template: str = DEFAULT_HINDSIGHT_TEMPLATE,
        centre: bool = False,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.template = template
        self.centre = centre
        self.max_grad_norm = max_grad_norm
        self.parameters = [p for p in model.parameters() if p.requires_grad]
        if not self.parameters:
            raise ValueError("the model has no trainable parameters: attach LoRA adapters first")
        self.optimizer = torch.optim.AdamW(self.parameters, lr=lr)

    def step(self, samples: Sequence[HindsightSample]) -> ReferenceRecord:
        """Three forwards, one backward, clip, one AdamW step."""
        started = time.perf_counter()
        self.optimizer.zero_grad(set_to_none=True)
        loss, tokens = reference_loss(self.model, self.tokenizer, samples, self.template, self.centre)
        loss.backward()
        limit = self.max_grad_norm if self.max_grad_norm is not None else float("inf")
        torch.nn.utils.clip_grad_norm_(self.parameters, limit)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return ReferenceRecord(loss=float(loss.detach()), tokens=tokens, seconds=time.perf_counter() - started)
