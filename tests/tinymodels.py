"""Tiny randomly initialised models for fast tests (importable as `tinymodels`).

Lives outside conftest.py so test modules can import it by a unique name: with several
conftest.py files in the tree, `from conftest import ...` resolves to whichever loaded last.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator


@contextmanager
def single_torch_thread() -> Iterator[None]:
    """torch on one intra-op thread inside the block, the previous count restored after: tiny-model
    ops are too small to share out, and on a loaded 2-core machine two threads made runs ~20x slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def make_tiny_llama(tokenizer, seed: int = 0, layers: int = 2, hidden: int = 64):
    """A randomly initialised Llama with `tokenizer`'s vocabulary (fp32, eval mode)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config)
    model.eval()
    return model


def set_lora_b(model, std: float, seed: int = 0, only: str = "") -> None:
    """Seeded N(0, std) values for the LoRA B factors whose names contain `only` (zero for the
    rest, and for all of them at std 0): a fresh adapter has B = 0 and changes nothing."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                wanted = std and only in name
                param.copy_(torch.randn(param.shape, generator=generator) * std if wanted else torch.zeros_like(param))
