"""`simbench leaderboard`: rows per learner, per-scenario metrics, mean and 95% CI over seeds
(t-interval) or over probe prompts (bootstrap, one seed), provenance, always-listed baselines."""

from __future__ import annotations

import json
import math

import pytest

from simbench.cli import main
from simbench.errors import InputError
from simbench.report.leaderboard import build_leaderboard, t_interval, t_quantile, write_leaderboard

from synthetic_runs import SINGLE, always, flip_results, never, write_run  # noqa: F401 (fixture)

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


def test_t_quantiles_match_scipy():
    stats = pytest.importorskip("scipy.stats")
    for df in range(1, 200):
        assert t_quantile(df) == pytest.approx(stats.t.ppf(0.975, df), abs=1e-3)


def test_t_interval_by_hand():
    mean, lo, hi = t_interval([0.2, 0.4, 0.6])
    half = 4.303 * 0.2 / math.sqrt(3)
    assert (mean, lo, hi) == pytest.approx((0.4, 0.4 - half, 0.4 + half))
    with pytest.raises(ValueError):
        t_interval([0.3])


def test_two_seeds_give_a_t_interval_over_per_seed_aulc(tmp_path):
    board = build_leaderboard(single_results(tmp_path))
    cell = row(board, "sdpo-token")["cells"]["single"]["adaptation"]
    half = 12.706 * (abs(2 / 3 - 1 / 2) / math.sqrt(2)) / math.sqrt(2)  # 1.06: past both ends
    assert cell["mean"] == pytest.approx(7 / 12)
    assert (cell["lo"], cell["hi"]) == (0.0, 1.0)  # AULC lies in [0, 1]
    assert 7 / 12 - half < 0 and 7 / 12 + half > 1
    assert (cell["n_seeds"], cell["n_runs"]) == (2, 2)
    assert cell["method"] == "t-interval over 2 seeds, clipped to the metric's range"
    cost = row(board, "sdpo-token")["cells"]["single"]["cost"]
    assert cost["method"] == "t-interval over 2 seeds" and cost["lo"] == cost["hi"]  # same timings
    assert row(board, "frozen")["cells"]["single"]["adaptation"]["mean"] == 0.0
    assert row(board, "in-context-oracle")["cells"]["single"]["adaptation"]["mean"] == 1.0


def test_baseline_rows_come_first_and_inapplicable_columns_are_left_out(tmp_path):
    board = build_leaderboard(single_results(tmp_path))
    assert [r["learner"] for r in board["rows"]] == ["frozen", "in-context-oracle", "sdpo-token"]
    metrics = {c["metric"] for c in board["columns"]}
    assert metrics == {"adaptation", "final", "drift", "cost"}  # no flip, no complementary schedule


def test_one_seed_bootstraps_probe_prompts(tmp_path):
    board = build_leaderboard(single_results(tmp_path, seeds=(0,)), bootstrap=100)
    cell = row(board, "sdpo-token")["cells"]["single"]["adaptation"]
    assert cell["method"] == "one seed: bootstrap over probe prompts (100 resamples)"
    # prompt 0 has g = 0, 1, 1 (AULC 2/3), prompt 1 has g = 0, 0, 1 (AULC 1/3)
    assert cell["lo"] == pytest.approx(1 / 3) and cell["hi"] == pytest.approx(2 / 3)
    assert cell["mean"] == pytest.approx(1 / 2)
    cost = row(board, "sdpo-token")["cells"]["single"]["cost"]
    assert cost["lo"] is None and cost["method"] == "one seed: no interval"
    assert any("one seed" in note for note in board["notes"])


def test_provenance_lists_simulator_judge_model_hashes_versions_and_commits(tmp_path):
    prov = build_leaderboard(single_results(tmp_path))["provenance"]
    assert prov["simulator"] == ["rules"] and prov["judge"] == ["none"]
    assert prov["model"] == ["tiny-llama"] and prov["persona_hashes"] == {"solo": ["hash-solo"]}
    assert prov["git_commit"] == ["abc123", "def456"] and prov["seeds"] == [0, 1]
    assert prov["versions"]["torch"] == ["2.13.0"]


def test_missing_oracle_and_incomplete_runs_are_noted(tmp_path):
    root = single_results(tmp_path, with_oracle=False)
    write_run(root / "solo--sdpo-logit--s0", learner="sdpo-logit", status="interrupted", passing=never)
    board = build_leaderboard(root)
    assert "no in-context-oracle runs: c = 1 (perfect adherence) for every preference" in board["notes"]
    assert board["skipped"] == [{"run": "solo--sdpo-logit--s0", "reason": "status 'interrupted', not complete"}]
    assert "sdpo-logit" not in {r["learner"] for r in board["rows"]}


def test_writes_markdown_html_with_plot_and_strict_json(tmp_path):
    md, html, js = write_leaderboard(single_results(tmp_path / "r"), tmp_path / "out", bootstrap=20)
    board = json.loads(js.read_text())
    assert board["rows"][0]["learner"] == "frozen"
    text = md.read_text()
    assert "## Scenario: single" in text and "| learner | model | adaptation | final | drift | cost |" in text
    text = html.read_text()
    assert "<svg " in text and "<path " in text and "<script" not in text
    assert "Content-Security-Policy" in text and "abc123" in text


def test_flip_runs_get_an_unlearning_column(flip_results):
    board = build_leaderboard(flip_results, bootstrap=20)
    assert {"scenario": "flip", "metric": "unlearning"} in board["columns"]
    cell = row(board, "sdpo-token")["cells"]["flip"]["unlearning"]
    assert 0.0 <= cell["lo"] <= cell["mean"] <= cell["hi"] <= 1.0


def test_empty_results_folder_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no run folders"):
        build_leaderboard(tmp_path)


def test_leaderboard_command(tmp_path, capsys):
    main(["leaderboard", str(single_results(tmp_path)), "--bootstrap", "10"])
    assert (tmp_path / "leaderboard.json").is_file()
    assert "leaderboard.md" in capsys.readouterr().out


def test_final_adherence_is_the_raw_end_of_phase_share(tmp_path):
    # SDPO_BY_SEED ends at s = 1 in both seeds; the frozen arm at 0.
    board = build_leaderboard(single_results(tmp_path))
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
    notes = build_leaderboard(root, bootstrap=5)["notes"]
    assert any(n.startswith("in 1 run(s) a learner ends above the in-context oracle") for n in notes)
    assert not any("cannot be passed" in n for n in notes)
    # The same runs recorded under a 40-token cap with a 150-token preference floor.
    for manifest_path in root.glob("*/manifest.json"):
        manifest = json.loads(manifest_path.read_text())
        manifest["config"]["max_new_tokens"] = 40
        manifest["persona"]["min_tokens"] = {"concise": 150}
        manifest_path.write_text(json.dumps(manifest))
    notes = build_leaderboard(root, bootstrap=5)["notes"]
    assert any(n.startswith("'concise' cannot be passed within the runs' max_new_tokens") and "3 run(s)" in n
               for n in notes)
