"""`sft-hindsight`: regenerate each answer with the follow-up in context, then imitate it.

The baseline SDPO is compared against: the same hindsight context, but used to produce a
new target response for plain supervised fine-tuning (LoRA), instead of per-token credit.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Sequence

import torch

from sdpo.adapters import attach_lora, load_adapter, save_adapter, trainable_parameters
from sdpo.hindsight import HindsightSample, build_contexts, end_of_turn_id, hindsight_messages, student_batch
from sdpo.precision import bf16_weight_shadows
from sdpo.scoring import gather_logprobs, pad_token_id, response_logits
from sdpo.updater import apply_step
from simbench.learners.base import LearnerContext, Turn, UpdateResult
from simbench.learners.frozen import FrozenLearner
from simbench.learners.handoff import AdapterFolder
from simbench.learners.sdpo import lora_config
from simbench.seeding import derive_seed


class SFTHindsightLearner(FrozenLearner):
    """One supervised LoRA step per batch on hindsight regenerations."""

    def __init__(self, context: LearnerContext) -> None:
        self.config, _ = lora_config(context)
        if context.regenerate is None:
            raise ValueError("sft-hindsight needs a generation backend to regenerate answers")
        self.model = self.policy = attach_lora(context.model, self.config)
        self.adapter = AdapterFolder(self.model)
        self.parameters = list(trainable_parameters(self.model).values())
        self.optimizer = torch.optim.AdamW(self.parameters, lr=self.config.lr)
        self.tokenizer = context.tokenizer
        self.regenerate = context.regenerate
        self.seed = context.seed
        self.eot = end_of_turn_id(context.tokenizer)
        self.steps = 0

    @classmethod
    def check_options(cls, context: LearnerContext) -> None:
        lora_config(context)

    def adapter_dir(self) -> Path:
        return self.adapter.current(self.steps)

    def observe(self, turns: Sequence[Turn]) -> UpdateResult | None:
        if not turns:
            return None
        started = time.perf_counter()
        template = self.config.hindsight_template
        prompts = [hindsight_messages(t.messages, t.follow_up, template) for t in turns]
        targets = self.regenerate(prompts, derive_seed(self.seed, "sft-regenerate", turns[0].t))
        samples = [
            HindsightSample(
                messages=[dict(m) for m in turn.messages],
                response_ids=list(out.token_ids) + ([self.eot] if out.finish_reason == "stop" else []),
                follow_up=turn.follow_up,
            )
            for turn, out in zip(turns, targets)
            if out.token_ids or out.finish_reason == "stop"
        ]
        if not samples:
            return UpdateResult(skipped=True, reason="empty regenerations")
        batch = student_batch([build_contexts(self.tokenizer, s, template) for s in samples],
                              pad_token_id(self.tokenizer))
        torch.manual_seed(derive_seed(self.seed, "update", self.steps))
        self.model.train()
        device = next(self.model.parameters()).device
        try:
            with bf16_weight_shadows(self.model, self.config.matmul_precision):
                logits = response_logits(self.model, batch)
                logprobs = gather_logprobs(logits, batch.targets.to(device))
                mask = batch.mask.to(device=device, dtype=logprobs.dtype)
                loss = -(logprobs * mask).sum() / mask.sum().clamp(min=1)
                self.optimizer.zero_grad(set_to_none=True)
                finite = math.isfinite(loss.item())
                if finite:
                    loss.backward()
            grad_norm, reason = apply_step(self.optimizer, self.parameters, self.config.max_grad_norm,
                                           loss_reason="" if finite else "non-finite loss")
        finally:
            self.model.eval()
        self.steps += 1
        stats = {
            "loss": loss.item() if math.isfinite(loss.item()) else None,
            "grad_norm": grad_norm if math.isfinite(grad_norm) else None,
            "tokens": int(mask.sum().item()),
            "samples": len(samples),
            "target_words": [len(out.text.split()) for out in targets],
            "seconds": time.perf_counter() - started,
        }
        return UpdateResult(skipped=bool(reason), reason=reason, stats=stats)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        save_adapter(self.model, directory / "adapter")
        torch.save({"optimizer": self.optimizer.state_dict(), "steps": self.steps},
                   directory / "optimizer.pt")

    def load(self, directory: Path) -> None:
        load_adapter(self.model, directory / "adapter")
        state = torch.load(directory / "optimizer.pt", weights_only=True)
        self.optimizer.load_state_dict(state["optimizer"])
        self.steps = int(state["steps"])
