"""SDPOUpdater on a tiny random Llama: parameters move, losses match, bad steps are skipped,
forward passes are counted, and checkpoints restore the exact next step."""

from __future__ import annotations

import json
import math

import pytest
import torch
from tinymodels import make_tiny_llama

from sdpo.config import SDPOConfig
from sdpo.errors import CheckpointError, SampleError
from sdpo.hindsight import HindsightSample
from sdpo.scoring import hindsight_token_scores
from sdpo.updater import SDPOUpdater


def _samples(tok):
    eos = tok.eos_token_id
    return [
        HindsightSample(
            [{"role": "user", "content": "What is rain?"}],
            tok("Rain is water falling from clouds. It forms when vapour condenses.")["input_ids"] + [eos],
            "Keep it to one sentence.",
        ),
        HindsightSample(
            [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello!"},
                {"role": "user", "content": "Name a planet."},
            ],
            tok("Mars.")["input_ids"] + [eos],
            "Thanks!",
        ),
    ]


def _lora(updater):
    return {n: p.detach().clone() for n, p in updater.parameters.items()}


def _perturb_adapter(updater, seed=0):
    # A fresh LoRA has B = 0, which makes A's gradient exactly zero on the first step.
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in updater.parameters.items():
            if "lora_B" in name:
                p.copy_(0.05 * torch.randn(p.shape, generator=gen))


@pytest.mark.parametrize("loss", ["token", "logit", "sequence"])
def test_every_lora_parameter_changes_after_one_step(tiny_model, smol_tokenizer, loss):
    updater = SDPOUpdater(tiny_model, smol_tokenizer, SDPOConfig(loss=loss, lr=1e-2, top_k=20))
    _perturb_adapter(updater)
    before = _lora(updater)
    record = updater.step(_samples(smol_tokenizer))
    assert not record.skipped and record.grad_norm > 0
    unchanged = [n for n, p in updater.parameters.items() if torch.equal(p, before[n])]
    assert unchanged == [] and len(before) == 4 * 2 * 2  # q,k,v,o x A,B x 2 layers


def test_fresh_adapter_moves_b_on_the_first_step_and_a_from_the_second(tiny_model, smol_tokenizer):
    updater = SDPOUpdater(tiny_model, smol_tokenizer, SDPOConfig(lr=1e-2))
    start = _lora(updater)
    updater.step(_samples(smol_tokenizer))
    first = _lora(updater)
    assert all(not torch.equal(first[n], start[n]) for n in start if "lora_B" in n)
    assert all(torch.equal(first[n], start[n]) for n in start if "lora_A" in n)
    updater.step(_samples(smol_tokenizer))
    assert all(not torch.equal(p, first[n]) for n, p in updater.parameters.items() if "lora_A" in n)


@pytest.mark.parametrize("centre", [False, True])
def test_recorded_token_loss_equals_hand_computation_from_scored_log_probs(tiny_model, smol_tokenizer, centre):
    samples = _samples(smol_tokenizer)
    updater = SDPOUpdater(tiny_model, smol_tokenizer, SDPOConfig(centre_advantages=centre))
    _perturb_adapter(updater)
    scores = hindsight_token_scores(updater.model, smol_tokenizer, samples)
    total, count = 0.0, 0
    for s in scores:
        adv = s.advantages
        if centre:
            adv = [a - sum(adv) / len(adv) for a in adv]
        total += sum(-a * lp for a, lp in zip(adv, s.student_logprobs))
        count += len(adv)
    record = updater.step(samples)
    assert record.loss == pytest.approx(total / count, rel=1e-4, abs=1e-6)
    assert record.centred is centre
    flat = [a for s in scores for a in s.advantages]
    assert record.advantage_mean == pytest.approx(sum(flat) / len(flat), abs=1e-5)
    assert record.negative_share == sum(a < 0 for a in flat) / len(flat)
    assert [len(a) for a in record.token_advantages()] == [len(s.response_ids) for s in samples]


def test_one_teacher_and_one_student_forward_per_micro_batch(tiny_model, smol_tokenizer):
    updater = SDPOUpdater(tiny_model, smol_tokenizer, SDPOConfig(grad_accum=2))
    calls = []
    decoder = updater.model.get_base_model().get_decoder()
    decoder.register_forward_hook(lambda m, a, k, out: calls.append(torch.is_grad_enabled()), with_kwargs=True)
    samples = _samples(smol_tokenizer)
    updater.step(samples)
    assert calls == [False, True, False, True]
    calls.clear()
    updater.config = SDPOConfig(grad_accum=1)
    updater.step(samples)
    assert calls == [False, True]


def test_gradient_accumulation_gives_the_same_update_as_one_batch(smol_tokenizer):
    results = []
    for accum in (1, 2):
        updater = SDPOUpdater(make_tiny_llama(smol_tokenizer), smol_tokenizer, SDPOConfig(grad_accum=accum))
        _perturb_adapter(updater)
        record = updater.step(_samples(smol_tokenizer))
        results.append((record, _lora(updater)))
    (r1, p1), (r2, p2) = results
    assert r1.loss == pytest.approx(r2.loss, rel=1e-5)
    assert r1.grad_norm == pytest.approx(r2.grad_norm, rel=1e-4)
    for name in p1:  # Adam's first step is ~lr * sign(g): allow 2% of lr where g is ~0
        torch.testing.assert_close(p1[name], p2[name], atol=1e-5, rtol=1e-5)


