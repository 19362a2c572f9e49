"""The GGUF LoRA export: names, layouts, scaling folded into B, and the rotary row permutation
that is exactly the inverse of the one transformers undoes when it loads a Llama GGUF."""

from __future__ import annotations

import numpy as np
import pytest
from tinymodels import set_lora_b

from sdpo.adapters import attach_lora
from sdpo.config import SDPOConfig
from sdpo.errors import ConfigError
from sdpo.gguf_lora import lora_tensors, rope_permute, write_lora_gguf


@pytest.mark.parametrize("heads, kv_heads", [(4, 4), (4, 2)])
def test_rope_permute_inverts_transformers_gguf_loader(heads: int, kv_heads: int) -> None:
    from transformers.modeling_gguf_pytorch_utils import LlamaTensorProcessor

    head_dim, hidden = 8, 32
    q = np.random.default_rng(0).normal(size=(heads * head_dim, hidden)).astype(np.float32)
    k = np.random.default_rng(1).normal(size=(kv_heads * head_dim, hidden)).astype(np.float32)
    converter = LlamaTensorProcessor(config={"num_attention_heads": heads, "num_key_value_heads": kv_heads})
    # transformers: gguf (llama.cpp order) -> hf; ours: hf -> gguf. Round trip is the identity.
    back_q = converter._reverse_permute_weights(rope_permute(q, heads), heads, heads)
    back_k = converter._reverse_permute_weights(rope_permute(k, kv_heads), heads, kv_heads)
    assert np.array_equal(back_q, q) and np.array_equal(back_k, k)
    assert not np.array_equal(rope_permute(q, heads), q)  # it is not the identity itself


def _lora_model(tiny_model, targets=("q_proj", "k_proj", "v_proj", "o_proj")):
    model = attach_lora(tiny_model, SDPOConfig(lora_r=4, lora_alpha=8, target_modules=targets, seed=0))
    set_lora_b(model, 0.1)
    return model


def test_tensors_carry_llamacpp_names_layouts_and_scaling(tiny_model) -> None:
    model = _lora_model(tiny_model)
    config = model.config
    tensors = {t.name: t for t in lora_tensors(model, config.num_attention_heads, config.num_key_value_heads)}
    layers = config.num_hidden_layers
    assert set(tensors) == {f"blk.{i}.{n}.weight" for i in range(layers)
                            for n in ("attn_q", "attn_k", "attn_v", "attn_output")}
    v = model.base_model.model.model.layers[0].self_attn.v_proj
    scale = v.scaling["default"]
    assert scale == 2.0
    np.testing.assert_array_equal(tensors["blk.0.attn_v.weight"].a, v.lora_A["default"].weight.detach().numpy())
    np.testing.assert_allclose(tensors["blk.0.attn_v.weight"].b, v.lora_B["default"].weight.detach().numpy() * scale)
    q = model.base_model.model.model.layers[0].self_attn.q_proj
    expected = rope_permute(q.lora_B["default"].weight.detach() * scale, config.num_attention_heads).numpy()
    np.testing.assert_allclose(tensors["blk.0.attn_q.weight"].b, expected)


def test_adapter_file_is_a_gguf_lora_adapter(tiny_model, tmp_path) -> None:
    import gguf

    model = _lora_model(tiny_model)
    config = model.config
    path = write_lora_gguf(lora_tensors(model, config.num_attention_heads, config.num_key_value_heads),
                           tmp_path / "adapter.gguf")
    reader = gguf.GGUFReader(str(path))
    fields = {name: field.contents() for name, field in reader.fields.items()
              if name in ("general.type", "general.architecture", "adapter.type", "adapter.lora.alpha")}
    assert fields == {"general.type": "adapter", "general.architecture": "llama", "adapter.type": "lora",
                      "adapter.lora.alpha": 0.0}
    shapes = {t.name: tuple(int(d) for d in t.shape) for t in reader.tensors}
    rank, hidden = 4, config.hidden_size
    # ggml lists dimensions innermost first: A (r, in) -> (in, r), B (out, r) -> (r, out).
    assert shapes["blk.0.attn_q.weight.lora_a"] == (hidden, rank)
    assert shapes["blk.0.attn_q.weight.lora_b"] == (rank, config.num_attention_heads * config.head_dim)


def test_unsupported_targets_are_refused(tiny_model) -> None:
    model = _lora_model(tiny_model, targets=("q_proj", "lm_head"))
    with pytest.raises(ConfigError, match="lm_head.*no LoRA slot"):
        lora_tensors(model, model.config.num_attention_heads, model.config.num_key_value_heads)
