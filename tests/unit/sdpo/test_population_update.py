"""PopulationUpdater on a tiny float64 Llama: U members stepped together equal U separate
SDPOUpdaters (weights, records, token advantages), a member's update does not depend on who
else is in the call, the written-out AdamW equals torch's, and checkpoints cross over."""

from __future__ import annotations

import math

import pytest
import torch
from tinymodels import make_tiny_llama, single_torch_thread

from sdpo.adamw import AdamWState
from sdpo.config import SDPOConfig
from sdpo.errors import ConfigError
from sdpo.hindsight import HindsightSample
from sdpo.multi_lora import StackedLoRA
from sdpo.population_update import PopulationUpdater
from sdpo.updater import SDPOUpdater

CONFIGS = (
    SDPOConfig(seed=3, lr=1e-2),
    SDPOConfig(seed=5, loss="logit", top_k=20, lr=2e-2, kl_every=2, grad_accum=2),
    SDPOConfig(
        seed=7,
        teacher="trust_region",
        centre_advantages=True,
        lr=5e-3,
        weight_decay=0.1,
        max_grad_norm=0.05,
        is_clip=2.0,
    ),
)
STEPS = 3


@pytest.fixture(autouse=True)
def _one_thread():
    with single_torch_thread():
        yield


@pytest.fixture(scope="module")
def samples(smol_tokenizer):
    def sample(question, answer, follow_up, old_logprob=None):
        ids = smol_tokenizer(answer)["input_ids"] + [smol_tokenizer.eos_token_id]
        old = None if old_logprob is None else [old_logprob] * len(ids)  # for the is_clip member
        return HindsightSample([{"role": "user", "content": question}], ids, follow_up, old)

    return [
        sample("What is rain?", "Rain is water falling from clouds.", "Shorter, please."),
        sample("Name a planet.", "Mars.", "Thanks!"),
        sample("Why is the sky blue?", "Because air scatters blue sunlight the most.", "Say more.", -12.0),
    ]


def _batches(samples):
    return [samples, samples[:2], samples[1:]]  # members' batches differ in size and length


def _population(tokenizer, configs, rows_per_pass=None):
    model = make_tiny_llama(tokenizer).double()
    stacked = StackedLoRA(model, configs[0], slots=len(configs))
    population = PopulationUpdater(model, tokenizer, stacked, rows_per_pass)
    for slot, config in enumerate(configs):
        stacked.init_slot(slot, config)
        population.add_member(slot, config)
    return population


def _single_state(updater):
    return {k.replace(".default", ""): v.detach() for k, v in updater.parameters.items()}


def _assert_same_records(got, want):
    a, b = got.to_dict(), want.to_dict()
    for key in a:
        if key == "seconds":
            continue
        if isinstance(a[key], float):
            assert a[key] == pytest.approx(b[key], rel=1e-9, abs=1e-15), key
        else:
            assert a[key] == b[key], key
    for row_got, row_want in zip(got.token_advantages(), want.token_advantages(), strict=True):
        assert row_got == pytest.approx(row_want, rel=1e-9, abs=1e-12)


def _assert_same_weights(got, want):
    assert list(got) == list(want)
    for key in want:
        torch.testing.assert_close(got[key], want[key], atol=1e-9, rtol=0)


@pytest.mark.parametrize("members", [1, 3])
def test_population_steps_equal_separate_sdpo_updaters(smol_tokenizer, samples, members):
    configs, batches = CONFIGS[:members], _batches(samples)[:members]
    singles = [SDPOUpdater(make_tiny_llama(smol_tokenizer).double(), smol_tokenizer, c) for c in configs]
    population = _population(smol_tokenizer, configs)
    history = []
    for _ in range(STEPS):
        history.append(population.step(dict(enumerate(batches))))
        for slot, (single, batch) in enumerate(zip(singles, batches, strict=True)):
            _assert_same_records(history[-1][slot], single.step(batch))
    for slot, single in enumerate(singles):
        _assert_same_weights(population.stacked.slot_state(slot), _single_state(single))
        assert population.steps(slot) == single.steps == STEPS
        assert population.applied_steps(slot) == single.applied_steps
    kl_every_second = [math.isnan(records[1].kl) for records in history if 1 in records]
    assert kl_every_second == ([False, True, False] if members > 1 else [])


