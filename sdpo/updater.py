"""`SDPOUpdater`: one SDPO update per batch of (messages, response, follow-up) samples.

Per micro-batch: ONE batched no-grad teacher forward on the hindsight contexts, ONE student
forward with grad on the plain contexts, one backward. The student's own detached log-probs
serve as the "old" log-probs, so the official code's third (x, no-grad) pass is not needed.
Non-finite losses or gradients skip the step and are recorded, never applied.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch

from sdpo import __version__, losses
from sdpo.adapters import attach_lora, load_adapter, save_adapter, trainable_parameters
from sdpo.config import SDPOConfig
from sdpo.errors import CheckpointError, ConfigError
from sdpo.files import umask_modes
from sdpo.hindsight import (
    HindsightContexts,
    HindsightSample,
    build_contexts,
    check_sample,
    student_batch,
    teacher_batch,
)
from sdpo.precision import bf16_weight_shadows
from sdpo.precision_choice import PrecisionUnavailable, resolve
from sdpo.scoring import gather_targets, pad_token_id, response_logits, sampled_logprobs
from sdpo.teacher import make_teacher

CHECKPOINT_FORMAT = 1
# Config fields that shape the adapter or teacher state; a checkpoint must agree on them.
STRUCTURAL = ("lora_r", "lora_alpha", "target_modules", "teacher")


@dataclass
class UpdateRecord:
    """What one `step` did. `to_dict()` is the compact JSON form; per-token advantages are
    available through `token_advantages()` only (they can be large)."""

    step: int
    skipped: bool
    reason: str
    loss: float
    advantage_mean: float
    advantage_min: float
    advantage_max: float
    negative_share: float
    kl: float
    grad_norm: float
    tokens: int
    samples: int
    seconds: float
    loss_kind: str
    teacher: str
    centred: bool
    advantages: list[list[float]] = field(default_factory=list, repr=False)

    def token_advantages(self) -> list[list[float]]:
        """Per-sample, per-response-token A_t = teacher − student log-prob (before centring)."""
        return self.advantages

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (non-finite numbers become None), without per-token values."""
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            if key == "advantages":
                continue
            if isinstance(value, float) and not math.isfinite(value):
                value = None
            out[key] = value
        return out


