"""SDPO arms: online self-distillation from each follow-up (sdpo/ does the math).

`sdpo-token` is paper 1's per-token advantage loss, `sdpo-logit` paper 2's top-K logit
distillation. Their unrelated-feedback controls (`sdpo-token+unrelated`, alias
`sdpo-unrelated`, and `sdpo-logit+unrelated`) wrap them (learners/unrelated.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import torch

from sdpo.config import SDPOConfig
from sdpo.errors import ConfigError
from sdpo.hindsight import HindsightSample, end_of_turn_id
from sdpo.updater import SDPOUpdater
from simbench.learners.base import LearnerContext, Turn, UpdateResult
from simbench.learners.frozen import FrozenLearner
from simbench.learners.handoff import AdapterFolder
from simbench.seeding import derive_seed

SIGNAL_SAMPLES = 2  # per-token advantages of this many samples per update go to signals.jsonl


def lora_learner_options(context: LearnerContext, **fixed: Any) -> tuple[dict[str, Any], int]:
    """SDPO config values from the learner options, and how many token signals to log."""
    options = dict(context.options)
    if "matmul_precision" in options:
        raise ValueError("matmul_precision is a run setting: use --precision, not a learner option")
    signal_samples = int(options.pop("signal_samples", SIGNAL_SAMPLES))
    options.setdefault("seed", context.seed)
    options["matmul_precision"] = context.matmul_path
    options.update(fixed)
    return options, signal_samples


def lora_config(context: LearnerContext, **fixed: Any) -> tuple[Any, int]:
    """The validated `SDPOConfig` of the learner options and the token-signal count; a bad
    option raises ValueError. Needs no model, so runs check options before loading one."""
    options, signal_samples = lora_learner_options(context, **fixed)
    if signal_samples < 0:
        raise ValueError(f"signal_samples must be >= 0, got {signal_samples}")
    try:
        return SDPOConfig.from_dict(options), signal_samples
    except ConfigError as exc:
        raise ValueError(str(exc)) from None


class SDPOLearner(FrozenLearner):
    """SDPO with per-token advantages (paper 1): one LoRA update per batch of follow-ups."""

    loss = "token"

    def __init__(self, context: LearnerContext) -> None:
        config, self.signal_samples = lora_config(context, loss=self.loss)
        self.updater = SDPOUpdater(context.model, context.tokenizer, config)
        self.model = self.policy = self.updater.model
        self.tokenizer = context.tokenizer
        self.seed = context.seed
        self.eot = end_of_turn_id(context.tokenizer)
        self.adapter = AdapterFolder(self.model)

    @classmethod
    def check_options(cls, context: LearnerContext) -> None:
        lora_config(context, loss=cls.loss)

    def adapter_dir(self) -> Path:
        return self.adapter.current(self.updater.steps)

    def observe(self, turns: Sequence[Turn]) -> UpdateResult | None:
        if not turns:
            return None
        samples = [
            HindsightSample(
                messages=[dict(m) for m in turn.messages],
                response_ids=list(turn.response_ids) + ([self.eot] if turn.stopped else []),
                follow_up=turn.follow_up,
            )
            for turn in turns
        ]
        torch.manual_seed(derive_seed(self.seed, "update", self.updater.steps))
        record = self.updater.step(samples)
        stats = record.to_dict()
        stats["feedback"] = "user"  # UnrelatedFeedback rewrites it for a control arm
        return UpdateResult(
            skipped=record.skipped,
            reason=record.reason,
            stats=stats,
            token_signals=self.token_signals(turns, samples, record.token_advantages()),
        )

    def token_signals(self, turns: Sequence[Turn], samples: Sequence[Any], advantages: list) -> list:
        """Per-token advantages of the first few samples, for reports' colouring."""
        out = []
        for turn, sample, values in list(zip(turns, samples, advantages))[: self.signal_samples]:
            out.append({
                "t": turn.t,
                "turn": turn.turn,
                "response": turn.response_text,
                "follow_up": sample.follow_up,
                "tokens": [self.tokenizer.decode([i]) for i in sample.response_ids],
                "advantages": [round(float(v), 5) for v in values],
            })
        return out

    def save(self, directory: Path) -> None:
        self.updater.save(directory)

    def load(self, directory: Path) -> None:
        self.updater.load(directory)


class LogitSDPOLearner(SDPOLearner):
    """SDPO with top-K logit distillation from the hindsight teacher (paper 2)."""

    loss = "logit"
