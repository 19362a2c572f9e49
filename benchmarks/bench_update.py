"""Update-step measurements: sdpo's two-pass step vs the three-pass reference, FLOPs, matmul peak.

Both pipelines train the same LoRA-wrapped model on the same batch in one process, timed
alternately (so slow drift in machine load hits both equally); medians after a warm-up.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch
from reference_sdpo import ReferenceUpdater

from sdpo import losses
from sdpo.config import SDPOConfig
from sdpo.hindsight import HindsightSample, build_contexts, student_batch, teacher_batch
from sdpo.scoring import pad_token_id
from sdpo.updater import SDPOUpdater

# Follow-ups in the rules user's style: they say what to do, like the ones measured in
# docs/LOG.md (2026-11-26).
FOLLOW_UPS = (
    "Too long. Give me the gist in one or two sentences.",
    "Shorter please: just the answer, no preamble.",
    "That was a lot to read. One sentence next time.",
    "Can you cut it down to the essentials?",
)
FILLER = (
    "Here is a detailed answer that covers the background, the main steps and a few caveats "
    "worth keeping in mind, followed by an example and a short summary of the key points. "
)


@dataclass(frozen=True)
class Timings:
    """Seconds of repeated runs of one thing (warm-up excluded)."""

    seconds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def low(self) -> float:
        return min(self.seconds)

    @property
    def high(self) -> float:
        return max(self.seconds)


@dataclass(frozen=True)
class BatchShape:
    """Padded sizes the forward passes of one update batch actually compute."""

    batch: int
    student_len: int
    teacher_len: int
    response_len: int
    response_tokens: int


@dataclass
class UpdateComparison:
    """Everything the update-step section of RESULTS.md reports."""

    shape: BatchShape
    sdpo: Timings
    reference: Timings
    sdpo_flops: float
    reference_flops: float
    sdpo_executed: float
    reference_executed: float
    sdpo_loss: float
    reference_loss: float
    teacher_pass: Timings
    student_pass: Timings
    kl_diagnostic: Timings

    @property
    def ratio(self) -> float:
        return self.reference.median / self.sdpo.median


def synthetic_samples(tokenizer: Any, prompts: Sequence[str], batch: int, response_tokens: int) -> list[HindsightSample]:
    """`batch` samples: real prompts, `response_tokens`-token responses, rules-style follow-ups."""
    filler = tokenizer.encode(FILLER, add_special_tokens=False)
    response = (filler * (response_tokens // len(filler) + 1))[:response_tokens]
    return [
        HindsightSample(
            messages=[{"role": "user", "content": prompts[i % len(prompts)]}],
            response_ids=list(response),
            follow_up=FOLLOW_UPS[i % len(FOLLOW_UPS)],
        )
        for i in range(batch)
    ]


def batch_shape(tokenizer: Any, samples: Sequence[HindsightSample], template: str) -> BatchShape:
    pad = pad_token_id(tokenizer)
    contexts = [build_contexts(tokenizer, s, template) for s in samples]
    student, teacher = student_batch(contexts, pad), teacher_batch(contexts, pad)
    return BatchShape(
        batch=len(samples),
        student_len=student.input_ids.shape[1],
        teacher_len=teacher.input_ids.shape[1],
        response_len=student.targets.shape[1],
        response_tokens=int(student.mask.sum()),
    )


def forward_flops(model: Any, batch: int, length: int, head_positions: int) -> float:
    """FLOPs of one forward over a (batch, length) padded input with the head at `head_positions`.

    2·P_lin·B·L (every linear weight inside the decoder, LoRA included: one multiply-add per
    weight per token) + 4·n_layers·d_attn·B·L² (QKᵀ and AV, unmasked as CPU SDPA computes them)
    + 2·H·V·head_positions (output head). Embedding lookups and norms are not counted.
    """
    config = model.config if not hasattr(model, "get_base_model") else model.get_base_model().config
    head = model.get_output_embeddings()
    linear = sum(
        m.weight.numel()
        for m in model.modules()
        if isinstance(m, torch.nn.Linear) and m is not head
    )
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    d_attn = config.num_attention_heads * head_dim
    tokens = batch * length
    return (
        2.0 * linear * tokens
        + 4.0 * config.num_hidden_layers * d_attn * batch * length**2
        + 2.0 * config.hidden_size * config.vocab_size * head_positions
    )


def step_flops(model: Any, shape: BatchShape, reference: bool, backward: float = 2.0) -> float:
    """FLOPs of one update step with the backward counted as `backward` × the student forward.

    backward=2 is the usual model-FLOPs convention; backward=1 is what a LoRA step executes
    (input gradients only: the frozen base weights get no weight gradients).
    sdpo: teacher fwd + student fwd + backward, head at response positions only.
    reference: student fwd (old log-probs) + teacher fwd + student fwd + backward, head at all positions.
    """
    b, ls, lt, t = shape.batch, shape.student_len, shape.teacher_len, shape.response_len
    if reference:
        student = forward_flops(model, b, ls, b * ls)
        return student + forward_flops(model, b, lt, b * lt) + (1.0 + backward) * student
    student = forward_flops(model, b, ls, b * t)
    return forward_flops(model, b, lt, b * t) + (1.0 + backward) * student


def matmul_peak(size: int, repeats: int, dtype: Any = torch.float32) -> tuple[float, Timings]:
    """GFLOP/s of torch.matmul on (size × size) matrices at the current thread count (median)."""
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=generator, dtype=dtype)
    b = torch.randn(size, size, generator=generator, dtype=dtype)
    torch.matmul(a, b)  # warm-up: allocator, kernel selection
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        torch.matmul(a, b)
        times.append(time.perf_counter() - started)
    timings = Timings(times)
    return 2.0 * size**3 / timings.median / 1e9, timings


def _lora_snapshot(model: Any) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def _lora_restore(model: Any, snapshot: dict[str, torch.Tensor]) -> None:
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name in snapshot:
                param.copy_(snapshot[name])


class TimedTeacher:
    """Delegates to an sdpo teacher and records the wall time of each `logits` pass."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seconds: list[float] = []

    def logits(self, model: Any, batch: Any) -> Any:
        started = time.perf_counter()
        out = self.inner.logits(model, batch)
        self.seconds.append(time.perf_counter() - started)
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def compare_updates(
    model: Any,
    tokenizer: Any,
    samples: Sequence[HindsightSample],
    repeats: int,
    config: SDPOConfig | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> UpdateComparison:
    """Time `repeats` sdpo steps and reference steps on `samples` after one warm-up of each,
    alternating. The LoRA weights are restored after every step, so each step starts from the
    same weights: the warm-up's two losses are the equality check the caller asserts on.
    """
    config = config or SDPOConfig()
    updater = SDPOUpdater(model, tokenizer, config)
    teacher = updater.teacher = TimedTeacher(updater.teacher)
    reference = ReferenceUpdater(
        updater.model, tokenizer, lr=config.lr, max_grad_norm=config.max_grad_norm,
        template=config.hindsight_template, centre=config.centre_advantages,
    )
    snapshot = _lora_snapshot(updater.model)
    sdpo_times, ref_times, teacher_times, losses = [], [], [], (float("nan"), float("nan"))
    for index in range(repeats + 1):  # index 0 is the warm-up
        first = updater.step(samples)
        _lora_restore(updater.model, snapshot)
        second = reference.step(samples)
        _lora_restore(updater.model, snapshot)
        if index:
            sdpo_times.append(first.seconds)
            ref_times.append(second.seconds)
            teacher_times.append(teacher.seconds[-1])
        else:
            losses = (first.loss, second.loss)
        progress(f"update step {index}/{repeats}: sdpo {first.seconds:.2f}s, reference {second.seconds:.2f}s")

    shape = batch_shape(tokenizer, samples, config.hindsight_template)
    vocab = updater.model.get_output_embeddings().weight.shape[0]
    return UpdateComparison(
        shape=shape,
        sdpo=Timings(sdpo_times),
        reference=Timings(ref_times),
        sdpo_flops=step_flops(updater.model, shape, reference=False),
        reference_flops=step_flops(updater.model, shape, reference=True),
        sdpo_executed=step_flops(updater.model, shape, reference=False, backward=1.0),
        reference_executed=step_flops(updater.model, shape, reference=True, backward=1.0),
        sdpo_loss=losses[0],
        reference_loss=losses[1],
        teacher_pass=Timings(teacher_times),
        student_pass=Timings([step - t for step, t in zip(sdpo_times, teacher_times)]),
        kl_diagnostic=kl_timings(shape, vocab, repeats),
    )


def kl_timings(shape: BatchShape, vocab: int, repeats: int) -> Timings:
    """Seconds of the full-vocabulary KL(student ‖ teacher) that `SDPOUpdater` logs every step
    (a diagnostic the reference does not compute), on (B, T, V) logits of the batch's shape."""
    generator = torch.Generator().manual_seed(0)
    student = torch.randn(shape.batch, shape.response_len, vocab, generator=generator)
    teacher = torch.randn(shape.batch, shape.response_len, vocab, generator=generator)
    times = []
    for index in range(repeats + 1):
        started = time.perf_counter()
        losses.full_kl(student, teacher).sum().item()
        if index:
            times.append(time.perf_counter() - started)
    return Timings(times)