class SDPOUpdater:
    """Trains LoRA adapters on `model` from hindsight samples; see module docstring.

    `model` is wrapped with LoRA (`self.model`); peft injects the adapters into the original
    modules, so generation with the original object also uses the trained adapters.
    """

    def __init__(self, model: Any, tokenizer: Any, config: SDPOConfig | None = None) -> None:
        self.config = config or SDPOConfig()
        self.tokenizer = tokenizer
        self.model = attach_lora(model, self.config)
        self.model.eval()
        self.parameters = trainable_parameters(self.model)
        self.optimizer = torch.optim.AdamW(
            list(self.parameters.values()), lr=self.config.lr, weight_decay=self.config.weight_decay
        )
        self.teacher = make_teacher(self.model, self.config)
        self.steps = 0
        self.applied_steps = 0
        self._vocab = self.model.get_output_embeddings().weight.shape[0]
        device = str(next(self.model.parameters()).device)
        try:
            choice = resolve(self.config.matmul_precision, device)
        except PrecisionUnavailable as error:
            raise ConfigError("matmul_precision", str(error), "use fp32 or auto") from None
        self.matmul_path = choice.path
        """The matmul path the update passes use ("fp32" or "bf16", `matmul_precision` resolved)."""
        self.matmul_reason = choice.reason
        """Why that path (asked for, or what the start-up measurement showed)."""

    def step(self, batch: Sequence[HindsightSample]) -> UpdateRecord:
        """One optimizer update from `batch` (split into `grad_accum` micro-batches)."""
        started = time.perf_counter()
        if not batch:
            raise ValueError("step() needs at least one sample")
        for index, sample in enumerate(batch):
            check_sample(sample, index, self._vocab)
        cfg = self.config
        contexts = [build_contexts(self.tokenizer, s, cfg.hindsight_template) for s in batch]
        total_tokens = sum(len(s.response_ids) for s in batch)
        normaliser = float(total_tokens)
        parts = min(cfg.grad_accum, len(batch))
        bounds = [round(i * len(batch) / parts) for i in range(parts + 1)]

        self.optimizer.zero_grad(set_to_none=True)
        loss_total, kl_total, advantages = 0.0, 0.0, []
        with_kl = self.steps % cfg.kl_every == 0
        reason = ""
        # One set of bf16 weight copies serves every micro-batch's teacher and student passes:
        # the frozen weights do not change within a step.
        with bf16_weight_shadows(self.model, self.matmul_path):
            for lo, hi in zip(bounds, bounds[1:]):
                loss, kl_sum, chunk_adv = self._micro_step(batch[lo:hi], contexts[lo:hi], normaliser, with_kl)
                advantages.extend(chunk_adv)
                loss_total += loss
                kl_total += kl_sum
                if not math.isfinite(loss):
                    reason = "non-finite loss"
                    break

        grad_norm, reason = apply_step(
            self.optimizer, list(self.parameters.values()), cfg.max_grad_norm, loss_reason=reason
        )
        if not reason:
            self.teacher.after_step(self.model)
            self.applied_steps += 1

        record = update_record(
            step=self.steps,
            reason=reason,
            loss=loss_total,
            kl=kl_total / max(total_tokens, 1) if with_kl else float("nan"),
            grad_norm=grad_norm,
            advantages=advantages,
            samples=len(batch),
            seconds=time.perf_counter() - started,
            config=cfg,
        )
        self.steps += 1
        return record

    def _micro_step(
        self,
        samples: Sequence[HindsightSample],
        contexts: Sequence[HindsightContexts],
        normaliser: float,
        with_kl: bool = True,
    ) -> tuple[float, float, list[list[float]]]:
        """Teacher pass, student pass, loss, backward (unless non-finite). Returns (this
        micro-batch's share of the loss, summed per-token KL (0 unless `with_kl`), raw
        advantages per sample)."""
        cfg = self.config
        pad = pad_token_id(self.tokenizer)
        teacher_logits = self.teacher.logits(self.model, teacher_batch(contexts, pad))
        student = student_batch(contexts, pad)
        device = teacher_logits.device
        targets, mask = student.targets.to(device), student.mask.to(device)

        self.model.train()
        try:
            student_logits = response_logits(self.model, student)
        finally:
            self.model.eval()
        if with_kl:  # one log-softmax per side serves the sampled-token log-probs and the KL
            student_log, teacher_log = student_logits.log_softmax(-1), teacher_logits.log_softmax(-1)
            student_lp, teacher_lp = gather_targets(student_log, targets), gather_targets(teacher_log, targets)
        else:  # no (B, T, V) log-softmax written: logit of the target minus logsumexp
            student_lp, teacher_lp = sampled_logprobs(student_logits, targets), sampled_logprobs(teacher_logits, targets)
        raw = losses.token_advantages(teacher_lp, student_lp, mask)
        weights = self._importance_weights(samples, student_lp, mask) if cfg.is_clip is not None else None

        loss = losses.configured_loss(cfg, student_logits, teacher_logits, student_lp, teacher_lp, raw, mask,
                                      normaliser, weights)

        kl_sum = float((losses.kl_from_logprobs(student_log, teacher_log) * mask).sum()) if with_kl else 0.0
        value = float(loss.detach())
        if math.isfinite(value):
            loss.backward()
        lengths = [len(s.response_ids) for s in samples]
        return value, kl_sum, [raw[b, :n].tolist() for b, n in enumerate(lengths)]

    def _importance_weights(
        self, samples: Sequence[HindsightSample], student_lp: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        # Samples without generator log-probs use the student's own (ratio exactly 1).
        old = student_lp.detach().clone()
        for b, sample in enumerate(samples):
            if sample.old_logprobs is not None:
                n = len(sample.old_logprobs)
                old[b, :n] = torch.tensor(sample.old_logprobs, dtype=old.dtype, device=old.device)
        return losses.importance_weights(student_lp, old, float(self.config.is_clip)) * mask

    def save(self, folder: str | Path) -> None:
        """Write adapter, optimizer, teacher state and counters to `folder`, atomically
        (a crash leaves either the previous checkpoint or the new one, never a mix)."""
        target = Path(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
        try:
            save_adapter(self.model, scratch / "adapter")
            torch.save(self.optimizer.state_dict(), scratch / "optimizer.pt")
            torch.save(self.teacher.state_dict(), scratch / "teacher.pt")
            state = {
                "format": CHECKPOINT_FORMAT,
                "sdpo_version": __version__,
                "steps": self.steps,
                "applied_steps": self.applied_steps,
                "config": self.config.to_dict(),
            }
            (scratch / "state.json").write_text(json.dumps(state, indent=2) + "\n")
            umask_modes(scratch)  # mkdtemp's 0700 (and safetensors' 0600) would hide it from others
            replace_folder(scratch, target)
        finally:
            if scratch.exists():
                shutil.rmtree(scratch, ignore_errors=True)

    def load(self, folder: str | Path) -> None:
        """Restore a checkpoint written by `save` into this updater (same LoRA shape/teacher)."""
        source = Path(folder)
        state = checkpoint_state(source, self.config, "this updater", "build the updater with the checkpoint's config")
        load_adapter(self.model, source / "adapter")
        # map to CPU: a GPU checkpoint must load anywhere; both loaders move state to the params' device.
        self.optimizer.load_state_dict(torch.load(source / "optimizer.pt", map_location="cpu", weights_only=True))
        self.teacher.load_state_dict(torch.load(source / "teacher.pt", map_location="cpu", weights_only=True))
        self.steps = int(state["steps"])
        self.applied_steps = int(state["applied_steps"])


def apply_step(
    optimizer: Any, parameters: Sequence[Any], max_grad_norm: float | None, loss_reason: str = ""
) -> tuple[float, str]:
    """Clip the accumulated gradients and step, or skip a step that would corrupt the weights.

    `loss_reason` non-empty (e.g. "non-finite loss", no backward was run) skips at once; a
    non-finite gradient norm skips too. Gradients are cleared either way. Returns
    (grad_norm, reason), reason "" when the step was applied. Shared by every learner that
    owns an optimizer, so all of them skip bad steps the same way.
    """
    grad_norm, reason = float("nan"), loss_reason
    if not reason:
        limit = max_grad_norm if max_grad_norm is not None else float("inf")
        grad_norm = float(torch.nn.utils.clip_grad_norm_(list(parameters), limit))
        if not math.isfinite(grad_norm):
            reason = "non-finite gradient"
    if not reason:
        optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return grad_norm, reason


def checkpoint_state(source: Path, config: SDPOConfig, owner: str, hint: str) -> dict[str, Any]:
    """The state.json of checkpoint folder `source`, checked: a known format, and the fields that
    shape the adapter or teacher (STRUCTURAL) equal to `config`'s (`owner` names who loads it)."""
    state_file = source / "state.json"
    if not state_file.is_file():
        raise CheckpointError(str(source), "no state.json: not an SDPO updater checkpoint")
    state = json.loads(state_file.read_text())
    if state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(str(state_file), f"unsupported format {state.get('format')!r}")
    mine = config.to_dict()
    for key in STRUCTURAL:
        if state["config"].get(key) != mine[key]:
            raise CheckpointError(
                str(state_file), f"{key}={state['config'].get(key)!r} but {owner} has {key}={mine[key]!r}", hint
            )
    return state


def update_record(
    *,
    step: int,
    reason: str,
    loss: float,
    kl: float,
    grad_norm: float,
    advantages: list[list[float]],
    samples: int,
    seconds: float,
    config: SDPOConfig,
) -> UpdateRecord:
    flat = [a for row in advantages for a in row]
    finite = [a for a in flat if math.isfinite(a)]
    return UpdateRecord(
        step=step,
        skipped=bool(reason),
        reason=reason,
        loss=loss,
        advantage_mean=sum(finite) / len(finite) if finite else float("nan"),
        advantage_min=min(finite, default=float("nan")),
        advantage_max=max(finite, default=float("nan")),
        negative_share=sum(a < 0 for a in finite) / len(finite) if finite else float("nan"),
        kl=kl,
        grad_norm=grad_norm,
        tokens=len(flat),
        samples=samples,
        seconds=seconds,
        loss_kind=config.loss,
        teacher=config.teacher,
        centred=config.centre_advantages,
        advantages=advantages,
    )


def replace_folder(new: Path, target: Path) -> None:
    # os.rename cannot replace a non-empty folder: move the old one aside first (a symbolic
    # link there is moved aside itself, never followed).
    if os.path.lexists(target):
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.rename(target, old / "checkpoint")
        os.rename(new, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(new, target)
