"""The episode loop: a persona talks to a learning policy. Pure: no files, no printing.

`run_episode` yields events (interactions, updates, probes, batch ends) that the run layer
writes and checkpoints. Interactions are processed one update batch at a time so the B
generations of a batch run as one batched call; every random draw comes from a seed derived
from (run seed, purpose, interaction, turn), so a run resumed at a batch boundary replays an
uninterrupted one exactly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence, Union

from simbench.backends.base import Generation, GenerationRequest, PolicyBackend
from simbench.learners.base import Learner, Turn, framed_messages
from simbench.logs.schema import (
    DriftRecord,
    GeneralRecord,
    InteractionRecord,
    ProbeRecord,
    UpdateLogRecord,
)
from simbench.persona.preference import Preference
from simbench.prompts import GeneralQuestion, Prompt, score_general
from simbench.scoring import CHECKERS_ONLY, Scorer
from simbench.seeding import derive_rng, derive_seed
from simbench.users.base import FollowUpRequest, UserSimulator


@dataclass(frozen=True)
class EpisodeSpec:
    """The shape of an episode: length, turns, update batch, probe schedule, seed."""

    interactions: int
    batch_size: int
    probe_every: int
    turns: int = 1
    seed: int = 0


@dataclass
class EpisodeParts:
    """The objects an episode drives. `active(t)` is the persona's schedule (pure)."""

    active: Callable[[int], tuple[str, ...]]
    preference: Callable[[str], Preference]
    ever: tuple[str, ...]
    train_prompts: Sequence[Prompt]
    probe_prompts: Sequence[Prompt]
    backend: PolicyBackend
    user: UserSimulator
    learner: Learner
    general: Sequence[GeneralQuestion] = ()
    # Scores fixed texts under the policy and the frozen model: (t, framing of a chat) -> records.
    drift: Callable[[int, Callable[[list[dict[str, str]]], list[dict[str, str]]]], list[DriftRecord]] | None = None
    # Decides each probe check: checkers, and the run's judge (if any) for rubric preferences.
    scorer: Scorer = CHECKERS_ONLY


@dataclass(frozen=True)
class InteractionDone:
    record: InteractionRecord


@dataclass(frozen=True)
class UpdateDone:
    record: UpdateLogRecord
    token_signals: list


@dataclass(frozen=True)
class ProbeDone:
    t: int
    records: list[ProbeRecord]
    general: list[GeneralRecord]
    drift: list[DriftRecord] = field(default_factory=list)


@dataclass(frozen=True)
class BatchDone:
    """All records of interactions < t are out: a safe checkpoint position."""

    t: int


Event = Union[InteractionDone, UpdateDone, ProbeDone, BatchDone]


def training_prompt(prompts: Sequence[Prompt], seed: int, t: int) -> Prompt:
    """The prompt of interaction t: a fresh seeded permutation of the pool every epoch."""
    epoch, index = divmod(t, len(prompts))
    order = list(range(len(prompts)))
    derive_rng(seed, "prompt-order", epoch).shuffle(order)
    return prompts[order[index]]


def probe_times(spec: EpisodeSpec) -> list[int]:
    """Probe positions: t = 0, every `probe_every` interactions, and the end."""
    times = list(range(0, spec.interactions, spec.probe_every))
    return times + [spec.interactions] if times[-1] != spec.interactions else times


def run_episode(parts: EpisodeParts, spec: EpisodeSpec, start: int = 0) -> Iterator[Event]:
    """Run interactions [start, T); probe at t = 0 (if start == 0), every Δ, and at the end."""
    if start == 0:
        yield probe(parts, spec, 0)
    for batch_start in range(start, spec.interactions, spec.batch_size):
        batch = range(batch_start, min(batch_start + spec.batch_size, spec.interactions))
        turns: list[Turn] = []
        for done, turn in converse(parts, spec, batch):
            turns.append(turn)
            yield done
        t_done = batch[-1] + 1
        started = time.perf_counter()
        result = parts.learner.observe(turns)
        if result is not None:
            record = UpdateLogRecord(
                update=batch_start // spec.batch_size,
                t=t_done,
                skipped=result.skipped,
                reason=result.reason,
                stats=result.stats,
                seconds=time.perf_counter() - started,
            )
            yield UpdateDone(record, result.token_signals)
        if t_done % spec.probe_every == 0 or t_done == spec.interactions:
            yield probe(parts, spec, t_done)
        yield BatchDone(t_done)