@pytest.mark.parametrize(("rows_per_pass", "forwards"), [(None, 4), (2, 8)])
def test_a_members_update_does_not_depend_on_who_else_is_in_the_call(smol_tokenizer, samples, rows_per_pass, forwards):
    alone = _population(smol_tokenizer, CONFIGS[:1])
    crowd = _population(smol_tokenizer, CONFIGS, rows_per_pass)
    calls = []
    crowd.model.get_decoder().register_forward_hook(lambda *_: calls.append(1))
    batches = _batches(samples)
    for _ in range(2):
        record = alone.step({0: batches[0]})[0]
        together = crowd.step(dict(enumerate(batches)))[0]
        _assert_same_records(together, record)
    _assert_same_weights(crowd.stacked.slot_state(0), alone.stacked.slot_state(0))
    # per step: micro-batch 0 of all three members, then micro-batch 1 of the grad_accum=2 one,
    # each as teacher + student passes; a 2-row cap splits micro-batch 0 into three passes
    assert len(calls) == 2 * forwards


def test_a_member_with_broken_weights_skips_its_step_and_leaves_the_others_alone(smol_tokenizer, samples):
    alone, crowd = _population(smol_tokenizer, CONFIGS[1:2]), _population(smol_tokenizer, CONFIGS[:2])
    with torch.no_grad():
        crowd.stacked.parameters()[1][0].fill_(float("nan"))  # slot 0's first B factor
    batches = _batches(samples)
    records = crowd.step({0: batches[0], 1: batches[1]})
    assert records[0].skipped and records[0].reason == "non-finite loss"
    assert crowd.applied_steps(0) == 0 and crowd.steps(0) == 1
    _assert_same_records(records[1], alone.step({0: batches[1]})[0])
    _assert_same_weights(crowd.stacked.slot_state(1), alone.stacked.slot_state(0))


def test_written_out_adamw_equals_torch_adamw_on_the_same_gradients():
    gen = torch.Generator().manual_seed(0)
    start = torch.randn(3, 4, generator=gen, dtype=torch.float64)
    reference = torch.nn.Parameter(start.clone())
    optimizer = torch.optim.AdamW([reference], lr=3e-2, weight_decay=0.1)
    mine, state = start.clone(), AdamWState(lr=3e-2, weight_decay=0.1)
    for _ in range(5):
        grad = torch.randn(3, 4, generator=gen, dtype=torch.float64)
        reference.grad = grad.clone()
        optimizer.step()
        state.update([mine], [grad.clone()])
    assert torch.equal(mine, reference.detach())
    restored = AdamWState.from_state_dict(optimizer.state_dict(), [mine])
    assert restored.step == 5 and torch.equal(restored.exp_avg_sq[0], state.exp_avg_sq[0])
    saved = state.state_dict(1)
    assert torch.equal(saved["state"][0]["exp_avg"], optimizer.state_dict()["state"][0]["exp_avg"])
    assert saved["param_groups"] == optimizer.state_dict()["param_groups"]


def test_population_checkpoint_continues_in_a_single_updater_and_back(smol_tokenizer, samples, tmp_path):
    config, batch = CONFIGS[2], samples
    population = _population(smol_tokenizer, CONFIGS[:1] + (config,))
    single = SDPOUpdater(make_tiny_llama(smol_tokenizer).double(), smol_tokenizer, config)
    for _ in range(2):
        population.step({1: batch})
        single.step(batch)
    population.save(1, tmp_path / "from-population")
    single.save(tmp_path / "from-single")

    resumed_single = SDPOUpdater(make_tiny_llama(smol_tokenizer).double(), smol_tokenizer, config)
    resumed_single.load(tmp_path / "from-population")
    resumed_population = _population(smol_tokenizer, (config,))
    resumed_population.load(0, tmp_path / "from-single")
    assert resumed_population.steps(0) == resumed_single.steps == 2

    want = single.step(batch)
    _assert_same_records(resumed_single.step(batch), want)
    _assert_same_records(resumed_population.step({0: batch})[0], want)
    _assert_same_weights(_single_state(resumed_single), _single_state(single))
    _assert_same_weights(resumed_population.stacked.slot_state(0), _single_state(single))


def test_members_the_population_cannot_batch_are_refused_naming_the_option(smol_tokenizer):
    population = _population(smol_tokenizer, CONFIGS[:1])
    population.stacked.slots = 2  # room for one more member without building a second model
    with pytest.raises(ConfigError, match="teacher"):
        population.add_member(1, SDPOConfig(teacher="ema"))
    with pytest.raises(ConfigError, match="lora_r"):
        population.add_member(1, SDPOConfig(lora_r=4))
    with pytest.raises(ConfigError, match="matmul_precision"):
        population.add_member(1, SDPOConfig(matmul_precision="bf16"))
    with pytest.raises(ValueError, match="already has a member"):
        population.add_member(0, CONFIGS[0])
    with pytest.raises(ValueError, match="no member"):
        population.step({5: []})
    with pytest.raises(ValueError, match="rows_per_pass"):
        PopulationUpdater(population.model, smol_tokenizer, population.stacked, rows_per_pass=0)
