"""Student and hindsight-teacher contexts for one (messages, response, follow-up) sample.

The student sees the conversation x; the teacher sees x with the user's follow-up o folded
into the last user turn. Both score the SAME response token ids (appended, never re-tokenised),
so per-token log-probs line up one to one.
"""

from __future__ import annotations

import numbers
import string
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from sdpo.errors import ConfigError, SampleError

DEFAULT_HINDSIGHT_TEMPLATE = (
    "{prompt}\n\n[The following is a future user message. "
    "Use this to guide your answer to the user prompt.]\n{follow_up}"
)

_ROLES = ("system", "user", "assistant", "tool")


@dataclass(frozen=True)
class HindsightSample:
    """One training item: the conversation before the response, the response, the follow-up.

    `messages` are chat messages ({"role", "content"}) ending where the assistant answered;
    `response_ids` are the response's token ids exactly as generated (end-of-turn token
    included if the generation produced it); `follow_up` is the user's next message.
    `old_logprobs` (optional) are the generator's per-token log-probs of `response_ids`,
    used only by the clipped importance ratio.
    """

    messages: list[dict[str, str]]
    response_ids: list[int]
    follow_up: str
    old_logprobs: list[float] | None = None


@dataclass(frozen=True)
class HindsightContexts:
    """Token ids of both contexts of one sample; the response is the tail of each.

    `student_ids[student_prompt_len:] == teacher_ids[teacher_prompt_len:] == response_ids`.
    """

    student_ids: list[int]
    teacher_ids: list[int]
    student_prompt_len: int
    teacher_prompt_len: int
    response_ids: list[int] = field(repr=False)


@dataclass(frozen=True)
class ResponseBatch:
    """Right-padded sequences plus where each response token is predicted.

    Shapes: `input_ids`, `attention_mask`: (B, L); `positions`, `targets`, `mask`: (B, T)
    with T the longest response. `positions[b, t]` indexes the hidden state that predicts
    `targets[b, t]` (= prompt_len + t - 1); padded entries have mask 0, position 0, target 0.
    """

    input_ids: Any
    attention_mask: Any
    positions: Any
    targets: Any
    mask: Any


def validate_template(template: str, where: str = "hindsight_template") -> str:
    """Return `template` if its only fields are `{prompt}` and `{follow_up}` (both present)."""
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as err:
        raise ConfigError(where, f"not a valid format string: {err}", "escape literal braces as {{ }}") from err
    if fields != {"prompt", "follow_up"}:
        raise ConfigError(
            where,
            f"fields {sorted(fields)} in {template!r}",
            "use exactly {prompt} and {follow_up}; escape literal braces as {{ }}",
        )
    return template


def hindsight_messages(
    messages: Sequence[Mapping[str, str]],
    follow_up: str,
    template: str = DEFAULT_HINDSIGHT_TEMPLATE,
) -> list[dict[str, str]]:
    """A copy of `messages` whose LAST user turn carries the follow-up via `template`."""
    out = [dict(m) for m in messages]
    last_user = max((i for i, m in enumerate(out) if m.get("role") == "user"), default=None)
    if last_user is None:
        raise SampleError("messages", "no user turn to attach the follow-up to")
    out[last_user]["content"] = template.format(prompt=out[last_user]["content"], follow_up=follow_up)
    return out


def prompt_ids(tokenizer: Any, messages: Sequence[Mapping[str, str]]) -> list[int]:
    """Token ids of `messages` rendered by the chat template, ending with the assistant header."""
    encoded = tokenizer.apply_chat_template(list(messages), add_generation_prompt=True, tokenize=True)
    # transformers 5 returns a BatchEncoding; older versions a plain list (or a nested one).
    if isinstance(encoded, Mapping) or hasattr(encoded, "input_ids"):
        encoded = encoded["input_ids"]
    if hasattr(encoded, "tolist"):
        encoded = encoded.tolist()
    if encoded and isinstance(encoded[0], list):
        encoded = encoded[0]
    return [int(i) for i in encoded]


def build_contexts(
    tokenizer: Any,
    sample: HindsightSample,
    template: str = DEFAULT_HINDSIGHT_TEMPLATE,
) -> HindsightContexts:
    """Student context (x, y) and teacher context (x with o, y) sharing y's token ids."""
    student_prompt = prompt_ids(tokenizer, sample.messages)
    teacher_prompt = prompt_ids(tokenizer, hindsight_messages(sample.messages, sample.follow_up, template))
    response = list(sample.response_ids)
    return HindsightContexts(
        student_ids=student_prompt + response,
        teacher_ids=teacher_prompt + response,
        student_prompt_len=len(student_prompt),
        teacher_prompt_len=len(teacher_prompt),
        response_ids=response,
    )