def converse(
    parts: EpisodeParts, spec: EpisodeSpec, batch: range
) -> Iterator[tuple[InteractionDone, Turn]]:
    """The conversations of one update batch: each turn's generations are one batched call,
    and so are the user's follow-ups to them."""
    prompts = {t: training_prompt(parts.train_prompts, spec.seed, t) for t in batch}
    active = {t: parts.active(t) for t in batch}
    preferences = {t: [parts.preference(pid) for pid in active[t]] for t in batch}
    histories = {t: [{"role": "user", "content": prompts[t].text}] for t in batch}
    for turn in range(spec.turns):
        requests = [
            GenerationRequest(
                messages=tuple(framed_messages(parts.learner, histories[t], preferences[t])),
                seed=derive_seed(spec.seed, "generate", t, turn),
            )
            for t in batch
        ]
        started = time.perf_counter()
        outputs = parts.backend.generate(requests)
        generate_seconds = (time.perf_counter() - started) / len(batch)
        asks = [
            FollowUpRequest(histories[t][-1]["content"], output.text, preferences[t],
                            derive_rng(spec.seed, "user", t, turn))
            for t, output in zip(batch, outputs)
        ]
        started = time.perf_counter()
        # One call per batch: an LLM user answers the batch's turns concurrently.
        follow_ups = parts.user.follow_up_many(asks)
        user_seconds = (time.perf_counter() - started) / len(batch)
        for t, request, output, follow_up in zip(batch, requests, outputs, follow_ups):
            record = InteractionRecord(
                t=t,
                turn=turn,
                prompt_id=prompts[t].id,
                messages=list(request.messages),
                response=output.text,
                follow_up=follow_up.text,
                violated=list(follow_up.violated),
                active=list(active[t]),
                irrelevant=bool(follow_up.meta.get("irrelevant", False)),
                tokens=len(output.token_ids),
                seconds={"generate": generate_seconds, "user": user_seconds},
                user_meta={k: v for k, v in follow_up.meta.items() if k != "irrelevant"},
            )
            yield InteractionDone(record), Turn(
                t=t,
                turn=turn,
                messages=request.messages,
                response_text=output.text,
                response_ids=output.token_ids,
                follow_up=follow_up.text,
                active=active[t],
                stopped=output.finish_reason == "stop",
            )
            histories[t] += [
                {"role": "assistant", "content": output.text},
                {"role": "user", "content": follow_up.text},
            ]


def probe(parts: EpisodeParts, spec: EpisodeSpec, t: int) -> ProbeDone:
    """Greedy answers to every probe prompt, each checked against every preference ever held.

    The framing (system prompt, stated preferences, examples) is the one in force for the
    interactions just finished (t - 1), so an in-context arm is probed with the preferences
    it was last told.
    """
    active = [parts.preference(pid) for pid in parts.active(max(t - 1, 0))]
    questions = [p.text for p in parts.probe_prompts] + [q.question for q in parts.general]
    started = time.perf_counter()
    outputs = generate_greedy(parts.backend, parts.learner, active, questions, spec.seed, t)
    share = (time.perf_counter() - started) / max(len(outputs), 1)
    answered = list(zip(parts.probe_prompts, outputs))
    ever = [parts.preference(pid) for pid in parts.ever]
    outcomes = iter(parts.scorer.outcomes([(p, prompt.text, output.text) for prompt, output in answered for p in ever]))
    records = [
        ProbeRecord(
            t=t,
            probe_id=prompt.id,
            prompt=prompt.text,
            response=output.text,
            checks={p.id: next(outcomes) for p in ever},
            tokens=len(output.token_ids),
            seconds=share,
        )
        for prompt, output in answered
    ]
    general = [
        GeneralRecord(t=t, id=q.id, response=output.text, correct=score_general(output.text, q))
        for q, output in zip(parts.general, outputs[len(parts.probe_prompts) :])
    ]
    drift = (parts.drift(t, lambda messages: framed_messages(parts.learner, messages, active))
             if parts.drift is not None else [])
    return ProbeDone(t, records, general, drift)


def generate_greedy(
    backend: PolicyBackend,
    learner: Learner,
    active: Sequence[Preference],
    questions: Sequence[str],
    seed: int,
    t: int,
) -> list[Generation]:
    """Greedy answers to single-turn `questions`, framed by `learner` as in its interactions."""
    requests = [
        GenerationRequest(
            messages=tuple(framed_messages(learner, [{"role": "user", "content": q}], active)),
            seed=derive_seed(seed, "probe", t, i),
            greedy=True,
        )
        for i, q in enumerate(questions)
    ]
    return backend.generate(requests) if requests else []

