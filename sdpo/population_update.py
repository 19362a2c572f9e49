"""`PopulationUpdater`: `SDPOUpdater.step` for many members at once, on one `StackedLoRA`.

Per micro-batch index: ONE no-grad teacher forward over every member's hindsight contexts
(trust-region members add base rows, slot -1), ONE student forward with grad over every
member's samples, each member's loss computed by the same `sdpo.losses` functions on its own
rows, the losses summed, ONE backward. A row's output depends on its own slot only, so each
slice's gradient is its member's gradient. Then per member: clipping over its slice, an
AdamW step with its own state and lr, its counters and its `UpdateRecord` — equal to what
a single `SDPOUpdater` with that member's config would do, whoever else is in the call.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch

from sdpo import __version__, losses
from sdpo.adamw import AdamWState
from sdpo.adapters import ADAPTER_WEIGHTS
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
from sdpo.multi_lora import BASE, StackedLoRA
from sdpo.precision import bf16_weight_shadows
from sdpo.precision_choice import PrecisionUnavailable, resolve
from sdpo.scoring import gather_targets, pad_token_id, response_logits, sampled_logprobs
from sdpo.updater import CHECKPOINT_FORMAT, UpdateRecord, checkpoint_state, replace_folder, update_record

TEACHERS = ("live", "trust_region")
"""Teachers a population can batch: both read the member's current slot (trust_region also
the base weights); an EMA teacher would need a second stacked copy per member."""


@dataclass
class _Member:
    slot: int
    config: SDPOConfig
    optimizer: AdamWState
    steps: int = 0
    applied_steps: int = 0


@dataclass
class _Plan:
    """One member's share of a `step` call: its samples, contexts and running totals."""

    member: _Member
    samples: Sequence[HindsightSample]
    contexts: list[HindsightContexts]
    bounds: list[int]
    with_kl: bool
    tokens: int
    loss: float = 0.0
    kl: float = 0.0
    reason: str = ""
    advantages: list[list[float]] = field(default_factory=list)