def check_sample(sample: HindsightSample, index: int, vocab_size: int) -> None:
    """Raise `SampleError` naming the sample and field when `sample` cannot be trained on."""
    where = f"sample {index}"
    if not sample.messages:
        raise SampleError(f"{where}.messages", "empty conversation")
    for turn, message in enumerate(sample.messages):
        if message.get("role") not in _ROLES or not isinstance(message.get("content"), str):
            raise SampleError(
                f"{where}.messages[{turn}]",
                f"bad message {message!r}",
                f"need {{'role': one of {list(_ROLES)}, 'content': str}}",
            )
    if not any(m["role"] == "user" for m in sample.messages):
        raise SampleError(f"{where}.messages", "no user turn to attach the follow-up to")
    if not sample.response_ids:
        raise SampleError(f"{where}.response_ids", "empty response")
    bad = [i for i in sample.response_ids if not isinstance(i, numbers.Integral) or not 0 <= i < vocab_size]
    if bad:
        raise SampleError(f"{where}.response_ids", f"ids outside [0, {vocab_size}): {bad[:5]}")
    if not isinstance(sample.follow_up, str):
        raise SampleError(f"{where}.follow_up", f"not a string: {sample.follow_up!r}")
    if sample.old_logprobs is not None and len(sample.old_logprobs) != len(sample.response_ids):
        raise SampleError(
            f"{where}.old_logprobs",
            f"{len(sample.old_logprobs)} values for {len(sample.response_ids)} response tokens",
        )


def response_batch(sequences: Sequence[list[int]], prompt_lens: Sequence[int], pad_id: int) -> ResponseBatch:
    """Right-pad `sequences` (prompt + response each) into a `ResponseBatch` of tensors."""
    import torch

    if len(sequences) != len(prompt_lens) or not sequences:
        raise ValueError("need one prompt length per sequence and at least one sequence")
    longest = max(len(s) for s in sequences)
    longest_response = max(len(s) - p for s, p in zip(sequences, prompt_lens))
    batch = len(sequences)
    input_ids = torch.full((batch, longest), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((batch, longest), dtype=torch.long)
    positions = torch.zeros((batch, longest_response), dtype=torch.long)
    targets = torch.zeros((batch, longest_response), dtype=torch.long)
    mask = torch.zeros((batch, longest_response), dtype=torch.float32)
    for b, (seq, plen) in enumerate(zip(sequences, prompt_lens)):
        if plen < 1:
            raise ValueError("the prompt must hold at least one token to predict the response from")
        n = len(seq) - plen
        input_ids[b, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        attention_mask[b, : len(seq)] = 1
        positions[b, :n] = torch.arange(plen - 1, plen - 1 + n)
        targets[b, :n] = torch.tensor(seq[plen:], dtype=torch.long)
        mask[b, :n] = 1.0
    return ResponseBatch(input_ids, attention_mask, positions, targets, mask)


def student_batch(contexts: Sequence[HindsightContexts], pad_id: int) -> ResponseBatch:
    """The batch of student contexts (x, y)."""
    return response_batch([c.student_ids for c in contexts], [c.student_prompt_len for c in contexts], pad_id)


def teacher_batch(contexts: Sequence[HindsightContexts], pad_id: int) -> ResponseBatch:
    """The batch of hindsight teacher contexts (x with o, y)."""
    return response_batch([c.teacher_ids for c in contexts], [c.teacher_prompt_len for c in contexts], pad_id)


def end_of_turn_id(tokenizer: Any) -> int:
    """The token the chat template puts right after an assistant message (e.g. <|im_end|>).

    Found by rendering a short exchange, so models whose turn end is not their EOS token
    (Llama 3's <|eot_id|>, Gemma's <end_of_turn>) get the right one.
    """
    marker = "Marker sentence for the end of the turn."
    messages = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": marker}]
    try:
        rendered = tokenizer.apply_chat_template(messages, tokenize=False)
        tail = rendered[rendered.rindex(marker) + len(marker):]
        ids = tokenizer.encode(tail, add_special_tokens=False) if tail.strip() else []
    except (ValueError, TypeError, AttributeError):
        ids = []
    if ids:
        return int(ids[0])
    if tokenizer.eos_token_id is None:
        raise ConfigError("tokenizer", "has no end-of-turn or EOS token", "use a chat model's tokenizer")
    return int(tokenizer.eos_token_id)
