"""LoRA attachment: seeded, configurable targets, peft-format save/load round trip."""

from __future__ import annotations

import pytest
import torch
from tinymodels import make_tiny_llama

from sdpo.adapters import attach_lora, load_adapter, save_adapter, trainable_parameters
from sdpo.config import SDPOConfig
from sdpo.errors import CheckpointError, ConfigError


def test_attach_lora_trains_only_the_configured_modules_with_the_configured_rank(tiny_model):
    model = attach_lora(tiny_model, SDPOConfig(lora_r=4, target_modules=("q_proj", "v_proj")))
    params = trainable_parameters(model)
    assert params and all(("q_proj" in n or "v_proj" in n) and "lora_" in n for n in params)
    assert all(4 in p.shape for p in params.values())
    assert attach_lora(model, SDPOConfig()) is model  # already wrapped: reused as is


def test_lora_initialisation_is_seeded_and_leaves_the_caller_rng_alone(smol_tokenizer):
    model = make_tiny_llama(smol_tokenizer)  # seeds torch itself
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    a = trainable_parameters(attach_lora(model, SDPOConfig(seed=7)))
    assert torch.equal(torch.rand(1), expected_next)
    b = trainable_parameters(attach_lora(make_tiny_llama(smol_tokenizer), SDPOConfig(seed=7)))
    c = trainable_parameters(attach_lora(make_tiny_llama(smol_tokenizer), SDPOConfig(seed=8)))
    assert all(torch.equal(a[n], b[n]) for n in a)
    assert any(not torch.equal(a[n], c[n]) for n in a if "lora_A" in n)


def test_unknown_target_modules_name_the_field_and_list_linear_layers(tiny_model):
    with pytest.raises(ConfigError, match="target_modules.*linear modules here: .*q_proj"):
        attach_lora(tiny_model, SDPOConfig(target_modules=("attention_dense",)))


def test_adapter_save_and_load_round_trip_in_peft_format(tmp_path, smol_tokenizer):
    model = attach_lora(make_tiny_llama(smol_tokenizer), SDPOConfig())
    with torch.no_grad():
        for p in trainable_parameters(model).values():
            p.normal_()
    save_adapter(model, tmp_path / "adapter")
    assert (tmp_path / "adapter" / "adapter_config.json").is_file()
    other = attach_lora(make_tiny_llama(smol_tokenizer), SDPOConfig())
    load_adapter(other, tmp_path / "adapter")
    mine, theirs = trainable_parameters(model), trainable_parameters(other)
    assert all(torch.equal(mine[n], theirs[n]) for n in mine)
    with pytest.raises(CheckpointError, match="no adapter_model.safetensors"):
        load_adapter(other, tmp_path)
