"""Seconds per interaction by stage, tokens and peak memory from the records."""

from __future__ import annotations

import math

import pytest

from simbench.logs.schema import CheckOutcome, InteractionRecord, ProbeRecord, UpdateLogRecord
from simbench.metrics.cost import run_cost


def interaction(t, turn, seconds, tokens) -> InteractionRecord:
    return InteractionRecord(t=t, turn=turn, prompt_id="x", messages=[], response="r", follow_up="f",
                             active=["A"], seconds=seconds, tokens=tokens)


def probe(tokens, seconds=0.0) -> ProbeRecord:
    return ProbeRecord(t=0, probe_id=f"p{tokens}", prompt="q", response="r",
                       checks={"A": CheckOutcome(passed=True)}, tokens=tokens, seconds=seconds)


INTERACTIONS = [
    interaction(0, 0, {"generate": 2.0, "user": 1.0}, 10),
    interaction(0, 1, {"generate": 1.0, "user": 0.5}, 5),  # follow-up turn of interaction 0
    interaction(1, 0, {"generate": 3.0, "user": 0.5, "update": 99.0}, 15),
]
UPDATES = [
    UpdateLogRecord(update=0, t=2, seconds=5.0, stats={"peak_rss_mb": 4900}),
    UpdateLogRecord(update=1, t=2, skipped=True, reason="nan", seconds=1.0),
]


def test_stage_seconds_are_totals_over_distinct_interactions():
    # 2 interactions. generate (2+1+3)/2 = 3; user (1+.5+.5)/2 = 1; probe (1+2+1)/2 = 2;
    # update from update records (5+1)/2 = 3, not the interaction's 99; total 9.
    cost = run_cost(INTERACTIONS, UPDATES, [probe(8, 1.0), probe(12, 2.0), probe(10, 1.0)], {})
    assert cost.interactions == 2
    assert cost.seconds_per_interaction == pytest.approx(
        {"generate": 3.0, "user": 1.0, "probe": 2.0, "update": 3.0, "total": 9.0})
    assert (cost.updates, cost.skipped_updates) == (2, 1)
    # tokens (10+5+15)/2 = 15; probe tokens (8+12+10)/3 = 10
    assert cost.tokens_per_interaction == 15.0
    assert cost.probe_tokens_per_response == 10.0


def test_update_seconds_fall_back_to_interaction_records_without_update_log():
    cost = run_cost(INTERACTIONS, [], [], {})
    assert cost.seconds_per_interaction["update"] == pytest.approx(99.0 / 2)
    assert math.isnan(cost.probe_tokens_per_response)


def test_peak_memory_is_largest_value_across_manifest_and_updates():
    manifest = {"peak_rss_mb": 4000, "resources": {"peak_gpu_mb": 1000}}
    assert run_cost(INTERACTIONS, UPDATES, [], manifest).peak_memory_mb == {"peak_rss_mb": 4900.0, "peak_gpu_mb": 1000.0}
    assert run_cost(INTERACTIONS, [], [], {}).peak_memory_mb == {}


def test_peak_memory_leaves_out_peaks_that_are_not_finite_floats():
    """A hand-edited -Infinity or an integer beyond float range is no measurement (the report
    used to crash formatting it)."""
    manifest = {"peak_rss_mb": float("-inf"), "resources": {"peak_rss_mb": 10 ** 400, "peak_gpu_mb": float("nan")}}
    assert run_cost(INTERACTIONS, [], [], manifest).peak_memory_mb == {}
    from_updates_only = run_cost(INTERACTIONS, UPDATES, [], {}).peak_memory_mb
    assert run_cost(INTERACTIONS, UPDATES, [], manifest).peak_memory_mb == from_updates_only


def test_run_without_interactions_has_no_rates():
    cost = run_cost([], [], [], {})
    assert cost.interactions == 0 and cost.seconds_per_interaction == {}
    assert math.isnan(cost.tokens_per_interaction)


def test_probing_includes_the_general_questions_answered_in_the_same_batch_and_the_total_adds_up():
    # 3 probe prompts + 1 general question share each batch: the records hold 3/4 of its time.
    manifest = {"prompts": {"probe": {"n": 3}, "general": {"n": 1}}, "status": "complete",
                "sessions": [{"seconds": 20.0}, {"seconds": 4.0}]}
    cost = run_cost(INTERACTIONS, UPDATES, [probe(8, 1.0), probe(12, 1.0), probe(10, 1.0)], manifest)
    stages = cost.seconds_per_interaction
    assert stages["probe"] == pytest.approx(4.0 / 2)
    assert stages["total"] == pytest.approx(sum(v for k, v in stages.items() if k != "total"))
    assert cost.wall_seconds_per_interaction == pytest.approx(12.0)


def test_a_running_run_has_no_wall_time_yet():
    manifest = {"status": "running", "sessions": []}
    assert run_cost(INTERACTIONS, UPDATES, [], manifest).wall_seconds_per_interaction is None
