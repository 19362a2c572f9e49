"""`simbench leaderboard`: rows per learner, specificity against each learner's unrelated-feedback
twin and frozen (paired, t-interval over users), per-scenario metrics with t-intervals over the
users (seeds) or a probe-prompt bootstrap for one seed, provenance, always-listed baselines."""

from __future__ import annotations

import json

import pytest
from synthetic_runs import FLIP, SINGLE, always, flip_results, never, write_run  # noqa: F401 (fixture)

from simbench.cli import main
from simbench.errors import InputError
from simbench.reporting.leaderboard import build_leaderboard, write_leaderboard

# One persona, one phase, T=4, probes at t=0, 2, 4 over 2 prompts. Frozen passes nothing
# (b = 0), the oracle everything (c = 1), so g = s and AULC = mean of s over the 3 probes.
SDPO_BY_SEED = {
    0: lambda pref, t, i: t >= 2 * (i + 1),  # s = 0, .5, 1 -> AULC 1/2
    1: lambda pref, t, i: t >= 2,            # s = 0, 1, 1  -> AULC 2/3
}


def single_results(root, seeds=(0, 1), with_oracle=True, commit="abc123"):
    for seed in seeds:
        common = dict(seed=seed, schedule=SINGLE, opposites={}, persona_id="solo",
                      interactions=4, probe_every=2, probes=2)
        write_run(root / f"solo--frozen--s{seed}", learner="frozen", passing=never, **common)
        if with_oracle:
            write_run(root / f"solo--in-context-oracle--s{seed}", learner="in-context-oracle",
                      passing=always, **common)
        write_run(root / f"solo--sdpo-token--s{seed}", learner="sdpo-token",
                  passing=SDPO_BY_SEED[seed], commit=commit if seed == 0 else "def456", **common)
    return root


def row(board, learner):
    return next(r for r in board["rows"] if r["learner"] == learner)


def test_two_seeds_give_a_t_interval_over_the_users(tmp_path):
    board = build_leaderboard(single_results(tmp_path), bootstrap=200).dump()
    cell = row(board, "sdpo-token")["cells"]["single"]["adaptation"]
    assert cell["mean"] == pytest.approx(7 / 12)  # mean of the seeds' AULC 1/2 and 2/3
    # sd(1/2, 2/3) / sqrt(2) = 1/12, times t(0.975, 1 df) = 12.706: honest about 2 users;
    # 7/12 ± 1.06 passes both ends of AULC's range [0, 1], so it is clipped to them.
    half = 12.706205 / 12
    assert 7 / 12 - half < 0 and 7 / 12 + half > 1
    assert (cell["lo"], cell["hi"]) == (0.0, 1.0)
    assert (cell["n_seeds"], cell["n_runs"], cell["df"]) == (2, 2, 1)
    assert cell["method"] == ("t-interval over 2 users (seeds; 1 df) of the per-user means; "
                              "clipped to the metric's range [0, 1]")
    cost = row(board, "sdpo-token")["cells"]["single"]["cost"]
    assert cost["lo"] is None and cost["hi"] is None
    assert cost["method"] == "mean over 2 seed(s); no interval (one timing per run)"
    assert row(board, "frozen")["cells"]["single"]["adaptation"]["mean"] == 0.0
    assert row(board, "in-context-oracle")["cells"]["single"]["adaptation"]["mean"] == 1.0


def twin_results(root):
    """single_results plus the unrelated-feedback twin of sdpo-token: under its old alias in
    seed 0 and its generic name in seed 1. The twin passes prompt 0 only at the end (t=4),
    where sdpo-token passes both prompts: paired differences 0 and 1 in each seed."""
    single_results(root)
    for seed, name in ((0, "sdpo-unrelated"), (1, "sdpo-token+unrelated")):
        write_run(root / f"solo--{name}--s{seed}", learner=name, seed=seed, schedule=SINGLE, opposites={},
                  persona_id="solo", interactions=4, probe_every=2, probes=2,
                  passing=lambda pref, t, i: t >= 4 and i == 0)
    write_run(root / "solo--sdpo-logit--s0", learner="sdpo-logit", schedule=SINGLE, opposites={},
              persona_id="solo", interactions=4, probe_every=2, probes=2, passing=always)
    return root


