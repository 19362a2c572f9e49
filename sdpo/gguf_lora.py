"""Export a peft LoRA adapter as a llama.cpp GGUF LoRA adapter (the format llama.cpp hot-swaps).

llama.cpp names a Llama-family weight `blk.{i}.attn_q.weight` and stores the query and key
projections with their rows permuted for its rotary layout; transformers undoes that
permutation when it loads a GGUF. So an adapter trained on the transformers model maps to
llama.cpp by renaming each adapted projection and applying the same row permutation to the
rows of B (the output side) of `q_proj` and `k_proj`. peft's scaling (alpha / r) is folded
into B and the file's alpha set to 0, which llama.cpp reads as "scale 1".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sdpo.errors import ConfigError

# transformers projection name -> llama.cpp tensor name inside block i (Llama family).
LLAMA_TENSORS = {
    "q_proj": "attn_q",
    "k_proj": "attn_k",
    "v_proj": "attn_v",
    "o_proj": "attn_output",
    "gate_proj": "ffn_gate",
    "up_proj": "ffn_up",
    "down_proj": "ffn_down",
}
_LAYER = re.compile(r"(?:^|\.)layers\.(\d+)\.(?:self_attn|mlp)\.(\w+)$")


@dataclass(frozen=True)
class LoraWeights:
    """One adapted projection: its llama.cpp tensor name and the factors A (r, in), B (out, r)
    with the scaling folded into B and, for q/k, B's rows already in llama.cpp's order."""

    name: str
    a: Any
    b: Any


def rope_permute(rows: Any, n_head: int) -> Any:
    """transformers -> llama.cpp row order of a q/k projection (or of its LoRA B): within each
    head, the two rotary halves are interleaved. Works on any (out, ...) array or tensor."""
    shape = rows.shape
    return rows.reshape(n_head, 2, shape[0] // n_head // 2, *shape[1:]).swapaxes(1, 2).reshape(shape)


def lora_tensors(model: Any, n_head: int, n_kv_head: int) -> list[LoraWeights]:
    """The model's active LoRA factors in llama.cpp's names and layout (fp32 numpy arrays).

    Raises ConfigError for an adapted module llama.cpp's Llama graph has no LoRA slot for here
    (embeddings, lm_head) or for an adapter with dropout-only / DoRA extras it cannot express.
    """
    from peft.tuners.lora import LoraLayer

    found = []
    for module_name, module in model.named_modules():
        if not isinstance(module, LoraLayer) or not module.active_adapters:
            continue
        (adapter,) = module.active_adapters
        if module.use_dora.get(adapter, False):
            raise ConfigError("lora", f"{module_name}: DoRA adapters have no llama.cpp export")
        match = _LAYER.search(module_name)
        if match is None or match.group(2) not in LLAMA_TENSORS:
            raise ConfigError("target_modules", f"{module_name}: llama.cpp has no LoRA slot for it in this export",
                              f"adapt only {', '.join(LLAMA_TENSORS)}")
        layer, projection = int(match.group(1)), match.group(2)
        a = module.lora_A[adapter].weight.detach().float().cpu()
        b = module.lora_B[adapter].weight.detach().float().cpu() * float(module.scaling[adapter])
        if projection == "q_proj":
            b = rope_permute(b, n_head)
        elif projection == "k_proj":
            b = rope_permute(b, n_kv_head)
        name = f"blk.{layer}.{LLAMA_TENSORS[projection]}.weight"
        found.append(LoraWeights(name, a.numpy().copy(), b.contiguous().numpy().copy()))
    return found


def write_lora_gguf(tensors: list[LoraWeights], path: str | Path, architecture: str = "llama") -> Path:
    """Write `tensors` as a GGUF LoRA adapter for a base model of `architecture`; returns the path."""
    import gguf

    path = Path(path)
    writer = gguf.GGUFWriter(str(path), architecture)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, 0.0)  # 0: llama.cpp applies B @ A as written
    for weights in tensors:
        writer.add_tensor(f"{weights.name}.lora_a", weights.a)
        writer.add_tensor(f"{weights.name}.lora_b", weights.b)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
