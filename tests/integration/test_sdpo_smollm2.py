"""Real SmolLM2-135M: a few SDPO steps with "keep it to one or two sentences" teach the policy
to stop after its first sentences, clearly more than the same steps with an unrelated reply.

The responses are SmolLM2's own greedy answers (first three sentences), stored as text so the
test does not spend minutes generating them. Measured on 2026-11-26 (token loss, 4 steps,
lr 1e-3, LoRA r=8 q,k,v,o): mean P(end-of-turn) after the 1st/2nd sentence went
0.0001 -> 0.66 (held-out prompts) / 0.003 -> 0.47 (trained prompts) with the relevant
follow-up and 0.0001 -> 0.17 / 0.003 -> 0.24 with the unrelated one.
"""

from __future__ import annotations

import re

import pytest
import torch

from sdpo.config import SDPOConfig
from sdpo.hindsight import HindsightSample
from sdpo.models import load_policy
from sdpo.scoring import full_distribution_at
from sdpo.updater import SDPOUpdater

TRAIN = [
    (
        "What is photosynthesis?",
        "Photosynthesis is a vital biological process that occurs in plants, algae, and some bacteria, where they"
        " convert light energy from the sun into chemical energy stored in glucose and oxygen. This process is"
        " essential for life on Earth as it provides the primary energy source for nearly all ecosystems. The"
        " process involves the conversion of carbon dioxide (CO2) into glucose (C6H12O6) and oxygen (O2) through a"
        " series of enzymatic reactions.",
    ),
    (
        "Why is the sky blue?",
        "The answer to this question lies in the intricate dance of light and color. The sky appears blue because"
        " of a phenomenon known as Rayleigh scattering. This occurs when light encounters molecules of air, which"
        " scatter the shorter wavelengths of light, particularly the blue light, in a way that blue appears to be"
        " the most scattered.",
    ),
    (
        "How do vaccines work?",
        "Vaccines work by introducing a weakened or inactivated form of a disease-causing organism into the body to"
        " prevent or treat infection. The process begins with a vaccine, which is a weakened or inactivated form of"
        " the disease-causing organism. The vaccine is then administered to the individual, usually through"
        " injection, and the immune system is trained to recognize and respond to the vaccine.",
    ),
    (
        "What causes earthquakes?",
        "Earthquakes are caused by the movement of the Earth's crust, specifically by the movement of tectonic"
        " plates. This movement occurs when there is a change in the Earth's temperature and composition, which can"
        " be caused by the movement of tectonic plates. When these plates move, they can be pushed or pulled apart,"
        " causing rocks to shift and move.",
    ),
]
HELD_OUT = [
    (
        "What is inflation in economics?",
        "Inflation is a fundamental economic concept that refers to the rate at which the general price level of"
        " goods and services in an economy is rising over time. It's a measure of the money supply and is"
        " influenced by factors such as inflation rates, monetary policy, and fiscal policies. In essence, inflation"
        " is a measure of the money supply's ability to keep pace with the general price level of goods and"
        " services in an economy.",
    ),
    (
        "How does a refrigerator keep food cold?",
        'The refrigerator is designed to keep food cold by using a process called "frosting" or "frosting'
        ' machines." These machines use a device called a "frosting machine" to create a layer of frost that coats'
        ' the inside of the refrigerator. This frosting is made of a material called "frost" or "frosting," which'
        " is a type of liquid that melts at a specific temperature.",
    ),
    (
        "Why do we need sleep?",
        "Sleep is essential for maintaining physical and mental health. It's a necessary restorative process that"
        " allows the body and mind to repair and rejuvenate itself. Without adequate sleep, our bodies and minds can"
        " experience fatigue, decreased productivity, and impaired cognitive function.",
    ),
]
RELEVANT = "That was way too long. Keep it to one or two sentences."
UNRELATED = "By the way, I'm planning a trip to Spain next month."
STEPS = 4


def _sentence_ends(tokenizer, ids, count=2):
    """Response indices right after the first `count` sentence-ending tokens."""
    ends = []
    for k in range(1, len(ids)):
        if re.search(r"[.!?][\"')]*$", tokenizer.decode(ids[:k]).rstrip()) and not re.search(
            r"[.!?][\"')]*$", tokenizer.decode(ids[: k - 1]).rstrip()
        ):
            if tokenizer.decode(ids[k : k + 1])[:1].isspace():
                ends.append(k)
        if len(ends) == count:
            return ends
    raise AssertionError(f"fewer than {count} sentences in {tokenizer.decode(ids)!r}")


def _stop_probability(model, tokenizer, cases):
    """Mean P(end-of-turn) right after the 1st and 2nd sentence, under the plain context."""
    values = []
    for prompt, ids in cases:
        probs = full_distribution_at(
            model, tokenizer, [{"role": "user", "content": prompt}], ids, _sentence_ends(tokenizer, ids)
        )
        values.extend(probs[:, tokenizer.eos_token_id].tolist())
    return sum(values) / len(values)


def _train(follow_up):
    torch.manual_seed(0)
    # A fresh copy per arm: the LoRA adapters are injected into the model in place.
    model, tokenizer = load_policy("smollm2-135m")
    encode = lambda text: tokenizer(text, add_special_tokens=False)["input_ids"]  # noqa: E731
    train = [(p, encode(r)) for p, r in TRAIN]
    held = [(p, encode(r)) for p, r in HELD_OUT]
    updater = SDPOUpdater(model, tokenizer, SDPOConfig(loss="token", lr=1e-3, lora_r=8, seed=0))
    before = (_stop_probability(updater.model, tokenizer, train), _stop_probability(updater.model, tokenizer, held))
    batch = [HindsightSample([{"role": "user", "content": p}], ids, follow_up) for p, ids in train]
    records = [updater.step(batch) for _ in range(STEPS)]
    assert not any(r.skipped for r in records)
    after = (_stop_probability(updater.model, tokenizer, train), _stop_probability(updater.model, tokenizer, held))
    return before, after, records


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_relevant_follow_up_teaches_stopping_after_the_first_sentences_more_than_an_unrelated_one():
    before, relevant, records = _train(RELEVANT)
    _, unrelated, _ = _train(UNRELATED)
    print(f"\nP(stop) train/held: before {before}, relevant {relevant}, unrelated {unrelated}")
    print("relevant-arm records:", [r.to_dict() for r in records])
    assert max(before) < 0.05
    # the stop decision is learnt on prompts never trained on ...
    assert relevant[1] > 0.3
    # ... and clearly more with the relevant follow-up (measured gains: 3.8x held-out, 2.0x trained)
    assert relevant[1] - before[1] > 2 * (unrelated[1] - before[1])
    assert relevant[0] - before[0] > 1.4 * (unrelated[0] - before[0])
    # most response tokens get a negative advantage: the continuation past the stop point
    assert records[0].advantage_mean < 0 and records[0].negative_share > 0.5
