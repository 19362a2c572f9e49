"""What a model does with feedback in context, and how SDPO learns from it: the preset's table.

Per model, on the held-out probe pool (greedy, answers capped like the teachability map):
- `frozen`: answers without feedback, scored by every built-in checker (the preset's leak is
  its frozen adherence minus the base model's, paired by probe);
- `read_relevant` / `read_unrelated`: answers with a follow-up in the SDPO teacher's
  hindsight format, the simulated user's own complaint for the preference (held out from the
  recipe) vs an unrelated message of the control arm; the difference is how well the model
  *reads* feedback, which is what the hindsight teacher's advantage is made of;
- `oracle`: the in-context oracle arm's framing (preference stated in the system prompt);
- `general`: the general-knowledge questions every run probes (capability drift);
- `micro`: the teachability map's relevant-vs-unrelated SDPO micro-run, per seed.
Every list is one bool per probe in pool order, so any two cells pair by probe.
"""

from __future__ import annotations

import random
import time
from typing import Any, Callable, Sequence

from sdpo.hindsight import DEFAULT_HINDSIGHT_TEMPLATE, hindsight_messages
from simbench.learners.in_context import OracleLearner
from simbench.persona.library import BUILTIN, verifiable_ids
from simbench.preset.data import generate_samples
from simbench.prompts import load_general, load_prompts, score_general
from simbench.teaching.measure import TeachabilitySettings, measure_rows
from simbench.users.rules import unrelated_message

Messages = list[dict[str, str]]


def greedy_answers(model: Any, tokenizer: Any, chats: Sequence[Messages], max_new_tokens: int) -> list[str]:
    samples = generate_samples(model, tokenizer, [], 0, max_new_tokens, 0.0, chats=[tuple(c) for c in chats])
    return [s.text for s in samples]


def relevant_follow_up(pid: str, index: int) -> str:
    """The simulated user's complaint for `pid` on probe `index` (seeded by both)."""
    return random.Random(f"{pid}:{index}").choice(BUILTIN[pid].complaints)


def chat(cell: str, prompt: str, index: int, pid: str | None = None) -> Messages:
    """Probe `index`'s chat as `cell` frames it (`pid` names the preference of the last two)."""
    user = [{"role": "user", "content": prompt}]
    if cell == "frozen":
        return user
    if cell == "read_unrelated":
        return hindsight_messages(user, unrelated_message(random.Random(index)), DEFAULT_HINDSIGHT_TEMPLATE)
    assert pid is not None
    if cell == "read_relevant":
        return hindsight_messages(user, relevant_follow_up(pid, index), DEFAULT_HINDSIGHT_TEMPLATE)
    system = OracleLearner().system_prompt([BUILTIN[pid]])
    assert system is not None  # the oracle always states a non-empty set of preferences
    return [{"role": "system", "content": system}, *user]  # oracle


def in_context(model: Any, tokenizer: Any, preferences: Sequence[str], probes: int, max_new_tokens: int,
               tick: Callable[[str], None]) -> dict[str, Any]:
    """Frozen, read-unrelated (all checkers), read-relevant and oracle (per preference), general."""
    prompts = [p.text for p in load_prompts("builtin:probe")[:probes]]
    result: dict[str, Any] = {}
    for cell in ("frozen", "read_unrelated"):
        answers = greedy_answers(model, tokenizer, [chat(cell, p, i) for i, p in enumerate(prompts)], max_new_tokens)
        result[cell] = {pid: [BUILTIN[pid].check(a).passed for a in answers] for pid in verifiable_ids()}
        tick(cell)
    for cell in ("read_relevant", "oracle"):
        result[cell] = {}
        for pid in preferences:
            chats = [chat(cell, p, i, pid) for i, p in enumerate(prompts)]
            answers = greedy_answers(model, tokenizer, chats, max_new_tokens)
            result[cell][pid] = [BUILTIN[pid].check(a).passed for a in answers]
            tick(f"{cell} {pid}")
    general = load_general()
    answers = greedy_answers(model, tokenizer, [[{"role": "user", "content": q.question}] for q in general], 48)
    result["general"] = [score_general(a, q) for a, q in zip(answers, general)]
    tick("general")
    return result


def sdpo_micro(load: Callable[[], tuple[Any, Any]], preferences: Sequence[str], seeds: Sequence[int], probes: int,
               max_new_tokens: int, micro_steps: int, lr: float, tick: Callable[[str], None]) -> dict[str, Any]:
    """{pid: {seed: {"relevant": [...], "unrelated": [...], "frozen": share}}}: the teachability
    micro-run of each preference, a freshly loaded model per seed (same LoRA init per seed)."""

    train, pool = load_prompts("builtin:train"), load_prompts("builtin:probe")[:probes]
    out: dict[str, Any] = {pid: {} for pid in preferences}
    for seed in seeds:
        started = time.perf_counter()
        model, tokenizer = load()
        settings = TeachabilitySettings(preferences=tuple(preferences), max_new_tokens=max_new_tokens,
                                        probes=probes, micro_steps=micro_steps, seed=seed,
                                        learner_options=(("lr", lr),))
        rows = measure_rows(model, tokenizer, [BUILTIN[p] for p in preferences], train, pool, settings)
        for row in rows:
            out[row.preference][str(seed)] = {
                "relevant": list(row.micro.relevant_passes), "unrelated": list(row.micro.unrelated_passes),
                "frozen": row.frozen_adherence, "seconds": round(time.perf_counter() - started, 1)}
        tick(f"micro seed {seed}")
    return out
