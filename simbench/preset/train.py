"""Train the feedback-reading adapter: supervised LoRA on the recipe's examples.

`train_preset(settings, out)` loads the base model, samples its answers to the recipe prompts,
builds the examples (preset/data.py), trains a LoRA (cross-entropy on target tokens only) and
writes the adapter in peft format plus `recipe.json` (settings, their digest, data counts,
losses, timings, CPU flags). Every step is seeded: the same settings on the same CPU give the
same adapter. The folder is written under a temporary name and renamed, so a crash never leaves
a half-written adapter that `load_policy` would trust.
"""

from __future__ import annotations

import hashlib
import json
import platform
import random
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from sdpo.adapters import attach_lora, save_adapter, trainable_parameters
from sdpo.files import umask_modes
from sdpo.hindsight import prompt_ids
from simbench.preset.data import Example, build_examples, generate_samples, read_targets, tokenizer_encoder
from simbench.preset.rewrites import HELD_OUT, TRAINED
from simbench.prompts import load_prompts
from simbench.runner.parts import load_model
from simbench.runner.provenance import cpu_flags

RECIPE_FILE = "recipe.json"


@dataclass(frozen=True)
class RecipeSettings:
    """Everything the adapter depends on; `digest()` names it in the preset's cache folder."""

    model: str = "smollm2-135m"
    prompts: str = "builtin:train"
    max_new_tokens: int = 80
    temperature: float = 0.8
    relevant_per_sample: int = 2
    irrelevant_share: float = 0.5
    plain_share: float = 0.5
    lora_r: int = 8
    lora_alpha: float = 16.0
    lora_dropout: float = 0.0
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")
    lr: float = 5e-4
    batch_size: int = 8
    epochs: int = 1
    max_grad_norm: float = 1.0
    seed: int = 0
    trained: tuple[str, ...] = field(default=TRAINED)
    targets: str = "rewrite"
    """"rewrite": the checkers' rewrites; "self": the model's own in-context answers that pass
    (preset/data.py `read_targets`)."""

    def digest(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


Progress = Callable[[str, int, int], None]  # (stage, done, total)


def train_preset(settings: RecipeSettings, out: Path, loader: Any = None, prompts: Sequence[str] | None = None,
                 progress: Progress | None = None) -> dict[str, Any]:
    """Run the recipe and write the adapter folder `out`; returns the recipe record."""
    import torch

    report = progress or (lambda stage, done, total: None)
    started = time.perf_counter()
    cpu_started = time.process_time()
    torch.manual_seed(settings.seed)
    policy, tokenizer = (loader or load_model)(settings.model, "cpu")
    texts = list(prompts) if prompts is not None else [p.text for p in load_prompts(settings.prompts)]
    samples = generate_samples(policy, tokenizer, texts, settings.seed, settings.max_new_tokens,
                               settings.temperature, on_batch=lambda done, total: report("sampling", done, total))
    encode, eot = tokenizer_encoder(tokenizer)
    examples = build_examples(samples, encode, eot, random.Random(settings.seed), settings.relevant_per_sample,
                              settings.irrelevant_share, settings.plain_share)
    if settings.targets == "self":
        examples = read_targets(examples, lambda chats: _answers(policy, tokenizer, chats, settings, report))
    sampled_at = time.perf_counter()
    adapted, losses = fit_lora(policy, tokenizer, examples, settings, report)
    record = {
        "settings": asdict(settings),
        "digest": settings.digest(),
        "trained_preferences": list(settings.trained),
        "held_out_preferences": list(HELD_OUT),
        "samples": len(samples),
        "samples_complete": sum(s.complete for s in samples),
        "examples": dict(sorted(Counter(e.kind for e in examples).items())),
        "examples_per_preference": dict(sorted(Counter(e.preference for e in examples if e.preference).items())),
        "epoch_losses": losses,
        "sampling_seconds": round(sampled_at - started, 1),
        "seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(time.process_time() - cpu_started, 1),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpu_flags": cpu_flags(),
    }
    _write_adapter(adapted, record, out)
    return record


def _answers(policy: Any, tokenizer: Any, chats: list[Any], settings: RecipeSettings, report: Progress) -> list[Any]:
    """The model's own sampled answers to `chats` (feedback in context), for `read_targets`."""
    return generate_samples(policy, tokenizer, [], settings.seed + 1, settings.max_new_tokens, settings.temperature,
                            on_batch=lambda done, total: report("reading", done, total), chats=chats)


def encode_example(tokenizer: Any, example: Example) -> tuple[list[int], int]:
    """(prompt + target ids, prompt length): the loss covers the target tokens only."""
    prompt = prompt_ids(tokenizer, example.messages)
    return prompt + list(example.target_ids), len(prompt)


def fit_lora(policy: Any, tokenizer: Any, examples: Sequence[Example], settings: RecipeSettings,
             report: Progress) -> tuple[Any, list[float]]:
    """Attach a LoRA to `policy`, train it on `examples`: (peft model, mean target-token loss per epoch)."""
    import torch

    model = attach_lora(policy, settings)
    params = list(trainable_parameters(model).values())
    optimizer = torch.optim.AdamW(params, lr=settings.lr, weight_decay=0.0)
    encoded = [encode_example(tokenizer, e) for e in examples]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    order_rng = random.Random(settings.seed + 1)
    steps_per_epoch = -(-len(encoded) // settings.batch_size)
    total, step = steps_per_epoch * settings.epochs, 0
    model.train()
    losses: list[float] = []
    for _ in range(settings.epochs):
        order = list(range(len(encoded)))
        order_rng.shuffle(order)
        epoch_loss, epoch_tokens = 0.0, 0
        for start in range(0, len(order), settings.batch_size):
            batch = [encoded[i] for i in order[start : start + settings.batch_size]]
            ids, labels, attention = _pad_batch(batch, pad)
            logits = model(input_ids=ids, attention_mask=attention).logits[:, :-1]
            target = labels[:, 1:]
            loss_sum = torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=-100, reduction="sum")
            n_tokens = int((target != -100).sum())
            optimizer.zero_grad(set_to_none=True)
            (loss_sum / max(n_tokens, 1)).backward()
            torch.nn.utils.clip_grad_norm_(params, settings.max_grad_norm)
            optimizer.step()
            epoch_loss += float(loss_sum.detach())
            epoch_tokens += n_tokens
            step += 1
            report("training", step, total)
        losses.append(round(epoch_loss / max(epoch_tokens, 1), 4))
    model.eval()
    return model, losses


def _pad_batch(batch: Sequence[tuple[list[int], int]], pad: int) -> tuple[Any, Any, Any]:
    import torch

    width = max(len(ids) for ids, _ in batch)
    ids = torch.full((len(batch), width), pad, dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    attention = torch.zeros((len(batch), width), dtype=torch.long)
    for row, (seq, prompt_len) in enumerate(batch):
        ids[row, : len(seq)] = torch.tensor(seq)
        labels[row, prompt_len : len(seq)] = torch.tensor(seq[prompt_len:])
        attention[row, : len(seq)] = 1
    return ids, labels, attention


def _write_adapter(model: Any, record: dict[str, Any], out: Path) -> None:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        save_adapter(model, scratch)
        (scratch / RECIPE_FILE).write_text(json.dumps(record, indent=2) + "\n")
        (scratch / "README.md").unlink(missing_ok=True)  # peft's model-card template
        umask_modes(scratch)  # mkdtemp makes it private; the adapter is meant to ship
        if out.exists():
            shutil.rmtree(out)
        scratch.rename(out)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
