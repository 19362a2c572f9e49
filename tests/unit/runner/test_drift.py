"""Collateral-drift scoring on a tiny random Llama: NLL and KL to the frozen model, with LoRA
adapters switched off for the frozen side, and the drift log of a real tiny run."""

from __future__ import annotations

import pytest
from tiny_runs import one_torch_thread, records, run_tiny, tiny_config, write_persona  # noqa: F401
from tinymodels import make_tiny_llama

from simbench.prompts import GeneralQuestion, Prompt, load_drift_texts
from simbench.runner.drift import DriftScorer, drift_items

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TEXTS = [Prompt("t1", "The library opens at nine on weekdays."), Prompt("t2", "Water boils at 100 degrees.")]
QUESTIONS = [GeneralQuestion("q1", "What is 7 times 8?", "56")]


def lora(model, seed=0):
    """`model` with LoRA adapters whose B matrices are random (a LoRA that moved)."""
    import torch

    from sdpo.adapters import attach_lora
    from sdpo.config import SDPOConfig

    wrapped = attach_lora(model, SDPOConfig(lora_r=4, target_modules=("q_proj", "v_proj"), seed=seed))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in wrapped.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.5)
    return wrapped.eval()


def test_unchanged_model_has_zero_kl_and_equal_nll(smol_tokenizer):
    scorer = DriftScorer(make_tiny_llama(smol_tokenizer), smol_tokenizer, drift_items(TEXTS, QUESTIONS))
    out = scorer(0)
    assert [(r.t, r.id, r.kind) for r in out] == [(0, "t1", "text"), (0, "t2", "text"), (0, "q1", "qa")]
    for record in out:
        assert record.kl == pytest.approx(0.0, abs=1e-6)
        assert record.nll == pytest.approx(record.nll_frozen, abs=1e-6) and record.nll > 0
    # A text scores every token after its first; a question scores its answer's tokens.
    assert out[0].tokens == len(smol_tokenizer(TEXTS[0].text, add_special_tokens=False)["input_ids"]) - 1
    assert out[2].tokens == len(smol_tokenizer("56", add_special_tokens=False)["input_ids"])


def test_moved_adapters_show_drift_and_the_frozen_side_is_the_base_model(smol_tokenizer):
    items = drift_items(TEXTS, QUESTIONS)
    before = DriftScorer(make_tiny_llama(smol_tokenizer), smol_tokenizer, items)(0)
    after = DriftScorer(lora(make_tiny_llama(smol_tokenizer)), smol_tokenizer, items)(8)
    for old, new in zip(before, after):
        assert new.nll_frozen == pytest.approx(old.nll, abs=1e-5)  # adapters off = the base model
        assert new.kl > 1e-4 and new.nll != pytest.approx(new.nll_frozen, abs=1e-4)


def test_a_system_prompt_moves_the_answers_but_not_plain_text(smol_tokenizer):
    # An in-context arm changes no weight: its drift is its framing, on the questions only.
    from simbench.backends.base import with_system_prompt

    scorer = DriftScorer(make_tiny_llama(smol_tokenizer), smol_tokenizer, drift_items(TEXTS, QUESTIONS))
    text, _, qa = scorer(0, lambda messages: with_system_prompt(messages, "Always answer in French."))
    assert text.kl == pytest.approx(0.0, abs=1e-6)
    assert qa.kl > 1e-6


def test_builtin_drift_texts_load():
    texts = load_drift_texts()
    assert len(texts) >= 4 and len({t.id for t in texts}) == len(texts)


def test_a_run_logs_drift_at_every_probe(tmp_path, smol_tokenizer):
    persona = write_persona(tmp_path)
    result = run_tiny(tiny_config(persona), tmp_path / "run", smol_tokenizer)
    assert result.status == "complete", result.message
    drift = records(result.run_dir, "drift")
    n_items = len(load_drift_texts()) + 1  # the run asks one general question
    assert [r["t"] for r in drift] == [t for t in (0, 2, 4, 6, 8) for _ in range(n_items)]
    assert all(r["kl"] == pytest.approx(0.0, abs=1e-6) for r in drift if r["t"] == 0)
    assert any(r["kl"] > 0 for r in drift if r["t"] == 8)  # sdpo-token moved its LoRA
    from simbench.metrics import load_run_logs, summarise_run

    collateral = summarise_run(load_run_logs(result.run_dir)).collateral_drift
    assert collateral.measured and collateral.t == [0, 2, 4, 6, 8] and collateral.items == n_items
