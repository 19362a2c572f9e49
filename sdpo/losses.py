"""SDPO losses as pure tensor functions: token level, sequence level and top-K logit level.

Shapes: B sequences, T response positions (right-padded; `mask` (B, T) is 1 on real tokens),
V vocabulary, K top-K size. Every loss is a SUM over real tokens divided by `normaliser`
(default: the number of real tokens), so micro-batches with a shared normaliser add up to
exactly the full-batch loss under gradient accumulation. Teacher inputs are always detached.
"""

from __future__ import annotations

import math
from typing import Any

import torch

DIVERGENCES = ("reverse_kl", "forward_kl", "jsd")


def token_count(mask: torch.Tensor) -> torch.Tensor:
    """Number of real tokens in `mask` (any shape), at least 1 so it can divide."""
    return mask.sum().clamp(min=1.0)


def token_advantages(
    teacher_logprobs: torch.Tensor,
    student_logprobs: torch.Tensor,
    mask: torch.Tensor,
    centre: bool = False,
) -> torch.Tensor:
    """A_t = log π(y_t|x,o,y<t) − log π(y_t|x,y<t), detached: (B, T) -> (B, T), 0 on padding.

    With `centre`, each sequence's mean advantage over its real tokens is subtracted (the
    official online SDPO code's per-sequence baseline).
    """
    advantages = (teacher_logprobs - student_logprobs).detach() * mask
    if centre:
        per_sequence = advantages.sum(-1, keepdim=True) / mask.sum(-1, keepdim=True).clamp(min=1.0)
        advantages = (advantages - per_sequence) * mask
    return advantages


def importance_weights(
    student_logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    clip: float,
) -> torch.Tensor:
    """Detached ratio π/π_old per token, capped at `clip`: (B, T) -> (B, T).

    The log-ratio is clamped to [-20, 20] first so exp never overflows.
    """
    log_ratio = (student_logprobs.detach() - old_logprobs.detach()).clamp(-20.0, 20.0)
    return log_ratio.exp().clamp(max=clip)