def test_specificity_pairs_each_learner_with_its_unrelated_feedback_twin_by_hand(tmp_path):
    board = build_leaderboard(twin_results(tmp_path), bootstrap=300).dump()
    cells = row(board, "sdpo-token")["cells"]["single"]
    spec = cells["specificity"]
    # Pairs per seed (p0, p1): (1 - 1, 1 - 0) = (0, 1) -> mean .5 over 4 pairs in 2 seeds.
    assert spec["mean"] == 0.5 and (spec["n"], spec["n_seeds"], spec["n_runs"]) == (4, 2, 2)
    assert spec["control"] == "sdpo-token+unrelated, sdpo-unrelated"
    # Both users' mean difference is 0.5: no spread between users, so a zero-width interval
    # (their prompts' spread enters through the user means, not a second time).
    assert (spec["lo"], spec["hi"], spec["mdd"], spec["df"]) == (0.5, 0.5, 0.0, 1)
    assert "t-interval over 2 users (seeds; 1 df)" in spec["method"] and spec["unit"] == "user"
    # Against frozen (never passes): differences 1, 1 in each seed.
    frozen = cells["vs_frozen"]
    assert (frozen["mean"], frozen["lo"], frozen["hi"], frozen["mdd"]) == (1.0, 1.0, 1.0, 0.0)
    # The twin itself has no twin; sdpo-logit has none in the folder, and a note says so.
    assert row(board, "sdpo-token+unrelated")["cells"]["single"]["specificity"] is None
    assert row(board, "sdpo-logit")["cells"]["single"]["specificity"] is None
    assert any("'sdpo-logit' has no unrelated-feedback twin" in n and "sdpo-logit+unrelated" in n
               for n in board["notes"])
    assert [c["metric"] for c in board["columns"]][:2] == ["specificity", "vs_frozen"]


def test_specificity_leads_the_markdown_with_n_and_mdd(tmp_path):
    md, _, _ = write_leaderboard(twin_results(tmp_path / "r"), tmp_path / "out", bootstrap=50)
    text = md.read_text()
    assert "| learner | model | specificity | vs_frozen |" in text
    line = next(x for x in text.splitlines() if x.startswith("| sdpo-token | "))
    assert "+0.50 [" in line and "(n=4, MDD " in line


def test_baseline_rows_come_first_and_inapplicable_columns_are_left_out(tmp_path):
    board = build_leaderboard(single_results(tmp_path)).dump()
    assert [r["learner"] for r in board["rows"]] == ["frozen", "in-context-oracle", "sdpo-token"]
    metrics = {c["metric"] for c in board["columns"]}
    # No flip, no complementary schedule, no twin (no specificity), no drift.jsonl (not measured).
    assert metrics == {"vs_frozen", "adaptation", "final", "retained", "cost"}


def test_one_seed_bootstraps_probe_prompts(tmp_path):
    board = build_leaderboard(single_results(tmp_path, seeds=(0,)), bootstrap=100).dump()
    cell = row(board, "sdpo-token")["cells"]["single"]["adaptation"]
    assert cell["method"] == "one seed: bootstrap over its probe prompts (100 resamples); says nothing about other users"
    # prompt 0 has g = 0, 1, 1 (AULC 2/3), prompt 1 has g = 0, 0, 1 (AULC 1/3)
    assert cell["lo"] == pytest.approx(1 / 3) and cell["hi"] == pytest.approx(2 / 3)
    assert cell["mean"] == pytest.approx(1 / 2)
    cost = row(board, "sdpo-token")["cells"]["single"]["cost"]
    assert cost["lo"] is None and cost["method"] == "mean over 1 seed(s); no interval (one timing per run)"
    assert any("one seed" in note for note in board["notes"])


def test_provenance_lists_simulator_judge_model_hashes_versions_and_commits(tmp_path):
    prov = build_leaderboard(single_results(tmp_path)).dump()["provenance"]
    assert prov["simulator"] == ["rules"] and prov["judge"] == ["none"]
    assert prov["model"] == ["tiny-llama"] and prov["persona_hashes"] == {"solo": ["hash-solo"]}
    assert prov["git_commit"] == ["abc123", "def456"] and prov["seeds"] == [0, 1]
    assert prov["versions"]["torch"] == ["2.13.0"]


def test_missing_oracle_and_incomplete_runs_are_noted(tmp_path):
    root = single_results(tmp_path, with_oracle=False)
    write_run(root / "solo--sdpo-logit--s0", learner="sdpo-logit", status="interrupted", passing=never)
    board = build_leaderboard(root).dump()
    assert "no in-context-oracle runs: c = 1 (perfect adherence) for every preference" in board["notes"]
    assert board["skipped"] == [{"run": "solo--sdpo-logit--s0", "reason": "status 'interrupted', not complete"}]
    assert "sdpo-logit" not in {r["learner"] for r in board["rows"]}


