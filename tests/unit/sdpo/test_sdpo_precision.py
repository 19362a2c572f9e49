"""The bf16 path (sdpo/precision.py): bf16 copies of the frozen weights that really compute in
bf16 (the known-error probe), close to fp32, scoped, leaving the model exactly as it was; the KL
diagnostic sampled every N steps."""

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


def test_cpu_flags_and_model_are_read_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: X 9\nflags\t\t: fpu avx2 avx512_bf16\n\n"
                    "processor\t: 1\nmodel name\t: other\n")
    assert precision.cpu_flags(info) == {"fpu", "avx2", "avx512_bf16"}
    assert precision.cpu_model(info) == "X 9"
    assert precision.cpu_flags(tmp_path / "missing") == frozenset()


def test_the_probe_shows_fp32_error_on_fp32_and_bf16_error_on_bf16():
    exact, fast = precision.probe_error("fp32"), precision.probe_error("bf16")
    assert exact.error < 1e-5 and exact.computes_as_named()
    # The gradient to the input went through the bf16 copies too, not only the forward.
    assert fast.output_error > 100 * exact.output_error and fast.input_grad_error > 100 * exact.input_grad_error
    assert fast.computes_as_named()


def test_a_bf16_path_with_fp32_sized_or_garbage_error_does_not_count_as_bf16():
    # fp32-sized error is what oneDNN's ignored fp32_precision="bf16" flag gives on CPUs
    # without AMX: recorded as bf16 once, it must fail the probe.
    assert not precision.ProbeResult("bf16", 3e-7, 4e-7).computes_as_named()
    assert not precision.ProbeResult("bf16", 0.5, 0.003).computes_as_named()
    assert precision.ProbeResult("bf16", 0.004, 0.003).computes_as_named()
    assert not precision.ProbeResult("fp32", 0.004, 0.003).computes_as_named()


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


def test_a_bf16_update_computes_in_bf16_close_to_fp32_and_restores_the_model(smol_tokenizer):
    records, updaters = {}, {}
    for path in ("fp32", "bf16"):
        updaters[path] = SDPOUpdater(make_tiny_llama(smol_tokenizer), smol_tokenizer,
                                     SDPOConfig(matmul_precision=path, seed=0))
        assert updaters[path].matmul_path == path
        records[path] = updaters[path].step(_samples(smol_tokenizer))
    assert not any("forward" in vars(m) for m in updaters["bf16"].model.modules())  # copies dropped
    exact, fast = records["fp32"], records["bf16"]
    assert not fast.skipped and fast.loss != exact.loss  # the bf16 copies really ran
    pairs = [(x, y) for a, b in zip(exact.token_advantages(), fast.token_advantages()) for x, y in zip(a, b)]
    assert max(abs(x - y) for x, y in pairs) < 0.01  # measured 1.3e-3 (|A_t| up to 0.06)
    # The token loss weighs each advantage by a log-prob near -11 (49k-token vocabulary), so
    # its absolute error is ~10x the advantages' (measured 3.6e-3); the gradient is what trains.
    assert math.isclose(fast.loss, exact.loss, abs_tol=0.01)
    assert math.isclose(fast.grad_norm, exact.grad_norm, rel_tol=0.05)
    assert all(q.dtype == torch.float32 for q in updaters["bf16"].parameters.values())  # LoRA stays fp32


def test_kl_diagnostic_is_sampled_every_n_steps(smol_tokenizer):
    updater = SDPOUpdater(make_tiny_llama(smol_tokenizer), smol_tokenizer, SDPOConfig(kl_every=2, seed=0))
    kls = [updater.step(_samples(smol_tokenizer)).to_dict()["kl"] for _ in range(3)]
    assert kls[0] is not None and kls[1] is None and kls[2] is not None
    with pytest.raises(ConfigError, match="kl_every"):
        SDPOConfig(kl_every=0)
    with pytest.raises(ConfigError, match="matmul_precision"):
        SDPOConfig(matmul_precision="fp16")
