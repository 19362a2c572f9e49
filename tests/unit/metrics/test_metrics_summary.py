"""The run-folder loader, scenario detection, baselines and the typed run summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simbench.errors import InputError
from simbench.logs.schema import CheckOutcome, PhaseInfo, ProbeRecord
from simbench.metrics import RunLogs, load_run_logs
from simbench.metrics.curves import PhaseWindow
from simbench.metrics.summary import baselines_from_runs, detect_scenario, summarise_run

FLIP_SCHEDULE = [PhaseInfo(at=0, preferences=["A"]), PhaseInfo(at=20, preferences=["not_A"])]


def probes(table: dict[str, dict[int, list[int]]]) -> list[ProbeRecord]:
    """table[pref][t] = pass (1/0) per prompt p0, p1, ... -> one record per (t, prompt)."""
    records = {}
    for pref, by_time in table.items():
        for t, outcomes in by_time.items():
            for p, ok in enumerate(outcomes):
                record = records.setdefault((t, p), ProbeRecord(t=t, probe_id=f"p{p}", prompt="q", response="r", checks={}))
                record.checks[pref] = CheckOutcome(passed=bool(ok))
    return list(records.values())


def run(table, schedule=FLIP_SCHEDULE, length=40, opposites=None, learner="sdpo-token") -> RunLogs:
    return RunLogs(schedule=schedule, episode_length=length, learner=learner, seed=0,
                   probes=probes(table), opposites=opposites or {})


# Flip run, 2 prompts. A: 0, .5, 1, .5, 0 and not_A: 0, 0, 0, 1, 1 at t = 0..40 step 10.
FLIP_TABLE = {
    "A": {0: [0, 0], 10: [1, 0], 20: [1, 1], 30: [1, 0], 40: [0, 0]},
    "not_A": {0: [0, 0], 10: [0, 0], 20: [0, 0], 30: [1, 1], 40: [1, 1]},
}


def windows_of(*sets) -> list[PhaseWindow]:
    return [PhaseWindow(k, 10 * k, 10 * k + 10, tuple(prefs)) for k, prefs in enumerate(sets)]


@pytest.mark.parametrize("sets, opposites, expected", [
    ([["A"]], {}, "single"),
    ([["A", "B"]], {}, "profile"),
    ([["A"], ["not_A"]], {"A": "not_A"}, "flip"),
    ([["A"], [], ["not_A"]], {"not_A": "A"}, "flip"),  # opposite arrives two phases later
    ([["A"], ["not_A"]], {}, "drop"),  # without the opposite relation it is only a drop
    ([["A"], ["B"], ["A"]], {}, "revert"),
    ([["A", "B"], ["A"]], {}, "drop"),
    ([["A"], ["A", "B"], ["A", "B", "C"]], {}, "complementary"),
])
def test_scenario_is_inferred_from_the_schedule(sets, opposites, expected):
    assert detect_scenario(windows_of(*sets), opposites) == expected


def test_baselines_come_from_frozen_and_oracle_runs():
    # frozen s_not_A = 0.5 at every t -> b = 0.5. Oracle while phase 1 (20..40) is active:
    # t=20 -> 1/2, t=30 -> 2/2, t=40 -> 2/2 -> c = (0.5 + 1 + 1)/3 = 5/6; t=10 is phase 0.
    frozen = run({"not_A": {t: [1, 0] for t in (0, 10, 20, 30, 40)}}, learner="frozen")
    oracle = run({"not_A": {0: [0, 0], 10: [0, 0], 20: [1, 0], 30: [1, 1], 40: [1, 1]}}, learner="in-context-oracle")
    b, c, note = baselines_from_runs(frozen, oracle, "not_A", 1, run=run(FLIP_TABLE))
    assert (b, c) == (pytest.approx(0.5), pytest.approx(5 / 6))
    assert "frozen-arm" in note and "in-context-oracle adherence in phase 2 (3 probe times)" in note  # shown from 1
    # In phase 0 (0..20) the oracle's probes at t=0 and t=10 count, not the one at t=20: c = 0.
    assert baselines_from_runs(frozen, oracle, "not_A", 0, run=run(FLIP_TABLE))[1] == 0.0


def test_baselines_without_other_runs_use_t0_and_one():
    b, c, note = baselines_from_runs(None, None, "A", 0, run=run(FLIP_TABLE))
    assert (b, c) == (0.0, 1.0)
    assert note == "no frozen run: b = adherence at t=0; no oracle run: c = 1"
    late = run({"A": {10: [1, 0]}, "not_A": {10: [0, 0]}})
    assert "no probe at t=0: b = adherence at t=10" in baselines_from_runs(None, None, "A", 0, run=late)[2]


def test_flip_run_summary_by_hand():
    # No frozen/oracle: b = s(0) = 0, c = 1, so g = s.
    # A, phase 0 (t 0..20): g = 0, .5, 1 -> censored at 20, AULC .5, final 1.
    # not_A, phase 1 (t 20..40): g = 0, 1, 1 -> N = 30 - 20 = 10, AULC 2/3.
    # Unlearning A from τ=20: s(τ)=1; after τ U = .5, 1 -> censored at 20, perseveration .25.
    summary = summarise_run(run(FLIP_TABLE, opposites={"A": "not_A"}))
    json.dumps(summary.model_dump(), allow_nan=False)
    assert summary.scenario == "flip"
    first, second = summary.adaptation
    assert (first.preference, first.steps_to_threshold, first.censored) == ("A", 20, True)
    assert first.aulc == pytest.approx(0.5) and first.final_s == 1.0
    assert first.final_s_ci == [1.0, 1.0]  # both prompts pass at t=20
    assert (second.preference, second.steps_to_threshold, second.censored) == ("not_A", 10, False)
    assert second.aulc == pytest.approx(2 / 3)
    assert second.aulc_ci == pytest.approx([2 / 3, 2 / 3])  # both prompts have the same curve
    (unlearned,) = summary.unlearning
    assert (unlearned.kind, unlearned.replaced_by, unlearned.steps_to_unlearn) == ("flip", "not_A", 20)
    assert unlearned.perseveration == pytest.approx(0.25)
    assert summary.forgetting is None
    assert summary.headline.aulc == pytest.approx((0.5 + 2 / 3) / 2)
    assert summary.headline.censored == 1
    assert summary.adherence["A"].model_dump() == {"t": [0, 10, 20, 30, 40], "s": [0.0, 0.5, 1.0, 0.5, 0.0]}


def test_complementary_run_summary_has_forgetting_and_drift():
    # A then A+B at 10, T=20, one prompt. R = [[0, 0], [1, 0], [0, 1]] (b = s at t=0):
    # ACC = (0 + 1)/2 = .5; BWT = R2A - R1A = -1; F = 1; min-ACC: A after t=10 -> 0.
    schedule = [PhaseInfo(at=0, preferences=["A"]), PhaseInfo(at=10, preferences=["A", "B"])]
    logs = run({"A": {0: [0], 10: [1], 20: [0]}, "B": {0: [0], 10: [0], 20: [1]}}, schedule, 20)
    general = [{"t": 0, "id": "q", "correct": True}, {"t": 20, "id": "q", "correct": False}]
    summary = summarise_run(logs, general=general)
    assert summary.scenario == "complementary"
    forgetting = summary.forgetting
    assert forgetting.R == [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]
    assert (forgetting.acc, forgetting.bwt, forgetting.forgetting, forgetting.min_acc) == (0.5, -1.0, 1.0, 0.0)
    assert summary.general_drift.drift == [0.0, -1.0]


def test_summary_rejects_other_persona_and_unchecked_preference():
    other = run(FLIP_TABLE, schedule=[PhaseInfo(at=0, preferences=["A"])])
    with pytest.raises(InputError, match="different persona schedule"):
        summarise_run(run(FLIP_TABLE), frozen=other)
    with pytest.raises(InputError, match="no record checks 'not_A'"):
        summarise_run(run({"A": FLIP_TABLE["A"]}))


def write_run(folder: Path, manifest: dict, probe_lines: list[str]) -> Path:
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "probes.jsonl").write_text("\n".join(probe_lines))
    return folder


MANIFEST = {"persona": {"schedule": [{"at": 0, "preferences": ["A"]}], "opposites": {"A": "not_A"}},
            "interactions": 10, "learner": "frozen", "seed": 3}
LINE = ProbeRecord(t=0, probe_id="p0", prompt="q", response="r", checks={"A": CheckOutcome(passed=True)}).model_dump_json()


def test_loader_reads_manifest_and_skips_a_torn_last_line(tmp_path):
    logs = load_run_logs(write_run(tmp_path / "run", MANIFEST, [LINE, LINE.replace("p0", "p1"), LINE[:25]]))
    assert (logs.episode_length, logs.learner, logs.seed) == (10, "frozen", 3)
    assert logs.schedule == [PhaseInfo(at=0, preferences=["A"])]
    assert logs.opposites == {"A": "not_A"}
    assert [p.probe_id for p in logs.probes] == ["p0", "p1"]
    assert logs.interactions == [] and logs.updates == []


def test_loader_rejects_a_torn_line_before_the_end(tmp_path):
    with pytest.raises(InputError, match=r"probes.jsonl: line 1: malformed JSON"):
        load_run_logs(write_run(tmp_path / "run", MANIFEST, [LINE[:25], LINE]))


@pytest.mark.parametrize("change, message", [
    (lambda m: m.pop("seed"), "missing key 'seed'"),
    (lambda m: m["persona"].pop("schedule"), "missing key 'persona.schedule'"),
    (lambda m: m.update(interactions="ten"), "interactions: Input should be a valid integer"),
    (lambda m: m["persona"]["schedule"].append({"at": "late"}), r"persona\.schedule\.1\.at: "),
])
def test_loader_names_the_bad_manifest_field(tmp_path, change, message):
    manifest = json.loads(json.dumps(MANIFEST))
    change(manifest)
    with pytest.raises(InputError, match=message):
        load_run_logs(write_run(tmp_path / "run", manifest, [LINE]))


def test_loader_requires_manifest_and_probe_log(tmp_path):
    with pytest.raises(InputError, match="manifest.json: is missing"):
        load_run_logs(tmp_path)
    folder = write_run(tmp_path / "run", MANIFEST, [])
    (folder / "probes.jsonl").unlink()
    with pytest.raises(InputError, match="probes.jsonl: is missing"):
        load_run_logs(folder)


@pytest.mark.parametrize("persona_extra, cap, flagged", [
    ({"min_tokens": {"not_A": 150}}, 64, {"not_A"}),   # the manifest's own floors
    ({"min_tokens": {"not_A": 150}}, 150, set()),      # a floor equal to the cap is reachable
    ({"min_tokens": {}}, 64, set()),
    ({"ever": ["concise", "detailed"]}, 96, {"detailed"}),  # older manifest: built-in floors
    ({"ever": ["concise", "detailed"]}, None, set()),       # no cap recorded: nothing claimed
])
def test_preferences_beyond_the_token_cap_are_flagged(persona_extra, cap, flagged):
    from simbench.metrics.summary import UNREACHABLE, unreachable_preferences

    manifest = {"config": {"max_new_tokens": cap}, "persona": persona_extra}
    assert unreachable_preferences(manifest) == flagged
    logs = run(FLIP_TABLE, opposites={"A": "not_A"})
    logs = RunLogs(**{**logs.__dict__, "manifest": manifest})
    summary = summarise_run(logs, bootstrap=10)
    marked = {a.preference for a in summary.adaptation if UNREACHABLE in a.flags}
    assert marked == flagged & {"A", "not_A"}
    assert all(a.aulc is None and a.final_g is None and a.aulc_ci == [None, None]
               and a.steps_to_threshold is None for a in summary.adaptation if a.preference in marked)
    kept = [a.aulc for a in summary.adaptation if a.preference not in marked]
    assert summary.headline.aulc == pytest.approx(sum(kept) / len(kept))  # A: 0.5, not_A: 2/3


def test_rows_without_headroom_or_anything_to_unlearn_stay_out_of_the_headline_means():
    # Frozen passes A and not_A on prompt 0 (b = .5 for both); the oracle only on prompt 0
    # too (c = .5 = b): neither preference has headroom, so no AULC or final mean (before the
    # fix every arm scored 1 here). The learner's A never rises .1 above b before τ = 20
    # (s(20) = .5): nothing to unlearn, so no perseveration mean either.
    half = {t: [1, 0] for t in (0, 10, 20, 30, 40)}
    frozen = run({"A": half, "not_A": half}, learner="frozen")
    oracle = run({"A": half, "not_A": half}, learner="in-context-oracle")
    learner = run({"A": half, "not_A": {0: [1, 0], 10: [1, 0], 20: [1, 0], 30: [1, 1], 40: [1, 1]}},
                  opposites={"A": "not_A"})
    summary = summarise_run(learner, frozen, oracle)
    assert all("no_headroom" in a.flags and a.aulc is None for a in summary.adaptation)
    (unlearned,) = summary.unlearning
    assert "nothing_to_unlearn" in unlearned.flags and unlearned.perseveration is None
    headline = summary.headline
    assert headline.aulc is None and headline.final_s is None and headline.perseveration is None
    assert summary.collateral_drift.measured is False  # no drift records in this log


def test_a_judge_scored_preference_without_verdicts_gets_a_not_scored_row_and_stays_out_of_means():
    logs = run(FLIP_TABLE)
    for record in logs.probes:  # not_A was a rubric wish of a run without a judge
        record.checks["not_A"] = CheckOutcome(passed=None, evidence="not scored", scorer="none")
    summary = summarise_run(logs, bootstrap=20)
    assert summary.not_scored == {"not_A": "not scored (no judge)"}
    row = next(a for a in summary.adaptation if a.preference == "not_A")
    assert row.flags == ["not_scored"] and row.aulc is None and row.final_s is None
    measured = next(a for a in summary.adaptation if a.preference == "A")
    assert summary.headline.aulc == pytest.approx(measured.aulc)  # A alone
    assert "not_A" not in summary.adherence
    assert "not_scored" not in summarise_run(run(FLIP_TABLE), bootstrap=20)  # fully scored runs read as before