def test_writes_markdown_html_with_plot_and_strict_json(tmp_path):
    md, html, js = write_leaderboard(single_results(tmp_path / "r"), tmp_path / "out", bootstrap=20)
    board = json.loads(js.read_text())
    assert board["rows"][0]["learner"] == "frozen"
    text = md.read_text()
    assert "## Scenario: single" in text
    assert "| learner | model | vs_frozen | adaptation | final | retained | cost |" in text
    text = html.read_text()
    assert "<svg " in text and "<path " in text and "<script" not in text
    assert "Content-Security-Policy" in text and "abc123" in text


def test_flip_runs_get_an_unlearning_column(flip_results):
    board = build_leaderboard(flip_results, bootstrap=20).dump()
    assert {"scenario": "flip", "metric": "unlearning"} in board["columns"]
    cell = row(board, "sdpo-token")["cells"]["flip"]["unlearning"]
    assert 0.0 <= cell["lo"] <= cell["mean"] <= cell["hi"] <= 1.0


def test_empty_results_folder_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no run folders"):
        build_leaderboard(tmp_path).dump()


def test_leaderboard_command(tmp_path, capsys):
    main(["leaderboard", str(single_results(tmp_path)), "--bootstrap", "10"])
    assert (tmp_path / "leaderboard.json").is_file()
    assert "leaderboard.md" in capsys.readouterr().out


def test_final_adherence_is_the_raw_end_of_phase_share(tmp_path):
    # SDPO_BY_SEED ends at s = 1 in both seeds; the frozen arm at 0.
    board = build_leaderboard(single_results(tmp_path)).dump()
    assert row(board, "sdpo-token")["cells"]["single"]["final"]["mean"] == 1.0
    assert row(board, "frozen")["cells"]["single"]["final"]["mean"] == 0.0


def test_a_weak_oracle_and_an_unreachable_preference_are_noted(tmp_path):
    # Oracle passes only prompt 0 (c = 0.5); the learner ends at 1.0, where normalised gain is clipped.
    root = tmp_path / "r"
    common = dict(schedule=SINGLE, opposites={}, persona_id="solo", interactions=4, probe_every=2, probes=2)
    write_run(root / "solo--frozen--s0", learner="frozen", passing=never, **common)
    write_run(root / "solo--in-context-oracle--s0", learner="in-context-oracle",
              passing=lambda p, t, i: i == 0, **common)
    write_run(root / "solo--sdpo-token--s0", learner="sdpo-token", passing=SDPO_BY_SEED[1], **common)
    notes = build_leaderboard(root, bootstrap=5).dump()["notes"]
    assert any(n.startswith("in 1 run(s) a learner ends above the in-context oracle") for n in notes)
    assert not any("cannot be passed" in n for n in notes)
    # The same runs recorded under a 40-token cap with a 150-token preference floor.
    for manifest_path in root.glob("*/manifest.json"):
        manifest = json.loads(manifest_path.read_text())
        manifest["config"]["max_new_tokens"] = 40
        manifest["persona"]["min_tokens"] = {"concise": 150}
        manifest_path.write_text(json.dumps(manifest))
    notes = build_leaderboard(root, bootstrap=5).dump()["notes"]
    assert any(n.startswith("'concise' cannot be passed within the runs' max_new_tokens") and "3 run(s)" in n
               for n in notes)


def test_resamples_count_the_adaptation_rows_the_full_sample_counts():
    from simbench.metrics.run_summary import AdaptationRow
    from simbench.reporting.leaderboard import pinned_adaptation

    def adaptation(phase, preference, aulc, final_s, flags):
        return AdaptationRow(phase=phase, preference=preference, start=0, end=8, b=0.0, c=1.0, n_probes=4,
                             steps_to_threshold=None, censored=False, aulc=aulc, final_s=final_s, final_g=None,
                             flags=flags, baseline_note="", aulc_ci=[None, None], final_s_ci=[None, None])

    rows = [adaptation(0, "concise", 0.2, 0.0, []),
            # a resample drawing only passing prompts flags it "no headroom"; the full sample kept it
            adaptation(1, "elaborate", None, 1.0, ["no_headroom"]),
            adaptation(1, "lists", 0.9, 0.9, [])]
    keep = {(0, "concise"), (1, "elaborate")}
    assert pinned_adaptation(rows, keep) == {"adaptation": 0.2, "final": 0.5}
    assert pinned_adaptation(rows, set()) == {"adaptation": None, "final": None}


