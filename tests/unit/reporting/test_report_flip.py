"""A flip in reports: the new wish's curve and change from τ, the old wish beside the no-flip
run, and one verdict that never says "moved away" when there was nothing to move away from."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from synthetic_runs import SINGLE, write_run

from simbench.metrics.flip_verdict import MOVED_AWAY, NO_CHANGE, SLOWED_OLD, VERDICTS, flip_verdict
from simbench.reporting.leaderboard import build_leaderboard
from simbench.reporting.markdown import leaderboard_markdown
from simbench.reporting.pages import write_run_report
from simbench.reporting.run_report import build_run_report

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runner"))
from tiny_runs import run_tiny, tiny_config  # noqa: E402
from tinymodels import single_torch_thread  # noqa: E402

FLIP_RUN = "flipper--sdpo-token--s0"


def dropping(pref: str, t: int, i: int) -> bool:
    """Passes concise up to τ = 4 on every prompt and never after; never passes detailed."""
    return pref == "concise" and t <= 4


def write_dropping_flip(root: Path, frozen_passes_concise: bool, seed: int = 0) -> Path:
    """A flip run whose old wish falls 1 -> 0 after τ, its frozen arm, and its no-flip match."""
    write_run(root / f"flipper--frozen--s{seed}", learner="frozen", seed=seed,
              passing=lambda p, t, i: p == "concise" and frozen_passes_concise)
    write_run(root / f"flipper--sdpo-token--s{seed}", learner="sdpo-token", seed=seed, passing=dropping)
    write_run(root / f"concise--sdpo-token--s{seed}", learner="sdpo-token", seed=seed, schedule=SINGLE,
              opposites={}, persona_id="concise", passing=lambda p, t, i: p == "concise")
    return root


def test_old_wish_falling_reads_as_moved_away_only_when_there_was_something_to_unlearn(tmp_path):
    # Same flip run twice; only the frozen arm (b) differs. With b = 0 the old wish rose 1.0
    # above the base and then fell: moved away. With b = 1 the frozen model already passes
    # concise, the unlearning row is not applicable, and the same fall is not "moved away".
    moved = build_run_report(write_dropping_flip(tmp_path / "b0", frozen_passes_concise=False) / FLIP_RUN)
    assert moved.pairs["flip"]["unlearning_applicable"] is True
    assert moved.pairs["flip"]["verdict"] == MOVED_AWAY

    root = write_dropping_flip(tmp_path / "b1", frozen_passes_concise=True)
    report = build_run_report(root / FLIP_RUN)
    flip = report.pairs["flip"]
    assert "nothing_to_unlearn" in report.summary.unlearning[0].flags
    assert flip["old_change"]["hi"] < 0 and flip["paired"]["hi"] < 0  # it fell, below the no-flip run
    assert flip["unlearning_applicable"] is False and flip["verdict"] == SLOWED_OLD
    md = write_run_report(root / FLIP_RUN, tmp_path / "out")[0].read_text()
    assert "the unlearning row is not applicable" in md
    assert "verdict: slowed the old one" in md and "moved away from the old wish" not in md


def test_leaderboard_states_one_flip_verdict_per_learner_with_the_changes_from_tau(tmp_path):
    root = tmp_path / "results"
    for seed in (0, 1, 2):
        write_dropping_flip(root, frozen_passes_concise=True, seed=seed)
    board = build_leaderboard(root, bootstrap=5)
    cell = next(r for r in board.rows if r.learner == "sdpo-token").cells["flip"]["flip_vs_no_flip"]
    assert cell.old_change.mean == -1.0 and cell.new_change.mean == 0.0
    assert cell.unlearning_applicable is False and cell.verdict == SLOWED_OLD
    md = leaderboard_markdown(board)
    flip_lines = md.split("## Flip verdicts\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert flip_lines == [f"- sdpo-token (tiny-llama), flip: {cell.verdict_words}"]
    assert "'concise' from τ to the end -1.00 [-1.00, -1.00] (falls)" in flip_lines[0]
    assert "moved away" not in md


FLIP_PERSONA = """\
id: concise-then-elaborate
name: Concise, then elaborate
background: A tester who first wants short answers, then a few sentences.
interactions: 8
schedule:
  - at: 0
    preferences: [concise]
  - at: 4
    preferences: [elaborate]
"""
NO_FLIP_PERSONA = """\
id: concise
name: Concise
background: A tester who wants short answers.
interactions: 8
schedule:
  - at: 0
    preferences: [concise]
"""


@pytest.fixture(scope="module")
def tiny_flip(tmp_path_factory, smol_tokenizer):
    """Real tiny runs: the flip (sdpo-token and frozen) and its no-flip match (sdpo-token)."""
    root = tmp_path_factory.mktemp("flip")
    (root / "flip.yaml").write_text(FLIP_PERSONA)
    (root / "no-flip.yaml").write_text(NO_FLIP_PERSONA)
    results = root / "results"
    with single_torch_thread():
        for name, persona, learner in (("flip--sdpo-token", "flip.yaml", "sdpo-token"),
                                       ("flip--frozen", "flip.yaml", "frozen"),
                                       ("no-flip--sdpo-token", "no-flip.yaml", "sdpo-token")):
            run_tiny(tiny_config(root / persona, learner=learner), results / name, smol_tokenizer)
    return results


def test_real_tiny_flip_run_reports_the_new_wish_from_tau_and_one_verdict(tiny_flip, tmp_path):
    report = build_run_report(tiny_flip / "flip--sdpo-token", bootstrap=5)
    flip = report.pairs["flip"]
    assert report.pairs["no_flip"] == "no-flip--sdpo-token" and flip["identical_before_flip"] is True
    assert (flip["tau"], flip["old"], flip["new"]) == (4, "concise", "elaborate")
    assert [r["t"] for r in flip["rows"]] == [4, 6, 8]  # the τ probe, then every probe after it
    assert flip["new_change"]["n"] == 2  # two probe prompts, paired by prompt
    assert flip["verdict"] in VERDICTS
    assert flip["verdict"] == flip_verdict(flip["new_change"], flip["old_change"], flip["paired"],
                                           flip["unlearning_applicable"])
    md = write_run_report(tiny_flip / "flip--sdpo-token", tmp_path, bootstrap=5)[0].read_text()
    assert "### Flip: 'concise' → 'elaborate' at τ = 4" in md
    assert "- 'elaborate' (the new wish) from τ to the end: " in md
    assert f"- verdict: {flip['verdict']}: " in md
    assert md.count("verdict: ") == 1


def test_a_frozen_flip_run_without_a_no_flip_match_still_gets_its_curves_and_no_change(tiny_flip):
    flip = build_run_report(tiny_flip / "flip--frozen", bootstrap=5).pairs["flip"]
    assert flip["paired"] is None and flip["identical_before_flip"] is None
    assert flip["new_change"]["mean"] == 0.0 and flip["old_change"]["mean"] == 0.0  # weights never change
    assert flip["verdict"] == NO_CHANGE