class PopulationUpdater:
    """Trains the slots of `stacked` (injected into `model`) per member; see module docstring."""

    def __init__(self, model: Any, tokenizer: Any, stacked: StackedLoRA, rows_per_pass: int | None = None) -> None:
        cap_ok = rows_per_pass is None or (type(rows_per_pass) is int and rows_per_pass >= 1)
        if not cap_ok:
            raise ValueError(f"rows_per_pass must be an integer >= 1 or None, got {rows_per_pass!r}")
        self.rows_per_pass = rows_per_pass
        """At most this many samples per forward/backward (whole members per pass, at least one);
        None: every member's micro-batch in one pass. Bounds memory: the passes keep (B, T, V)
        logits of every row they hold. Results are the same either way."""
        self.model = model
        self.tokenizer = tokenizer
        self.stacked = stacked
        self.parameters = stacked.parameters()
        self.members: dict[int, _Member] = {}
        self.matmul_path: str | None = None
        """The matmul path every update pass uses, set by the first member added."""
        self._vocab = model.get_output_embeddings().weight.shape[0]
        self.model.eval()

    def add_member(self, slot: int, config: SDPOConfig) -> None:
        """Give `slot` its own optimizer state and counters; `config` is the member's single-run
        config. The slot's weights are left as they are (see `StackedLoRA.init_slot`)."""
        self.stacked.check_slot(slot)
        if slot in self.members:
            raise ValueError(f"slot {slot} already has a member")
        self.stacked.check_config(config)
        if config.teacher not in TEACHERS:
            raise ConfigError(
                "teacher", f"{config.teacher!r} cannot run in a population", f"use one of {', '.join(TEACHERS)}"
            )
        if config.lora_dropout != 0.0:
            raise ConfigError("lora_dropout", f"bad value {config.lora_dropout!r}", "a population needs 0")
        device = str(self.parameters[0].device)
        try:
            path = resolve(config.matmul_precision, device).path
        except PrecisionUnavailable as error:
            raise ConfigError("matmul_precision", str(error), "use fp32 or auto") from None
        if self.matmul_path not in (None, path):
            raise ConfigError(
                "matmul_precision",
                f"{config.matmul_precision!r} runs {path} here, other members run {self.matmul_path}",
                "give every member of a population the same matmul_precision",
            )
        self.matmul_path = path
        self.members[slot] = _Member(slot, config, AdamWState(lr=config.lr, weight_decay=config.weight_decay))

    def steps(self, slot: int) -> int:
        """Updates attempted by `slot`'s member (skipped ones included), as `SDPOUpdater.steps`."""
        return self._member(slot).steps

    def applied_steps(self, slot: int) -> int:
        """Updates applied to `slot`'s weights, as `SDPOUpdater.applied_steps`."""
        return self._member(slot).applied_steps

    def step(self, batches: Mapping[int, Sequence[HindsightSample]]) -> dict[int, UpdateRecord]:
        """One update per member in `batches` (slot -> its batch); returns slot -> record."""
        started = time.perf_counter()
        plans = [self._plan(self._member(slot), batch) for slot, batch in batches.items()]
        for param in self.parameters:
            param.grad = None
        chunks = max((len(plan.bounds) - 1 for plan in plans), default=0)
        for index in range(chunks):
            live = [plan for plan in plans if index < len(plan.bounds) - 1 and not plan.reason]
            for group in _passes(live, index, self.rows_per_pass):
                with bf16_weight_shadows(self.model, self.matmul_path or "fp32"):
                    self._micro_step(group, index)
        records = {}
        for plan in plans:
            member, cfg = plan.member, plan.member.config
            grad_norm, reason = self._apply(member, plan.reason)
            records[member.slot] = update_record(
                step=member.steps,
                reason=reason,
                loss=plan.loss,
                kl=plan.kl / max(plan.tokens, 1) if plan.with_kl else float("nan"),
                grad_norm=grad_norm,
                advantages=plan.advantages,
                samples=len(plan.samples),
                seconds=time.perf_counter() - started,
                config=cfg,
            )
            member.steps += 1
        for param in self.parameters:
            param.grad = None
        return records

    def _plan(self, member: _Member, batch: Sequence[HindsightSample]) -> _Plan:
        if not batch:
            raise ValueError(f"slot {member.slot}: step() needs at least one sample")
        for index, sample in enumerate(batch):
            check_sample(sample, index, self._vocab)
        cfg = member.config
        parts = min(cfg.grad_accum, len(batch))
        return _Plan(
            member=member,
            samples=batch,
            contexts=[build_contexts(self.tokenizer, s, cfg.hindsight_template) for s in batch],
            bounds=[round(i * len(batch) / parts) for i in range(parts + 1)],
            with_kl=member.steps % cfg.kl_every == 0,
            tokens=sum(len(s.response_ids) for s in batch),
        )

    def _micro_step(self, plans: Sequence[_Plan], index: int) -> None:
        """Micro-batch `index` of every plan: one teacher pass, one student pass, one backward."""
        pad = pad_token_id(self.tokenizer)
        spans: list[Any] = []
        contexts: list[Any] = []
        slots: list[int] = []
        for plan in plans:
            lo, hi = plan.bounds[index], plan.bounds[index + 1]
            spans.append((plan, len(contexts), len(contexts) + hi - lo, lo, hi))
            contexts.extend(plan.contexts[lo:hi])
            slots.extend([plan.member.slot] * (hi - lo))
        # Trust-region members also need the base model on their hindsight contexts: extra
        # rows with slot -1 after all the others, in the same teacher pass.
        base_contexts = [
            context
            for plan, _, _, lo, hi in spans
            if plan.member.config.teacher == "trust_region"
            for context in plan.contexts[lo:hi]
        ]
        with torch.no_grad(), self.stacked.rows(slots + [BASE] * len(base_contexts)):
            teacher_all = response_logits(self.model, teacher_batch(contexts + base_contexts, pad))
        student = student_batch(contexts, pad)
        self.model.train()
        try:
            with self.stacked.rows(slots):
                student_all = response_logits(self.model, student)
        finally:
            self.model.eval()
        device = student_all.device
        targets_all, mask_all = student.targets.to(device), student.mask.to(device)

        total, base_at = None, len(contexts)
        for plan, start, stop, lo, hi in spans:
            cfg = plan.member.config
            # The member's rows as wide as its own longest response: the shapes its single run has.
            width = max(len(c.response_ids) for c in plan.contexts[lo:hi])
            teacher_logits = teacher_all[start:stop, :width]
            if cfg.teacher == "trust_region":
                base = teacher_all[base_at : base_at + stop - start, :width]
                base_at += stop - start
                teacher_logits = torch.lerp(base, teacher_logits, float(cfg.trust_region_mix))
            loss, value, kl_sum, advantages = self._member_loss(
                plan,
                plan.samples[lo:hi],
                student_all[start:stop, :width],
                teacher_logits,
                targets_all[start:stop, :width],
                mask_all[start:stop, :width],
            )
            plan.advantages.extend(advantages)
            plan.loss += value
            plan.kl += kl_sum
            if math.isfinite(value):
                total = loss if total is None else total + loss
            else:
                plan.reason = "non-finite loss"
        if total is not None:
            total.backward()

    def _member_loss(
        self,
        plan: _Plan,
        samples: Sequence[HindsightSample],
        student_logits: torch.Tensor,
        teacher_logits: torch.Tensor,
        targets: torch.Tensor,
        mask: torch.Tensor,
    ) -> tuple[torch.Tensor, float, float, list[list[float]]]:
        """SDPOUpdater._micro_step's loss on one member's rows: (loss, its value, summed KL,
        raw advantages per sample)."""
        cfg, normaliser = plan.member.config, float(plan.tokens)
        if plan.with_kl:
            student_log, teacher_log = student_logits.log_softmax(-1), teacher_logits.log_softmax(-1)
            student_lp, teacher_lp = gather_targets(student_log, targets), gather_targets(teacher_log, targets)
        else:
            student_lp = sampled_logprobs(student_logits, targets)
            teacher_lp = sampled_logprobs(teacher_logits, targets)
        raw = losses.token_advantages(teacher_lp, student_lp, mask)
        weights = _importance_weights(samples, student_lp, mask, cfg.is_clip) if cfg.is_clip is not None else None
        loss = losses.configured_loss(cfg, student_logits, teacher_logits, student_lp, teacher_lp, raw, mask,
                                      normaliser, weights)
        kl_sum = float((losses.kl_from_logprobs(student_log, teacher_log) * mask).sum()) if plan.with_kl else 0.0
        lengths = [len(s.response_ids) for s in samples]
        return loss, float(loss.detach()), kl_sum, [raw[b, :n].tolist() for b, n in enumerate(lengths)]

    def _apply(self, member: _Member, reason: str) -> tuple[float, str]:
        """`sdpo.updater.apply_step` on the member's slices: clip over its slice only, skip a
        non-finite norm, else one AdamW update with its own state."""
        grad_norm = float("nan")
        if reason:
            return grad_norm, reason
        slices = [param.detach()[member.slot] for param in self.parameters]
        grads = [param.grad[member.slot] for param in self.parameters]
        norm = torch.nn.utils.get_total_norm(grads, 2.0)
        grad_norm = float(norm)
        if not math.isfinite(grad_norm):
            return grad_norm, "non-finite gradient"
        limit = member.config.max_grad_norm if member.config.max_grad_norm is not None else float("inf")
        coef = torch.clamp(limit / (norm + 1e-6), max=1.0)  # clip_grad_norm_'s own formula
        for grad in grads:
            grad.mul_(coef)
        member.optimizer.update(slices, grads)
        member.applied_steps += 1
        return grad_norm, ""

    def save(self, slot: int, directory: str | Path) -> None:
        """Write `slot`'s member as `SDPOUpdater.save` does (same layout, atomically), so a
        single run can load it and go on."""
        member = self._member(slot)
        target = Path(directory)
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
        try:
            self.stacked.save_slot(slot, scratch / "adapter")
            torch.save(member.optimizer.state_dict(len(self.parameters)), scratch / "optimizer.pt")
            torch.save({}, scratch / "teacher.pt")  # live and trust-region teachers keep no state
            state = {
                "format": CHECKPOINT_FORMAT,
                "sdpo_version": __version__,
                "steps": member.steps,
                "applied_steps": member.applied_steps,
                "config": member.config.to_dict(),
            }
            (scratch / "state.json").write_text(json.dumps(state, indent=2) + "\n")
            umask_modes(scratch)
            replace_folder(scratch, target)
        finally:
            if scratch.exists():
                shutil.rmtree(scratch, ignore_errors=True)

    def load(self, slot: int, directory: str | Path) -> None:
        """Restore `slot`'s member from a checkpoint written by `save` or `SDPOUpdater.save`."""
        from safetensors.torch import load_file

        member = self._member(slot)
        source = Path(directory)
        state = checkpoint_state(source, member.config, "this member", "add the member with the checkpoint's config")
        weights = source / "adapter" / ADAPTER_WEIGHTS
        if not weights.is_file():
            raise CheckpointError(str(source / "adapter"), f"no {ADAPTER_WEIGHTS}")
        saved = torch.load(source / "optimizer.pt", map_location="cpu", weights_only=True)
        slices = [param.detach()[slot] for param in self.parameters]
        try:
            optimizer = AdamWState.from_state_dict(saved, slices)
        except (KeyError, ValueError) as err:
            raise CheckpointError(str(source / "optimizer.pt"), str(err)) from err
        self.stacked.load_slot(slot, load_file(str(weights)))
        member.optimizer = optimizer
        member.steps = int(state["steps"])
        member.applied_steps = int(state["applied_steps"])

    def _member(self, slot: int) -> _Member:
        try:
            return self.members[slot]
        except KeyError:
            raise ValueError(f"slot {slot} has no member; call add_member first") from None


def _passes(plans: Sequence[_Plan], index: int, limit: int | None) -> list[list[_Plan]]:
    """`plans` in order, grouped so each group's micro-batch `index` holds at most `limit` rows
    (a member larger than `limit` gets a pass of its own)."""
    groups: list[list[_Plan]] = []
    rows = 0
    for plan in plans:
        size = plan.bounds[index + 1] - plan.bounds[index]
        if not groups or (limit is not None and rows + size > limit):
            groups.append([])
            rows = 0
        groups[-1].append(plan)
        rows += size
    return groups


def _importance_weights(
    samples: Sequence[HindsightSample], student_lp: torch.Tensor, mask: torch.Tensor, clip: float
) -> torch.Tensor:
    # As SDPOUpdater: samples without generator log-probs use the student's own (ratio 1).
    old = student_lp.detach().clone()
    for b, sample in enumerate(samples):
        if sample.old_logprobs is not None:
            n = len(sample.old_logprobs)
            old[b, :n] = torch.tensor(sample.old_logprobs, dtype=old.dtype, device=old.device)
    return losses.importance_weights(student_lp, old, float(clip)) * mask