def test_resamples_score_the_unlearning_rows_the_full_sample_counts():
    """A resample whose s(τ) sits under the nothing-to-unlearn line (here s(τ) = b) still
    scores the row the full sample kept: U = 1 where s <= b, so 1 - U = 0 after τ."""
    from simbench.logs.schema import CheckOutcome, ProbeRecord
    from simbench.reporting.leaderboard import pinned_unlearning

    probes = [ProbeRecord(t=t, probe_id="p0", prompt="q", response="a",
                          checks={"concise": CheckOutcome(passed=t <= 4)}) for t in (0, 2, 4, 6, 8)]
    from simbench.metrics.run_summary import UnlearningRow

    unlearning = [UnlearningRow(preference="concise", kind="flip", replaced_by="elaborate", phase=1, start=4, end=8,
                                b=1.0, s_at_change=1.0, n_probes=2, steps_to_unlearn=None, censored=False,
                                perseveration=None, final_s=0.0, final_u=None, flags=["nothing_to_unlearn"],
                                baseline_note="")]
    assert pinned_unlearning(unlearning, probes, [(1, "concise", 4, 8)]) == 0.0
    assert pinned_unlearning(unlearning, probes, []) is None


def constructed_flip_results(root, seeds=range(10)):
    """10 seeds x 2 flip personas. Frozen passes 'concise' on prompt 0 only (b = 0.25); the
    learner passes it on prompt 0 always and on prompt 1 up to t = 6, so s(τ=4) = 0.5 and
    perseveration = mean(1 - U) over t = 6, 8 = mean(1, 0) = 0.5 in every run, while a third
    of the prompt resamples lack prompt 1 and have nothing to unlearn (the case that printed
    unlearning 0.50 [0.60, 0.85] when resamples re-decided applicability)."""
    for seed in seeds:
        for persona in ("flip-a", "flip-b"):
            common = dict(seed=seed, schedule=FLIP, persona_id=persona, general=True)
            write_run(root / f"{persona}--frozen--s{seed}", learner="frozen",
                      passing=lambda p, t, i: p == "concise" and i == 0, **common)
            write_run(root / f"{persona}--in-context-oracle--s{seed}", learner="in-context-oracle",
                      passing=lambda p, t, i: (p == "concise") == (t <= 4), **common)
            write_run(root / f"{persona}--sdpo-token--s{seed}", learner="sdpo-token",
                      passing=lambda p, t, i: p == "concise" and (i == 0 or (i == 1 and t <= 6)), **common)
    return root


@pytest.mark.parametrize("seeds", [range(10), range(1)])
def test_no_printed_mean_falls_outside_its_interval_in_the_constructed_flip_case(tmp_path, seeds):
    board = build_leaderboard(constructed_flip_results(tmp_path, seeds), bootstrap=200).dump()
    cell = row(board, "sdpo-token")["cells"]["flip"]["unlearning"]
    assert cell["mean"] == pytest.approx(0.5) and cell["n_seeds"] == len(seeds)
    assert ("t-interval over 10 users" if len(seeds) > 1 else "one seed: bootstrap") in cell["method"]
    for r in board["rows"]:
        for cells in r["cells"].values():
            for metric, cell in cells.items():
                if cell and cell.get("lo") is not None:
                    assert cell["lo"] - 1e-9 <= cell["mean"] <= cell["hi"] + 1e-9, (r["learner"], metric, cell)


@pytest.mark.parametrize("folder", ["results/cpu-reference", "results/cpu-specificity", "results/cpu-specificity-logit",
                                    "results/cpu-flip", "results/cpu-flip-logit"])
def test_committed_leaderboards_hold_each_mean_inside_its_interval(folder):
    from simbench.paths import REPO_ROOT

    board = json.loads((REPO_ROOT / folder / "leaderboard.json").read_text())
    for row in board["rows"]:
        for scenario, cells in row["cells"].items():
            for metric in ("adaptation", "final"):
                cell = cells.get(metric)
                if cell and cell.get("lo") is not None:
                    assert cell["lo"] - 1e-9 <= cell["mean"] <= cell["hi"] + 1e-9, (row["learner"], scenario, metric)


def test_a_noisy_users_rate_is_noted(tmp_path):
    root = single_results(tmp_path)
    assert not any(note.startswith("noisy users") for note in build_leaderboard(root).notes)
    for manifest_path in root.glob("*/manifest.json"):
        manifest = json.loads(manifest_path.read_text())
        manifest["persona"]["irrelevant_rate"] = 0.3
        manifest_path.write_text(json.dumps(manifest))
    notes = build_leaderboard(root).notes
    assert "noisy users: solo (30% of follow-ups unrelated to the answer by design)" in notes
