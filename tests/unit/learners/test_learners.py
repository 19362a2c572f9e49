"""Every learning arm on a 4-interaction episode of the real loop (tiny random Llama, rules user).

Weight arms must change their LoRA weights and nothing else; frozen and in-context arms must
change no weight; the in-context arms' system prompts must follow the persona / the user's
follow-ups; the control arm must train on unrelated messages; save + load must continue
exactly where the saved learner would have.
"""

from __future__ import annotations

import pytest
from tinymodels import make_tiny_llama, single_torch_thread

import simbench.learners  # noqa: F401  (registers the arms)
from simbench.config import build_config
from simbench.errors import InputError
from simbench.learners import LEARNERS
from simbench.runner.build import resolve_inputs
from simbench.runner.episode import EpisodeSpec, InteractionDone, ProbeDone, UpdateDone, run_episode
from simbench.runner.parts import build_parts

T, B, SWITCH = 4, 2, 2
WEIGHT_ARMS = ("sdpo-token", "sdpo-logit", "sdpo-unrelated", "sft-hindsight")
PROMPT_ARMS = (
    "frozen", "in-context-oracle", "in-context-oracle-user", "in-context-oracle-fewshot", "in-context-memory",
)
TWINS = ("sdpo-token+unrelated", "sdpo-logit+unrelated", "sft-hindsight+unrelated", "in-context-memory+unrelated")
PERSONA = f"""\
id: two-phase
name: Two phases
background: A tester.
interactions: {T}
schedule:
  - at: 0
    preferences: [concise]
  - at: {SWITCH}
    preferences: [no-emojis]
"""


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Two intra-op threads on tiny ops made runs ~20x slower on the loaded 2-core machine."""
    with single_torch_thread():
        yield


@pytest.fixture(scope="module")
def persona_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("persona") / "two-phase.yaml"
    path.write_text(PERSONA)
    return path


class Episode:
    """The parts, events and observed turn batches of one episode (plus weights before it)."""

    def __init__(self, persona_path, tokenizer, learner, options=None, turns=1):
        config = build_config(dict(
            persona=str(persona_path), learner=learner, interactions=T, batch_size=B,
            probe_every=B, turns=turns, probe_prompts=1, general_questions=0, max_new_tokens=5,
            learner_options=options or {},
        ))
        self.inputs = resolve_inputs(config)
        self.model = make_tiny_llama(tokenizer)
        self.tokenizer = tokenizer
        self.parts = build_parts(self.inputs, load=lambda name, device: (self.model, tokenizer))
        self.spec = EpisodeSpec(T, B, B, turns=turns, seed=config.seed)
        self.before = weights(self.model)
        self.batches = []
        observe = self.parts.learner.observe
        self.parts.learner.observe = lambda turns: (self.batches.append(list(turns)), observe(turns))[1]
        self.events = list(run_episode(self.parts, self.spec))

    def prompt_text(self, prompt_id):
        return next(p.text for p in self.inputs.train if p.id == prompt_id)

    def of(self, kind):
        return [e for e in self.events if isinstance(e, kind)]

    def interactions(self):
        return [e.record for e in self.of(InteractionDone)]

    def fresh_learner(self):
        """The same arm built anew on a fresh tiny model (what a resumed run starts from)."""
        model = make_tiny_llama(self.tokenizer)
        return build_parts(self.inputs, load=lambda name, device: (model, self.tokenizer)).learner


def weights(model):
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def changed(before, after):
    return {name for name in before if not before[name].equal(after[name])}


@pytest.fixture(scope="module")
def episodes(persona_path, smol_tokenizer):
    """Episode per arm (default options), built once and shared read-only."""
    cache = {}

    def get(learner):
        if learner not in cache:
            cache[learner] = Episode(persona_path, smol_tokenizer, learner)
        return cache[learner]

    return get


def test_registry_holds_every_arm_and_each_feedback_driven_learners_twin():
    assert set(LEARNERS.names()) == set(WEIGHT_ARMS) | set(PROMPT_ARMS) | set(TWINS)


def test_arms_that_ignore_feedback_have_no_unrelated_twin(persona_path, smol_tokenizer):
    for arm in ("frozen", "in-context-oracle"):
        with pytest.raises(InputError, match=f"^--learner: {arm} does not learn from follow-ups, so it has no "
                                             "unrelated-feedback twin .*sdpo-logit\\+unrelated"):
            Episode(persona_path, smol_tokenizer, f"{arm}+unrelated")


@pytest.mark.parametrize("learner", ["sdpo-logit+unrelated", "sft-hindsight+unrelated"])
def test_weight_twins_train_on_unrelated_messages(episodes, learner):
    episode = episodes(learner)
    updates = [e.record for e in episode.of(UpdateDone)]
    assert [(u.update, u.t) for u in updates] == [(0, 2), (1, 4)]
    assert all(u.stats["feedback"] == "unrelated" and not u.skipped for u in updates)
    moved = changed(episode.before, weights(episode.model))
    assert moved and all("lora_" in name for name in moved)


def test_memory_twin_remembers_unrelated_messages_not_the_users_follow_ups(episodes):
    from simbench.users.rules import UNRELATED_MESSAGES

    episode = episodes("in-context-memory+unrelated")
    follow_ups = {r.follow_up for r in episode.interactions()}
    memory = list(episode.parts.learner.memory)
    assert len(memory) == T and all(m in UNRELATED_MESSAGES and m not in follow_ups for m in memory)
    later = {system_of(r) for r in episode.interactions() if r.t >= B}
    assert all(system and "- " + memory[0] in system for system in later)


def test_the_old_control_name_is_the_token_twin(episodes):
    def trained_on(learner):
        return [(s["t"], s["follow_up"], s["advantages"]) for e in episodes(learner).of(UpdateDone)
                for s in e.token_signals]

    assert trained_on("sdpo-unrelated") == trained_on("sdpo-token+unrelated")


@pytest.mark.parametrize("learner", sorted(set(WEIGHT_ARMS) | set(PROMPT_ARMS)))
def test_every_learner_runs_a_short_episode(episodes, learner):
    episode = episodes(learner)
    assert [r.t for r in episode.interactions()] == list(range(T))
    assert [e.t for e in episode.of(ProbeDone)] == [0, 2, 4]
    assert [len(batch) for batch in episode.batches] == [B] * (T // B)
    updates = [e.record for e in episode.of(UpdateDone)]
    if learner in WEIGHT_ARMS:
        assert [(u.update, u.t) for u in updates] == [(0, 2), (1, 4)]
        assert not any(u.skipped for u in updates), [u.reason for u in updates]
        assert all(u.stats["loss"] is not None for u in updates)
    else:
        assert updates == []


@pytest.mark.parametrize("learner", WEIGHT_ARMS)
def test_weight_arms_change_their_lora_weights_only(episodes, learner):
    episode = episodes(learner)
    moved = changed(episode.before, weights(episode.model))
    assert moved, "no weight changed"
    assert all("lora_" in name for name in moved), sorted(moved)[:3]


@pytest.mark.parametrize("learner", PROMPT_ARMS)
def test_frozen_and_in_context_arms_change_no_weight(episodes, learner):
    episode = episodes(learner)
    assert changed(episode.before, weights(episode.model)) == set()


def system_of(record):
    first = record.messages[0]
    return first["content"] if first["role"] == "system" else None


def test_oracle_system_prompt_lists_the_active_preferences_and_switches_with_the_phase(episodes):
    episode = episodes("in-context-oracle")
    describe = episode.inputs.persona.preference
    concise, no_emojis = describe("concise").description, describe("no-emojis").description
    for record in episode.interactions():
        system = system_of(record)
        expected, absent = (concise, no_emojis) if record.t < SWITCH else (no_emojis, concise)
        assert system is not None and f"- {expected}" in system and absent not in system, record.t


def test_user_oracle_states_the_active_preferences_in_the_users_message_exactly(episodes):
    from simbench.learners.in_context import USER_NOTE_HEADER

    episode = episodes("in-context-oracle-user")
    describe = episode.inputs.persona.preference
    for record in episode.interactions():
        active = "concise" if record.t < SWITCH else "no-emojis"
        prompt = episode.prompt_text(record.prompt_id)
        assert record.messages == [
            {"role": "user", "content": f"{prompt}\n\n{USER_NOTE_HEADER} {describe(active).description}"}
        ], record.t
    probes = [r for e in episode.of(ProbeDone) for r in e.records]
    assert probes and all(r.response is not None for r in probes)


def test_user_oracle_leaves_later_turns_and_an_empty_phase_alone():
    from simbench.learners.in_context import USER_NOTE_HEADER, OracleUserLearner
    from simbench.persona.library import get_preference

    learner = OracleUserLearner()
    chat = [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A"},
            {"role": "user", "content": "Q2"}]
    framed = learner.frame(chat, [get_preference("lists"), get_preference("no-hedging")])
    assert framed[0]["content"] == (
        f"Q1\n\n{USER_NOTE_HEADER} {get_preference('lists').description} "
        f"{get_preference('no-hedging').description}"
    )
    assert framed[1:] == chat[1:] and chat[0]["content"] == "Q1"  # the input is not mutated
    assert learner.frame(chat, []) == chat


def test_fewshot_oracle_puts_checker_compliant_examples_before_the_stated_conversation(episodes):
    from simbench.learners.in_context import USER_NOTE_HEADER
    from simbench.learners.oracle_examples import EXAMPLES

    episode = episodes("in-context-oracle-fewshot")
    describe = episode.inputs.persona.preference
    for record in episode.interactions():
        active = describe("concise" if record.t < SWITCH else "no-emojis")
        messages = record.messages
        shots = messages[:-1]
        assert [m["role"] for m in shots] == ["user", "assistant"] * len(EXAMPLES)
        assert [m["content"] for m in shots[::2]] == [question for question, _ in EXAMPLES]
        for (question, answers), answer in zip(EXAMPLES, shots[1::2]):
            first_passing = next(a for a in answers if active.check(a).passed)
            assert answer["content"] == first_passing, (record.t, question)
        stated = f"{episode.prompt_text(record.prompt_id)}\n\n{USER_NOTE_HEADER} {active.description}"
        assert messages[-1] == {"role": "user", "content": stated}


def test_fewshot_oracle_can_state_the_preferences_in_the_system_prompt_instead():
    from simbench.learners.base import LearnerContext
    from simbench.learners.in_context import OracleFewShotLearner, OracleLearner
    from simbench.learners.oracle_examples import compliant_examples
    from simbench.persona.library import get_preference

    active = [get_preference("concise")]
    learner = OracleFewShotLearner(LearnerContext(None, None, 0, {"statement": "system"}))
    framed = learner.frame([{"role": "user", "content": "Q"}], active)
    assert framed[0] == {"role": "system", "content": OracleLearner().system_prompt(active)}
    assert [m["content"] for m in framed[1:-1]] == [text for pair in compliant_examples(active) for text in pair]
    assert framed[-1] == {"role": "user", "content": "Q"}
    with pytest.raises(ValueError, match="statement must be one of user, system, got 'both'"):
        OracleFewShotLearner(LearnerContext(None, None, 0, {"statement": "both"}))


def test_fewshot_examples_cover_every_builtin_preference_and_skip_impossible_sets():
    from simbench.learners.oracle_examples import EXAMPLES, compliant_examples
    from simbench.persona.library import BUILTIN, get_preference

    for pid, preference in BUILTIN.items():
        chosen = compliant_examples([preference])
        if not preference.verifiable:  # a rubric wish does not filter the examples
            assert chosen == compliant_examples([]), pid
            continue
        assert len(chosen) == len(EXAMPLES), pid
        assert all(preference.check(answer).passed for _, answer in chosen), pid
    # Concise and detailed together: no answer can pass both, so no example is shown.
    assert compliant_examples([get_preference("concise"), get_preference("detailed")]) == []


def test_frozen_arm_adds_no_system_prompt(episodes):
    assert all(system_of(r) is None for r in episodes("frozen").interactions())


def test_memory_arm_shows_recent_follow_ups_and_stays_bounded(persona_path, smol_tokenizer):
    episode = Episode(persona_path, smol_tokenizer, "in-context-memory", {"memory_size": 3}, turns=2)
    # The follow-ups in the order the learner observed them (turn by turn within a batch).
    observed = [[" ".join(turn.follow_up.split()) for turn in batch] for batch in episode.batches]
    assert [len(batch) for batch in observed] == [B * 2] * (T // B)
    records = episode.interactions()
    # Before any update the memory is empty; the second batch sees the first batch's last 3.
    assert all(system_of(r) is None for r in records if r.t < B)
    later = {system_of(r) for r in records if r.t >= B}
    assert len(later) == 1
    shown = later.pop().splitlines()[1:]
    assert shown == [f"- {text}" for text in observed[0][-3:]]
    assert list(episode.parts.learner.memory) == observed[-1][-3:]


def test_memory_size_below_one_is_refused_naming_the_option(persona_path, smol_tokenizer):
    with pytest.raises(InputError, match="^--learner-option: in-context-memory: memory_size must be >= 1"):
        Episode(persona_path, smol_tokenizer, "in-context-memory", {"memory_size": 0})


def test_bad_sdpo_option_is_refused_naming_the_option(persona_path, smol_tokenizer):
    with pytest.raises(InputError, match="^--learner-option: sdpo-token: .*lr"):
        Episode(persona_path, smol_tokenizer, "sdpo-token", {"lr": -1})


def test_unrelated_control_trains_on_unrelated_messages(episodes):
    from simbench.users.rules import UNRELATED_MESSAGES

    episode = episodes("sdpo-unrelated")
    follow_ups = {r.t: r.follow_up for r in episode.interactions()}
    updates = episode.of(UpdateDone)
    assert all(u.record.stats["feedback"] == "unrelated" for u in updates)
    signals = [s for u in updates for s in u.token_signals]
    assert signals
    for signal in signals:
        assert signal["follow_up"] in UNRELATED_MESSAGES
        assert signal["follow_up"] != follow_ups[signal["t"]]


def test_sdpo_token_trains_on_the_users_follow_ups(episodes):
    episode = episodes("sdpo-token")
    follow_ups = {r.t: r.follow_up for r in episode.interactions()}
    updates = episode.of(UpdateDone)
    assert all(u.record.stats["feedback"] == "user" for u in updates)
    signals = [s for u in updates for s in u.token_signals]
    assert signals and all(s["follow_up"] == follow_ups[s["t"]] for s in signals)
    assert all(len(s["tokens"]) == len(s["advantages"]) for s in signals)


def comparable(result):
    if result is None:
        return None
    stats = {k: v for k, v in result.stats.items() if k != "seconds"}  # wall clock
    return result.skipped, stats


@pytest.mark.parametrize("learner", ["sdpo-token", "sdpo-logit", "sft-hindsight", "in-context-memory"])
def test_save_then_load_continues_exactly_like_the_saved_learner(persona_path, smol_tokenizer, learner, tmp_path):
    episode = Episode(persona_path, smol_tokenizer, learner)  # its own: this test trains further
    saved = episode.parts.learner
    saved.save(tmp_path / "learner")
    restored = episode.fresh_learner()
    restored.load(tmp_path / "learner")

    preferences = [episode.inputs.persona.preference("no-emojis")]
    assert restored.system_prompt(preferences) == saved.system_prompt(preferences)
    if learner in WEIGHT_ARMS:
        assert weights(restored.model).keys() == weights(saved.model).keys()
        assert changed(weights(saved.model), weights(restored.model)) == set()
    # One more update on the same batch: same loss, same stats, same weights afterwards.
    last_batch = episode.batches[-1]
    assert comparable(restored.observe(last_batch)) == comparable(saved.observe(last_batch))
    if learner in WEIGHT_ARMS:
        assert changed(weights(saved.model), weights(restored.model)) == set()
    else:
        assert list(restored.memory) == list(saved.memory)
