"""The peer a user would pick: TRL's `SDPOTrainer.training_step` on the same batch and weights.

TRL (optional `bench` extra, `pip install -e ".[bench]"`) is built as SDPO runs in simbench: a
live teacher (current weights, feedback in context), sampled-token loss, LoRA r=8 on
q,k,v,o, no gradient checkpointing (its CPU default would recompute the forward, which only
makes it slower), generation replaced by the same fixed completions simbench trains on, and
the user's follow-up given as TRL's `privileged_context` (the environment feedback) and joined
to the prompt by simbench's hindsight template. TRL left-pads without position ids, so its
loss equals simbench's only when every prompt and follow-up has the same length; peers.py
uses one prompt and one follow-up for the whole batch. One timed
step = `training_step` (teacher context, teacher pass, student pass, loss, backward) +
gradient clipping + the optimizer step, which is what one `SDPOUpdater.step` does.
`bf16=True` is TRL's own CPU mixed precision: the step runs under its accelerator's autocast,
as `Trainer.train` would run it.
"""

from __future__ import annotations

import tempfile
from contextlib import nullcontext
from typing import Any, Sequence

import torch
from bench_update import _lora_restore, _lora_snapshot

from sdpo.hindsight import DEFAULT_HINDSIGHT_TEMPLATE, HindsightSample


def available() -> bool:
    """Whether TRL with its SDPO trainer is installed (the `bench` extra)."""
    try:
        from trl.experimental.sdpo import SDPOTrainer  # noqa: F401
    except ImportError:
        return False
    return True


class TRLStep:
    """TRL's SDPO training step on `samples` (one prompt group per distinct prompt)."""

    def __init__(self, model: Any, tokenizer: Any, samples: Sequence[HindsightSample], lr: float = 5e-4,
                 lora_r: int = 8, lora_alpha: float = 16.0, generations: int = 2,
                 hindsight_template: str = DEFAULT_HINDSIGHT_TEMPLATE, bf16: bool = False) -> None:
        from datasets import Dataset
        from peft import LoraConfig
        from trl.experimental.sdpo import SDPOConfig, SDPOTrainer

        if len(samples) % generations:
            raise ValueError(f"{len(samples)} samples do not split into groups of {generations}")
        self.samples = list(samples)
        self.completions = [list(s.response_ids) for s in samples]
        rows = [{"prompt": list(s.messages), "privileged_context": s.follow_up}
                for s in self.samples[::generations]]
        self._folder = tempfile.TemporaryDirectory(prefix="trl-peer-")
        args = SDPOConfig(
            output_dir=self._folder.name, per_device_train_batch_size=len(samples), num_generations=generations,
            max_completion_length=max(len(c) for c in self.completions), learning_rate=lr, max_grad_norm=1.0,
            gradient_checkpointing=False, use_cpu=True, bf16=bf16, report_to=[], logging_steps=10**9,
            distillation_mode="sampled_token", teacher_model_kind="live", use_successful_as_teacher=False,
            include_environment_feedback=True, distillation_is_clip=None, beta=0.0, seed=0,
            feedback_template="{feedback_raw}", reprompt_template=hindsight_template.replace("{follow_up}", "{feedback}"),
            dataloader_num_workers=0, save_strategy="no",
        )
        self.trainer = SDPOTrainer(
            model=model, reward_funcs=[lambda completions, **kw: [0.0] * len(completions)], args=args,
            train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
            peft_config=LoraConfig(r=lora_r, lora_alpha=lora_alpha, lora_dropout=0.0,
                                   target_modules=["q_proj", "k_proj", "v_proj", "o_proj"]),
        )
        self.trainer._generate = self._fixed_completions  # generation is not what is timed
        self.trainer.create_optimizer()
        self.trainer.current_gradient_accumulation_steps = 1  # set by Trainer.train's loop
        self.model = self.trainer.model
        self.bf16 = bf16
        self.inputs = [row for row in rows for _ in range(generations)]

    def _fixed_completions(self, prompt_ids: list[list[int]]) -> tuple[list[list[int]], list[list[int]]]:
        return prompt_ids, [list(c) for c in self.completions]

    def step(self) -> float:
        """One update (the caller times it); returns its loss."""
        trainer = self.trainer
        trainer.model.train()
        # training_step outside Trainer.train does not enter the accelerator's autocast itself.
        with trainer.accelerator.autocast() if self.bf16 else nullcontext():
            loss = trainer.training_step(trainer.model, list(self.inputs), num_items_in_batch=None)
        params = [p for p in trainer.model.parameters() if p.requires_grad]
        torch.nn.utils.clip_grad_norm_(params, trainer.args.max_grad_norm)
        trainer.optimizer.step()
        trainer.optimizer.zero_grad(set_to_none=True)
        trainer.model.eval()
        return float(loss)

    def lora_state(self) -> dict[str, torch.Tensor]:
        return _lora_snapshot(self.model)

    def restore(self, state: dict[str, torch.Tensor]) -> None:
        _lora_restore(self.model, state)
        self.trainer.optimizer.state.clear()