def test_non_finite_loss_skips_the_step_and_changes_nothing(tiny_model, smol_tokenizer):
    updater = SDPOUpdater(tiny_model, smol_tokenizer, SDPOConfig())
    before = _lora(updater)
    live = updater.teacher.logits
    updater.teacher.logits = lambda model, batch: live(model, batch) * float("nan")
    record = updater.step(_samples(smol_tokenizer))
    assert record.skipped and record.reason == "non-finite loss" and math.isnan(record.loss)
    assert all(torch.equal(p, before[n]) for n, p in updater.parameters.items())
    assert all(p.grad is None for p in updater.parameters.values())
    assert updater.optimizer.state_dict()["state"] == {} and updater.applied_steps == 0 and updater.steps == 1
    assert json.loads(json.dumps(record.to_dict()))["loss"] is None


def test_non_finite_gradient_skips_the_step(tiny_model, smol_tokenizer):
    updater = SDPOUpdater(tiny_model, smol_tokenizer, SDPOConfig())
    before = _lora(updater)
    next(iter(updater.parameters.values())).register_hook(lambda g: g * float("inf"))
    record = updater.step(_samples(smol_tokenizer))
    assert record.skipped and record.reason == "non-finite gradient" and math.isfinite(record.loss)
    assert all(torch.equal(p, before[n]) for n, p in updater.parameters.items())
    assert updater.applied_steps == 0


def test_importance_weights_from_generator_log_probs_scale_the_loss(tiny_model, smol_tokenizer):
    samples = _samples(smol_tokenizer)
    updater = SDPOUpdater(tiny_model, smol_tokenizer, SDPOConfig(is_clip=2.0))
    _perturb_adapter(updater)
    scores = hindsight_token_scores(updater.model, smol_tokenizer, samples)
    # old = student + log 2 makes every ratio exactly 1/2
    halved = [
        HindsightSample(s.messages, s.response_ids, s.follow_up, [lp + math.log(2.0) for lp in sc.student_logprobs])
        for s, sc in zip(samples, scores)
    ]
    plain = SDPOUpdater(make_tiny_llama(smol_tokenizer), smol_tokenizer, SDPOConfig())
    _perturb_adapter(plain)
    assert updater.step(halved).loss == pytest.approx(plain.step(samples).loss / 2, rel=1e-4)


def test_record_json_is_compact_and_keeps_per_token_advantages_out(tiny_model, smol_tokenizer):
    record = SDPOUpdater(tiny_model, smol_tokenizer).step(_samples(smol_tokenizer))
    summary = record.to_dict()
    assert "advantages" not in summary and json.dumps(summary)
    assert summary["tokens"] == sum(len(s.response_ids) for s in _samples(smol_tokenizer))
    assert summary["samples"] == 2 and summary["seconds"] > 0 and summary["kl"] >= 0


def test_malformed_sample_is_rejected_before_any_work(tiny_model, smol_tokenizer):
    updater = SDPOUpdater(tiny_model, smol_tokenizer)
    bad = HindsightSample([{"role": "user", "content": "x"}], [], "o")
    with pytest.raises(SampleError, match="sample 1.response_ids"):
        updater.step([_samples(smol_tokenizer)[0], bad])
    assert updater.steps == 0


@pytest.mark.parametrize("teacher", ["live", "ema"])
def test_save_load_round_trip_restores_an_identical_next_step(tmp_path, smol_tokenizer, teacher):
    config = SDPOConfig(teacher=teacher, lr=1e-2, ema_decay=0.5)
    samples = _samples(smol_tokenizer)
    first = SDPOUpdater(make_tiny_llama(smol_tokenizer), smol_tokenizer, config)
    first.step(samples)
    first.step(samples[:1])
    first.save(tmp_path / "ckpt")
    expected = first.step(samples)
    after_first = _lora(first)

    second = SDPOUpdater(make_tiny_llama(smol_tokenizer), smol_tokenizer, config)
    second.load(tmp_path / "ckpt")
    assert (second.steps, second.applied_steps) == (2, 2)
    got = second.step(samples)
    assert got.loss == expected.loss and got.grad_norm == expected.grad_norm and got.step == expected.step
    assert all(torch.equal(p, after_first[n]) for n, p in second.parameters.items())


def test_save_replaces_an_existing_checkpoint_without_leftovers(tmp_path, tiny_model, smol_tokenizer):
    updater = SDPOUpdater(tiny_model, smol_tokenizer)
    updater.save(tmp_path / "ckpt")
    updater.step(_samples(smol_tokenizer))
    updater.save(tmp_path / "ckpt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]
    state = json.loads((tmp_path / "ckpt" / "state.json").read_text())
    assert state["steps"] == 1 and state["config"] == updater.config.to_dict()
    assert (tmp_path / "ckpt" / "adapter" / "adapter_config.json").is_file()


def test_loading_a_mismatched_or_missing_checkpoint_fails_with_the_reason(tmp_path, smol_tokenizer):
    SDPOUpdater(make_tiny_llama(smol_tokenizer), smol_tokenizer, SDPOConfig(lora_r=4)).save(tmp_path / "r4")
    other = SDPOUpdater(make_tiny_llama(smol_tokenizer), smol_tokenizer, SDPOConfig(lora_r=8))
    with pytest.raises(CheckpointError, match="lora_r=4"):
        other.load(tmp_path / "r4")
    with pytest.raises(CheckpointError, match="not an SDPO updater checkpoint"):
        other.load(tmp_path / "missing")
