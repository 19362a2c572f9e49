"""Teachers: live scores with current weights, EMA with averaged LoRA weights, trust region
interpolates base and current logits."""

from __future__ import annotations

import pytest
import torch

from sdpo import config as sdpo_config
from sdpo.adapters import attach_lora, trainable_parameters
from sdpo.config import SDPOConfig
from sdpo.hindsight import response_batch
from sdpo.scoring import response_logits
from sdpo.teacher import TEACHERS, make_teacher

BATCH = response_batch([[5, 6, 7, 8, 9], [11, 12, 13]], [3, 1], pad_id=2)


def _model_with_nonzero_lora(tiny_model, cfg):
    model = attach_lora(tiny_model, cfg)
    with torch.no_grad():
        for name, p in trainable_parameters(model).items():
            if "lora_B" in name:
                p.normal_(0.0, 0.2)
    return model


def test_registry_names_match_the_config_choices():
    assert tuple(TEACHERS) == sdpo_config.TEACHERS


def test_live_teacher_scores_with_the_current_weights_without_gradient(tiny_model):
    cfg = SDPOConfig(teacher="live")
    model = _model_with_nonzero_lora(tiny_model, cfg)
    logits = make_teacher(model, cfg).logits(model, BATCH)
    assert not logits.requires_grad
    with torch.no_grad():
        torch.testing.assert_close(logits, response_logits(model, BATCH))


def test_ema_teacher_averages_lora_weights_and_restores_the_model_after_scoring(tiny_model):
    cfg = SDPOConfig(teacher="ema", ema_decay=0.75)
    model = attach_lora(tiny_model, cfg)
    teacher = make_teacher(model, cfg)
    start = {n: p.detach().clone() for n, p in trainable_parameters(model).items()}
    with torch.no_grad():
        base_logits = response_logits(model, BATCH)
    with torch.no_grad():
        for name, p in trainable_parameters(model).items():
            if "lora_B" in name:
                p.normal_(0.0, 0.2)
    current = {n: p.detach().clone() for n, p in trainable_parameters(model).items()}
    # before any after_step the EMA is the initial adapter (B = 0): the base model
    torch.testing.assert_close(teacher.logits(model, BATCH), base_logits)
    assert all(torch.equal(p, current[n]) for n, p in trainable_parameters(model).items())
    teacher.after_step(model)
    for name, avg in teacher.state_dict()["average"].items():
        torch.testing.assert_close(avg, 0.75 * start[name] + 0.25 * current[name])


def test_ema_state_round_trips_through_state_dict(tiny_model):
    cfg = SDPOConfig(teacher="ema")
    model = _model_with_nonzero_lora(tiny_model, cfg)
    teacher = make_teacher(model, cfg)
    teacher.after_step(model)
    saved = teacher.state_dict()
    other = make_teacher(model, SDPOConfig(teacher="ema", ema_decay=0.5))
    other.load_state_dict(saved)
    assert other.decay == cfg.ema_decay
    for name, value in saved["average"].items():
        assert torch.equal(other.state_dict()["average"][name], value)


@pytest.mark.parametrize("mix", [0.0, 0.3, 1.0])
def test_trust_region_teacher_interpolates_base_and_current_logits(tiny_model, mix):
    cfg = SDPOConfig(teacher="trust_region", trust_region_mix=mix)
    model = _model_with_nonzero_lora(tiny_model, cfg)
    with torch.no_grad():
        current = response_logits(model, BATCH)
        with model.disable_adapter():
            base = response_logits(model, BATCH)
    assert not torch.allclose(base, current)
    got = make_teacher(model, cfg).logits(model, BATCH)
    torch.testing.assert_close(got, (1 - mix) * base + mix * current)


def test_teacher_pass_runs_in_eval_mode_and_restores_training_mode(tiny_model):
    cfg = SDPOConfig(lora_dropout=0.5)
    model = _model_with_nonzero_lora(tiny_model, cfg)
    model.train()
    teacher = make_teacher(model, cfg)
    first, second = teacher.logits(model, BATCH), teacher.logits(model, BATCH)
    assert torch.equal(first, second) and model.training