def token_level_loss(
    student_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    normaliser: torch.Tensor | float | None = None,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """−Σ_t w_t · A_t · log π(y_t|x,y<t) / normaliser -> scalar.

    `student_logprobs` (B, T) carry the gradient; `advantages` (B, T) are detached;
    `weights` (B, T, optional) are detached importance weights.
    """
    per_token = -advantages.detach() * student_logprobs
    if weights is not None:
        per_token = per_token * weights.detach()
    return (per_token * mask).sum() / _normaliser(mask, normaliser)


def sequence_rewards(advantages: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """R_b = Σ_t A_{b,t} over real tokens: (B, T) -> (B,)."""
    return (advantages.detach() * mask).sum(-1)


def sequence_level_loss(
    student_logprobs: torch.Tensor,
    rewards: torch.Tensor,
    mask: torch.Tensor,
    normaliser: torch.Tensor | float | None = None,
) -> torch.Tensor:
    """−Σ_{b,t} R_b · log π(y_{b,t}|x,y<t) / normaliser -> scalar (REINFORCE with a
    sequence reward; `rewards` (B,) detached, `student_logprobs` and `mask` (B, T))."""
    per_token = -rewards.detach().unsqueeze(-1) * student_logprobs
    return (per_token * mask).sum() / _normaliser(mask, normaliser)


def topk_with_tail(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    k: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Student and teacher log-probs on the student's top-K tokens plus one tail bucket.

    (B, T, V) logits -> two (B, T, K+1) log-prob tensors (K entries when K >= V: no tail is
    left). The tail is the log of the remaining mass, computed as a logsumexp over the
    excluded tokens (exact, no 1 − Σ cancellation). The teacher side is detached.
    """
    student = student_logits.log_softmax(-1)
    teacher = teacher_logits.detach().log_softmax(-1)
    vocab = student.shape[-1]
    k = min(k, vocab)
    index = student.detach().topk(k, dim=-1).indices
    student_top, teacher_top = student.gather(-1, index), teacher.gather(-1, index)
    if k == vocab:
        return student_top, teacher_top
    excluded = torch.zeros_like(student, dtype=torch.bool).scatter(-1, index, True)
    student_tail = student.masked_fill(excluded, float("-inf")).logsumexp(-1, keepdim=True)
    teacher_tail = teacher.masked_fill(excluded, float("-inf")).logsumexp(-1, keepdim=True)
    return torch.cat([student_top, student_tail], -1), torch.cat([teacher_top, teacher_tail], -1)


def divergence(
    student_logprobs: torch.Tensor,
    teacher_logprobs: torch.Tensor,
    kind: str = "reverse_kl",
    alpha: float = 0.5,
) -> torch.Tensor:
    """Divergence between two distributions given as log-probs over the last axis: (..., N) -> (...).

    reverse_kl = KL(student ‖ teacher); forward_kl = KL(teacher ‖ student);
    jsd = (1−α)·KL(student ‖ M) + α·KL(teacher ‖ M) with M = (1−α)·student + α·teacher.
    """
    if kind == "reverse_kl":
        return _kl(student_logprobs, teacher_logprobs)
    if kind == "forward_kl":
        return _kl(teacher_logprobs, student_logprobs)
    if kind == "jsd":
        if not 0.0 < alpha < 1.0:
            raise ValueError(f"jsd needs 0 < alpha < 1, got {alpha}")
        mixture = torch.logsumexp(
            torch.stack([student_logprobs + math.log(1.0 - alpha), teacher_logprobs + math.log(alpha)]), dim=0
        )
        return (1.0 - alpha) * _kl(student_logprobs, mixture) + alpha * _kl(teacher_logprobs, mixture)
    raise ValueError(f"unknown divergence {kind!r}; choices: {', '.join(DIVERGENCES)}")


def logit_level_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    mask: torch.Tensor,
    k: int,
    kind: str = "reverse_kl",
    alpha: float = 0.5,
    normaliser: torch.Tensor | float | None = None,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Σ_t w_t · D(student_t ‖ teacher_t) / normaliser over the top-K + tail support -> scalar.

    `student_logits`, `teacher_logits`: (B, T, V); `mask`, `weights`: (B, T). The gradient
    reaches the student through all K+1 entries.
    """
    student, teacher = topk_with_tail(student_logits, teacher_logits, k)
    per_token = divergence(student, teacher, kind, alpha)
    if weights is not None:
        per_token = per_token * weights.detach()
    return (per_token * mask).sum() / _normaliser(mask, normaliser)


def full_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
    """KL(student ‖ teacher) over the whole vocabulary, no gradient: (B, T, V) -> (B, T)."""
    return kl_from_logprobs(student_logits.log_softmax(-1), teacher_logits.log_softmax(-1))


def kl_from_logprobs(student_log: torch.Tensor, teacher_log: torch.Tensor) -> torch.Tensor:
    """`full_kl` from log-softmaxed (B, T, V) inputs, no gradient: (B, T, V) -> (B, T)."""
    with torch.no_grad():
        return _kl(student_log, teacher_log)


def _kl(p_log: torch.Tensor, q_log: torch.Tensor) -> torch.Tensor:
    """KL(p ‖ q) = Σ p (log p − log q) over the last axis, from log-probs."""
    return (p_log.exp() * (p_log - q_log)).sum(-1)


def _normaliser(mask: torch.Tensor, normaliser: Any) -> Any:
    return token_count(mask) if normaliser is None else normaliser


def configured_loss(cfg: Any, student_logits: torch.Tensor, teacher_logits: torch.Tensor, student_lp: torch.Tensor,
                    teacher_lp: torch.Tensor, raw: torch.Tensor, mask: torch.Tensor, normaliser: float,
                    weights: torch.Tensor | None) -> torch.Tensor:
    """The loss `cfg.loss` names ("logit", "sequence" or "token"), from one batch's teacher and
    student passes; `raw` are the uncentred token advantages (teacher_lp - student_lp)."""
    if cfg.loss == "logit":
        return logit_level_loss(student_logits, teacher_logits, mask, cfg.top_k, cfg.divergence, cfg.alpha,
                                normaliser, weights)
    if cfg.loss == "sequence":
        rewards = sequence_rewards(raw, mask)
        if cfg.centre_advantages:
            rewards = rewards - rewards.mean()
        return sequence_level_loss(student_lp, rewards, mask, normaliser)
    adv = token_advantages(teacher_lp, student_lp, mask, centre=cfg.centre_advantages)
    return token_level_loss(student_lp, adv, mask, normaliser, weights)
