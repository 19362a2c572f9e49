"""Forward passes that score responses: logits only at response positions, per-token log-probs,
teacher-minus-student advantages and full next-token distributions for signal analysis.

The vocabulary is ~49k, so hidden states are gathered at the response positions BEFORE the
output head: prompt positions never pay for a (L, V) logits tensor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from sdpo.hindsight import (
    DEFAULT_HINDSIGHT_TEMPLATE,
    HindsightSample,
    ResponseBatch,
    build_contexts,
    hindsight_messages,
    prompt_ids,
    response_batch,
    student_batch,
    teacher_batch,
)


@dataclass(frozen=True)
class TokenScores:
    """Per-token scores of one response under the plain and the hindsight context.

    All lists have one entry per response token; `advantages[t] = teacher_logprobs[t] -
    student_logprobs[t]` (positive: the follow-up made the token more likely).
    """

    token_ids: list[int]
    tokens: list[str]
    student_logprobs: list[float]
    teacher_logprobs: list[float]
    advantages: list[float]


def pad_token_id(tokenizer: Any) -> int:
    """The id used for right padding (masked out everywhere, so any valid id works)."""
    for candidate in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if candidate is not None:
            return int(candidate)
    return 0


def response_logits(model: Any, batch: ResponseBatch) -> Any:
    """Logits at the response positions: (B, T, V) for a batch with (B, T) `positions`.

    Runs the decoder once over (B, L) and applies the output head only to the gathered
    (B, T, H) hidden states. Gradients flow if the caller has them enabled.
    """
    decoder, head = _decoder_and_head(model)
    device = next(model.parameters()).device
    hidden = decoder(
        input_ids=batch.input_ids.to(device),
        attention_mask=batch.attention_mask.to(device),
        use_cache=False,
    ).last_hidden_state
    index = batch.positions.to(device).unsqueeze(-1).expand(-1, -1, hidden.shape[-1])
    logits = head(hidden.gather(1, index))
    cap = getattr(_base_model(model).config, "final_logit_softcapping", None)
    if cap:
        import torch

        logits = cap * torch.tanh(logits / cap)
    return logits


def gather_logprobs(logits: Any, targets: Any) -> Any:
    """log π(target): (B, T, V) logits and (B, T) ids -> (B, T) log-probs."""
    return gather_targets(logits.log_softmax(-1), targets)


def gather_targets(values: Any, targets: Any) -> Any:
    """values[b, t, targets[b, t]]: (B, T, V) and (B, T) ids -> (B, T)."""
    return values.gather(-1, targets.unsqueeze(-1)).squeeze(-1)


def sampled_logprobs(logits: Any, targets: Any) -> Any:
    """`gather_logprobs` without materialising the (B, T, V) log-softmax: logit of the target
    minus logsumexp. Equal to it up to float rounding (~1e-6), and cheaper on CPU."""
    return gather_targets(logits, targets) - logits.logsumexp(-1)


def token_logprobs(
    model: Any,
    tokenizer: Any,
    messages: Sequence[Mapping[str, str]],
    response_ids: Sequence[int],
    follow_up: str | None = None,
    template: str = DEFAULT_HINDSIGHT_TEMPLATE,
) -> list[float]:
    """log π(y_t | context, y<t) for every response token; the hindsight context if `follow_up`."""
    import torch

    context = messages if follow_up is None else hindsight_messages(messages, follow_up, template)
    prompt = prompt_ids(tokenizer, context)
    batch = response_batch([prompt + list(response_ids)], [len(prompt)], pad_token_id(tokenizer))
    with torch.no_grad():
        logprobs = gather_logprobs(response_logits(model, batch), batch.targets.to(_device(model)))
    return logprobs[0].double().tolist()


def hindsight_token_scores(
    model: Any,
    tokenizer: Any,
    samples: Sequence[HindsightSample],
    template: str = DEFAULT_HINDSIGHT_TEMPLATE,
) -> list[TokenScores]:
    """Student and hindsight-teacher log-probs of every response token, one batch each."""
    import torch

    contexts = [build_contexts(tokenizer, s, template) for s in samples]
    pad = pad_token_id(tokenizer)
    with torch.no_grad():
        student = student_batch(contexts, pad)
        student_lp = gather_logprobs(response_logits(model, student), student.targets.to(_device(model)))
        teacher = teacher_batch(contexts, pad)
        teacher_lp = gather_logprobs(response_logits(model, teacher), teacher.targets.to(_device(model)))
    scores = []
    for b, sample in enumerate(samples):
        n = len(sample.response_ids)
        s_lp = student_lp[b, :n].double().tolist()
        t_lp = teacher_lp[b, :n].double().tolist()
        scores.append(
            TokenScores(
                token_ids=list(sample.response_ids),
                tokens=[tokenizer.decode([i]) for i in sample.response_ids],
                student_logprobs=s_lp,
                teacher_logprobs=t_lp,
                advantages=[t - s for t, s in zip(t_lp, s_lp)],
            )
        )
    return scores


def full_distribution_at(
    model: Any,
    tokenizer: Any,
    messages: Sequence[Mapping[str, str]],
    response_ids: Sequence[int],
    positions: int | Sequence[int],
    follow_up: str | None = None,
    template: str = DEFAULT_HINDSIGHT_TEMPLATE,
) -> Any:
    """Next-token probabilities over the whole vocabulary at response index/indices `positions`.

    Position `t` is the distribution of the token that follows `response_ids[:t]` (t = 0: the
    first response token; t = len(response_ids): what comes after the whole response). With
    `follow_up`, the hindsight teacher context is used. Returns (V,) for an int, else (P, V).
    """
    import torch

    single = isinstance(positions, int)
    wanted = [positions] if isinstance(positions, int) else list(positions)
    if any(not 0 <= t <= len(response_ids) for t in wanted):
        raise ValueError(f"positions {wanted} outside [0, {len(response_ids)}]")
    context = messages if follow_up is None else hindsight_messages(messages, follow_up, template)
    prompt = prompt_ids(tokenizer, context)
    # A dummy final token makes position len(response_ids) addressable; its own id is never read.
    sequence = prompt + list(response_ids) + [pad_token_id(tokenizer)]
    batch = response_batch([sequence], [len(prompt)], pad_token_id(tokenizer))
    with torch.no_grad():
        probs = response_logits(model, batch)[0].float().softmax(-1)
    picked = probs[torch.tensor(wanted)]
    return picked[0] if single else picked


def _base_model(model: Any) -> Any:
    # peft wraps the transformers model; LoRA layers live inside it, so its modules see them.
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def _decoder_and_head(model: Any) -> tuple[Any, Any]:
    base = _base_model(model)
    decoder, head = base.get_decoder(), base.get_output_embeddings()
    if decoder is None or head is None:
        raise TypeError(f"{type(base).__name__} exposes no decoder/output head to score with")
    return decoder, head


def _device(model: Any) -> Any:
    return next(model.parameters()).device
