"""The bf16 matmul path (sdpo/precision.py): chosen by CPU capability, close to fp32, scoped,
and leaving the model exactly as it was; the KL diagnostic sampled every N steps."""

from __future__ import annotations

import math

import pytest
import torch

from tinymodels import make_tiny_llama
from sdpo import precision
from sdpo.adapters import attach_lora
from sdpo.config import SDPOConfig
from sdpo.errors import ConfigError
from sdpo.hindsight import HindsightSample
from sdpo.updater import SDPOUpdater

AMX = frozenset({"fpu", "avx2", "avx512f", "avx512_bf16", "amx_bf16"})
AVX2 = frozenset({"fpu", "avx2", "fma"})


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: X\nflags\t\t: fpu avx2 avx512_bf16\n\nprocessor\t: 1\n")
    assert precision.cpu_flags(info) == {"fpu", "avx2", "avx512_bf16"}
    assert precision.cpu_flags(tmp_path / "missing") == frozenset()


def test_auto_picks_bf16_only_on_a_cpu_with_native_bf16(monkeypatch):
    monkeypatch.setattr(precision.platform, "machine", lambda: "x86_64")
    assert precision.resolve("auto", "cpu", AMX) == "bf16"
    assert precision.resolve("auto", "cpu", AVX2) == "fp32"
    assert precision.resolve("auto", "cuda:0", AMX) == "fp32"
    assert precision.resolve("fp32", "cpu", AMX) == "fp32"
    assert precision.resolve("bf16", "cpu", AVX2) == "bf16"  # asked for: honoured (for measuring)
    with pytest.raises(ValueError, match="CPU path"):
        precision.resolve("bf16", "cuda", AMX)
    with pytest.raises(ValueError, match="one of fp32, bf16, auto"):
        precision.resolve("fp16", "cpu", AMX)


def test_bf16_matmuls_is_scoped_and_changes_low_bits_only():
    settings = torch.backends.mkldnn.matmul
    before = settings.fp32_precision
    a, b = torch.randn(64, 96, generator=torch.Generator().manual_seed(0)), torch.randn(96, 32)
    exact = a @ b
    with precision.bf16_matmuls("bf16"):
        assert settings.fp32_precision == "bf16"
        fast = a @ b
    assert settings.fp32_precision == before
    with precision.bf16_matmuls("fp32"):
        assert settings.fp32_precision == before
    assert fast.dtype == torch.float32
    assert torch.allclose(fast, exact, rtol=0.05, atol=0.05 * exact.abs().max().item())


def test_weight_shadows_cover_frozen_layers_only_and_leave_the_model_untouched(smol_tokenizer):
    model = attach_lora(make_tiny_llama(smol_tokenizer), SDPOConfig(seed=0))
    ids = torch.tensor([smol_tokenizer("The sky is blue because")["input_ids"]])
    state = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        exact = model(input_ids=ids).logits
        with precision.bf16_weight_shadows(model, "bf16"):
            shadowed = [m for m in model.modules() if "forward" in vars(m)]
            fast = model(input_ids=ids).logits
    assert shadowed and all(not m.weight.requires_grad for m in shadowed)
    assert not any("forward" in vars(m) for m in model.modules())  # class forwards back
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    assert fast.dtype == torch.float32 and not torch.equal(fast, exact)
    assert (fast - exact).abs().max() < 0.05 * exact.abs().max()
    with precision.bf16_weight_shadows(model, "fp32"):
        assert not any("forward" in vars(m) for m in model.modules())


def _samples(tok):
    return [
        HindsightSample([{"role": "user", "content": "What is rain?"}],
                        tok("Rain is water falling from clouds.")["input_ids"], "One sentence, please."),
        HindsightSample([{"role": "user", "content": "Name a planet."}], tok("Mars, the red one.")["input_ids"],
                        "Shorter."),
    ]


def test_a_bf16_update_stays_close_to_fp32_and_restores_the_setting(smol_tokenizer):
    records = {}
    for path in ("fp32", "bf16"):
        updater = SDPOUpdater(make_tiny_llama(smol_tokenizer), smol_tokenizer,
                              SDPOConfig(matmul_precision=path, seed=0))
        assert updater.matmul_path == path
        records[path] = updater.step(_samples(smol_tokenizer))
    assert torch.backends.mkldnn.matmul.fp32_precision != "bf16"
    exact, fast = records["fp32"], records["bf16"]
    assert not fast.skipped and math.isclose(fast.loss, exact.loss, rel_tol=0.05, abs_tol=1e-3)
    pairs = [(x, y) for a, b in zip(exact.token_advantages(), fast.token_advantages()) for x, y in zip(a, b)]
    assert max(abs(x - y) for x, y in pairs) < 0.1


def test_auto_resolves_from_the_machine(smol_tokenizer):
    updater = SDPOUpdater(make_tiny_llama(smol_tokenizer), smol_tokenizer, SDPOConfig(matmul_precision="auto"))
    assert updater.matmul_path == ("bf16" if precision.native_bf16() else "fp32")


def test_kl_diagnostic_is_sampled_every_n_steps(smol_tokenizer):
    updater = SDPOUpdater(make_tiny_llama(smol_tokenizer), smol_tokenizer, SDPOConfig(kl_every=2, seed=0))
    kls = [updater.step(_samples(smol_tokenizer)).to_dict()["kl"] for _ in range(3)]
    assert kls[0] is not None and kls[1] is None and kls[2] is not None
    with pytest.raises(ConfigError, match="kl_every"):
        SDPOConfig(kl_every=0)
    with pytest.raises(ConfigError, match="matmul_precision"):
        SDPOConfig(matmul_precision="fp16")
