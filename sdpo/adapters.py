"""LoRA adapters via peft: attach (seeded), list the trainable weights, save and load them,
and merge them exactly-reversibly for fast inference.

Adapters are saved in peft's own folder format, so other tools (e.g. a vLLM LoRA backend)
can load the same files the updater checkpoints.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from sdpo.errors import CheckpointError, ConfigError

ADAPTER_WEIGHTS = "adapter_model.safetensors"


def attach_lora(model: Any, config: Any) -> Any:
    """Wrap `model` in a peft LoRA model built from `config` (an `SDPOConfig` or anything with
    lora_r, lora_alpha, lora_dropout, target_modules, seed).

    A model that already is a peft model is returned as is. peft injects the LoRA layers into
    `model`'s own modules, so the unwrapped object also runs with the adapters afterwards.
    """
    import torch
    from peft import LoraConfig, get_peft_model

    if hasattr(model, "peft_config"):
        return model
    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )
    # The LoRA A matrices start random: seed them without disturbing the caller's RNG.
    with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
        # peft 0.21 calls a transformers method that transformers 5 deprecates.
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        torch.manual_seed(config.seed)
        try:
            wrapped = get_peft_model(model, lora)
        except ValueError as err:
            raise ConfigError(
                "target_modules",
                f"{list(config.target_modules)} do not match the model ({str(err).splitlines()[0]})",
                f"linear modules here: {', '.join(linear_module_names(model))}",
            ) from err
    return wrapped


def linear_module_names(model: Any) -> list[str]:
    """Distinct short names of the model's linear layers (candidates for `target_modules`)."""
    import torch

    names = {name.rsplit(".", 1)[-1] for name, m in model.named_modules() if isinstance(m, torch.nn.Linear)}
    return sorted(names)


def trainable_parameters(model: Any) -> dict[str, Any]:
    """Name -> parameter for every trainable weight (the LoRA matrices), in a stable order."""
    return {name: p for name, p in model.named_parameters() if p.requires_grad}


def save_adapter(model: Any, folder: str | Path) -> None:
    """Write the LoRA adapter (weights + adapter_config.json) in peft format into `folder`."""
    model.save_pretrained(str(folder), safe_serialization=True)


def load_adapter(model: Any, folder: str | Path) -> None:
    """Load adapter weights saved by `save_adapter` into the already attached adapter."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    weights = Path(folder) / ADAPTER_WEIGHTS
    if not weights.is_file():
        raise CheckpointError(str(folder), f"no {ADAPTER_WEIGHTS}", "pass a folder written by save_adapter")
    result = set_peft_model_state_dict(model, load_file(str(weights)))
    unexpected = list(getattr(result, "unexpected_keys", []) or [])
    if unexpected:
        raise CheckpointError(str(weights), f"adapter does not fit this model: {unexpected[:3]}")


@contextmanager
def merged_lora(model: Any) -> Iterator[None]:
    """Inference with the LoRA deltas merged into the base weights; exact restore afterwards.

    Unmerged LoRA adds two tiny matmuls per adapted projection per decode step, which on CPU
    cost about as much as the projections themselves. Merging removes that; copying the saved
    base weights back (instead of trusting unmerge's subtraction) keeps training bit-exact.
    A model without LoRA layers passes through unchanged.
    """
    from peft.tuners.lora import LoraLayer

    layers = [m for m in model.modules() if isinstance(m, LoraLayer) and not m.merged and m.active_adapters]
    saved = [m.get_base_layer().weight.detach().clone() for m in layers]
    merged = []
    try:
        for layer in layers:
            layer.merge()
            merged.append(layer)
        yield
    finally:
        for layer, weight in zip(merged, saved):
            layer.unmerge()
            layer.get_base_layer().weight.data.copy_(weight)
