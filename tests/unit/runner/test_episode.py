"""A full short episode through the real loop (tiny random Llama, rules user, sdpo-token).

Checks what the episode promises: preference phases switch exactly at `at`, probes at t = 0,
every Δ and at the end, one record per assistant turn that got a follow-up (multi-turn
histories included), one update per batch, and every ever-held preference checked.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from tiny_runs import one_torch_thread, records, run_tiny, tiny_config, write_persona  # noqa: F401

from simbench.runner.episode import EpisodeSpec, probe_times, training_prompt

pytestmark = pytest.mark.usefixtures("one_torch_thread")

T, B, PROBE_EVERY, TURNS, SWITCH, PROBE_PROMPTS, GENERAL = 8, 2, 2, 2, 4, 2, 1


@pytest.fixture(scope="module")
def episode(tmp_path_factory, smol_tokenizer, one_torch_thread):  # noqa: F811
    """One complete 2-turn sdpo-token run, shared by the checks below (read-only)."""
    folder = tmp_path_factory.mktemp("episode")
    config = tiny_config(
        write_persona(folder, switch=SWITCH),
        interactions=T, batch_size=B, probe_every=PROBE_EVERY, turns=TURNS,
        probe_prompts=PROBE_PROMPTS, general_questions=GENERAL,
    )
    result = run_tiny(config, folder / "run", smol_tokenizer)
    assert result.status == "complete", result.message
    return result.run_dir


def test_phase_switches_exactly_at_its_interaction_index(episode):
    active = {(r["t"], r["turn"]): r["active"] for r in records(episode, "interactions")}
    assert active, "no interaction records"
    for (t, _), preferences in active.items():
        assert preferences == (["concise"] if t < SWITCH else ["no-emojis"]), t


def test_probes_run_at_zero_every_probe_every_and_the_end(episode):
    probes = records(episode, "probes")
    expected_times = list(range(0, T + 1, PROBE_EVERY))
    assert sorted(Counter(r["t"] for r in probes)) == expected_times
    assert probe_times(EpisodeSpec(T, B, PROBE_EVERY)) == expected_times
    manifest = json.loads((episode / "manifest.json").read_text())
    probe_ids = manifest["prompts"]["probe"]["ids"]
    assert len(probe_ids) == PROBE_PROMPTS
    for t in expected_times:
        assert sorted(r["probe_id"] for r in probes if r["t"] == t) == sorted(probe_ids)
    general = records(episode, "general")
    assert Counter(r["t"] for r in general) == {t: GENERAL for t in expected_times}


def test_every_probe_checks_every_preference_the_persona_ever_holds(episode):
    for record in records(episode, "probes"):
        assert set(record["checks"]) == {"concise", "no-emojis"}
        for outcome in record["checks"].values():
            assert isinstance(outcome["passed"], bool)


def test_record_counts_match_the_episode_shape(episode):
    interactions = records(episode, "interactions")
    assert len(interactions) == T * TURNS
    assert Counter((r["t"], r["turn"]) for r in interactions) == {
        (t, turn): 1 for t in range(T) for turn in range(TURNS)
    }
    updates = records(episode, "updates")
    assert len(updates) == T // B
    assert [(u["update"], u["t"]) for u in updates] == [(k, (k + 1) * B) for k in range(T // B)]
    # Every assistant turn that got a follow-up reaches the learner: B x turns samples.
    assert all(u["stats"]["samples"] == B * TURNS for u in updates if not u["skipped"])
    assert len(records(episode, "probes")) == len(probe_times(EpisodeSpec(T, B, PROBE_EVERY))) * PROBE_PROMPTS


def test_second_turn_answers_the_first_follow_up(episode):
    by_key = {(r["t"], r["turn"]): r for r in records(episode, "interactions")}
    for t in range(T):
        first, second = by_key[(t, 0)], by_key[(t, 1)]
        assert first["messages"][-1]["role"] == "user"
        assert second["messages"] == first["messages"] + [
            {"role": "assistant", "content": first["response"]},
            {"role": "user", "content": first["follow_up"]},
        ]
        assert second["prompt_id"] == first["prompt_id"]
        assert second["follow_up"].strip()


def test_complete_run_leaves_manifest_and_latest_checkpoint(episode):
    manifest = json.loads((episode / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["position"] == T
    assert manifest["persona"]["ever"] == ["concise", "no-emojis"]
    assert [p["at"] for p in manifest["persona"]["schedule"]] == [0, SWITCH]
    assert len(manifest["persona"]["file_sha256"]) == 64
    latest = (episode / "checkpoints" / "LATEST").read_text().strip()
    assert latest == f"ckpt-{T:07d}"
    state = json.loads((episode / "checkpoints" / latest / "state.json").read_text())
    assert state["t"] == T
    # The checkpoint's log lengths are the full logs: nothing was written after it.
    for name, size in state["log_sizes"].items():
        assert (episode / f"{name}.jsonl").stat().st_size == size, name
    assert len(list((episode / "checkpoints").glob("ckpt-*"))) <= 2


def test_unaligned_phase_switch_applies_mid_batch(tmp_path, smol_tokenizer):
    """A phase starting inside an update batch still starts at exactly its `at`."""
    config = tiny_config(write_persona(tmp_path, switch=3), learner="frozen", interactions=4,
                         probe_every=4, general_questions=0, max_new_tokens=3)
    result = run_tiny(config, tmp_path / "run", smol_tokenizer)
    assert result.status == "complete"
    active = [r["active"] for r in sorted(records(result.run_dir, "interactions"), key=lambda r: r["t"])]
    assert active == [["concise"]] * 3 + [["no-emojis"]]
    assert records(result.run_dir, "updates") == []  # the frozen arm never updates


def test_probe_times_end_with_a_partial_last_stretch():
    assert probe_times(EpisodeSpec(interactions=7, batch_size=1, probe_every=2)) == [0, 2, 4, 6, 7]
    assert probe_times(EpisodeSpec(interactions=8, batch_size=2, probe_every=16)) == [0, 8]


def test_training_prompts_visit_the_whole_pool_each_epoch_in_a_seeded_order():
    pool = [f"p{i}" for i in range(5)]
    first_epoch = [training_prompt(pool, seed=3, t=t) for t in range(5)]
    second_epoch = [training_prompt(pool, seed=3, t=t) for t in range(5, 10)]
    assert sorted(first_epoch) == sorted(second_epoch) == pool
    assert first_epoch == [training_prompt(pool, seed=3, t=t) for t in range(5)]
    orders = {tuple(training_prompt(pool, seed=s, t=t) for t in range(5)) for s in range(6)}
    assert len(orders) > 1
