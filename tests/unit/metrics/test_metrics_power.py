"""Power of paired comparisons: variance components recovered from simulated data with known
σ_u, σ_p, σ_e; the design variances and MDD checked against brute-force simulation; the
shared-prompt-set floor; and `simbench power` on a committed results folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from cli_inprocess import run_main

from simbench.metrics.paired import minimum_detectable_difference, paired_interval
from simbench.metrics.power import (
    VarianceComponents,
    design_mdd,
    mean_variance,
    users_needed,
    variance_components,
)

RESULTS = Path(__file__).resolve().parents[3] / "results"


def simulate(rng, users, prompts, sigma_u, sigma_p, sigma_e, shared=True, pool=None, mu=0.0):
    """One {prompt id: difference} per user from d = μ + a_u + b_p + e_up; with `shared` every
    user answers prompts 0..P-1, else each user draws P of a `pool` of prompts."""
    pool = pool or prompts
    effects = rng.normal(0.0, sigma_p, pool)
    out = []
    for _ in range(users):
        ids = np.arange(prompts) if shared else rng.choice(pool, prompts, replace=False)
        a = rng.normal(0.0, sigma_u)
        out.append({f"p{i}": mu + a + effects[i] + rng.normal(0.0, sigma_e) for i in ids})
    return out


def test_variance_components_recover_known_sigmas_with_a_shared_prompt_set():
    rng = np.random.default_rng(7)
    c = variance_components(simulate(rng, 400, 60, sigma_u=0.12, sigma_p=0.20, sigma_e=0.50))
    assert (c.users, c.probes, c.shared_prompts) == (400, 60, 60)
    assert np.sqrt(c.user) == pytest.approx(0.12, rel=0.15)
    assert np.sqrt(c.prompt) == pytest.approx(0.20, rel=0.25)
    assert np.sqrt(c.residual) == pytest.approx(0.50, rel=0.05)


def test_variance_components_with_per_user_draws_leave_prompt_and_residual_together():
    rng = np.random.default_rng(8)
    c = variance_components(simulate(rng, 300, 24, 0.15, 0.20, 0.50, shared=False, pool=5000))
    assert c.prompt is None and c.shared_prompts < 2
    assert np.sqrt(c.user) == pytest.approx(0.15, rel=0.2)
    assert c.residual == pytest.approx(0.20 ** 2 + 0.50 ** 2, rel=0.08)


def test_variance_components_clip_negative_estimates_at_zero():
    rng = np.random.default_rng(9)
    c = variance_components(simulate(rng, 50, 20, 0.0, 0.0, 0.5))
    assert c.user >= 0.0 and c.prompt >= 0.0
    assert c.user < 0.01 and c.prompt < 0.01


def test_variance_components_need_two_users():
    with pytest.raises(ValueError):
        variance_components([{"p0": 0.1, "p1": 0.2}])


def test_achieved_design_mdd_equals_the_paired_interval_mdd_on_a_balanced_folder():
    # Balanced and unclipped, σ²_u/U + σ²_e/(U·P) is the cluster-robust SE² the leaderboard uses.
    rng = np.random.default_rng(3)
    users = simulate(rng, 6, 24, 0.15, 0.10, 0.5)
    c = variance_components(users)
    assert c.user > 0
    no_prompt_term = VarianceComponents(**{**c.to_dict(), "prompt": 0.0})
    expected = paired_interval([np.array(list(u.values())) for u in users]).mdd
    assert design_mdd(no_prompt_term, 6, 24, shared=True) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("shared", [True, False])
def test_design_variance_matches_brute_force_simulation(shared):
    # The variance of the grand mean over many simulated studies (prompts redrawn each study).
    rng = np.random.default_rng(11 if shared else 12)
    truth = VarianceComponents(users=5, probes=8, shared_prompts=8, user=0.2 ** 2, prompt=0.3 ** 2,
                               residual=0.4 ** 2, method="truth")
    means = [np.mean([v for u in simulate(rng, 5, 8, 0.2, 0.3, 0.4, shared=shared, pool=None if shared else 4000)
                      for v in u.values()]) for _ in range(6000)]
    assert np.var(means, ddof=1) == pytest.approx(mean_variance(truth, 5, 8, shared), rel=0.06)


def test_mdd_of_per_user_draws_gives_about_80_percent_power_by_simulation():
    # At a true difference equal to the design's MDD, the t test over user means rejects ~80%.
    from scipy.stats import ttest_1samp

    rng = np.random.default_rng(5)
    truth = VarianceComponents(users=8, probes=6, shared_prompts=0, user=0.1 ** 2, prompt=0.2 ** 2,
                               residual=0.4 ** 2, method="truth")
    delta = design_mdd(truth, 8, 6, shared=False)
    rejected = 0
    for _ in range(3000):
        users = simulate(rng, 8, 6, 0.1, 0.2, 0.4, shared=False, pool=3000, mu=delta)
        rejected += ttest_1samp([np.mean(list(u.values())) for u in users], 0.0).pvalue < 0.05
    assert rejected / 3000 == pytest.approx(0.80, abs=0.04)


def test_users_needed_is_the_fewest_users_reaching_the_target():
    c = VarianceComponents(users=5, probes=24, shared_prompts=24, user=0.1 ** 2, prompt=0.05 ** 2,
                           residual=0.5 ** 2, method="given")
    need = users_needed(c, 0.10, 24)
    for users, shared in ((need.shared, True), (need.per_user, False)):
        assert design_mdd(c, users, 24, shared) <= 0.10 < design_mdd(c, users - 1, 24, shared)
    assert need.per_user <= need.shared  # per-user draws shrink the prompt term too


def test_shared_prompt_set_floor_makes_a_small_target_unreachable():
    c = VarianceComponents(users=5, probes=24, shared_prompts=24, user=0.07 ** 2, prompt=0.17 ** 2,
                           residual=0.55 ** 2, method="given")
    floor = (1.959964 + 0.841621) * 0.17 / np.sqrt(24)
    need = users_needed(c, 0.05, 24)
    assert need.shared_floor == pytest.approx(floor, rel=1e-5)
    assert need.shared is None and need.per_user is not None
    # More prompts lower the floor below the target: reachable again.
    assert users_needed(c, 0.05, 200).shared is not None
    assert minimum_detectable_difference(0.17 / np.sqrt(24)) == pytest.approx(floor, rel=1e-5)


def test_power_command_prints_each_specificity_cell_and_the_users_a_target_needs(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    folder = RESULTS / "cpu-specificity-logit"
    before = sorted((p, p.stat().st_mtime_ns) for p in folder.rglob("*"))
    code, out, err = run_main(capsys, "power", folder, "--target-mdd", "0.10", "--probes", "24", "--probes", "96")
    assert code == 0, err
    assert "sdpo-token vs sdpo-unrelated" in out and "sdpo-logit vs sdpo-logit+unrelated" in out
    assert "users for MDD <= 0.1" in out and "per-user prompt draws" in out and "shared-set floor" in out
    assert "σ_u" in out and "achieved MDD" in out
    assert sorted((p, p.stat().st_mtime_ns) for p in folder.rglob("*")) == before  # nothing written


def test_power_command_on_the_token_folder_matches_the_api(capsys, monkeypatch):
    import simbench

    monkeypatch.setenv("COLUMNS", "200")
    cells = simbench.power(RESULTS / "cpu-specificity", target_mdd=0.10)
    assert [(c.learner, c.control, c.scenario) for c in cells] == [("sdpo-token", "sdpo-unrelated", "single")]
    cell = cells[0]
    assert (cell.components.users, cell.components.probes) == (5, 24)
    need = cell.needs[0]
    assert design_mdd(cell.components, need.per_user, 24, shared=False) <= 0.10
    code, out, _ = run_main(capsys, "power", RESULTS / "cpu-specificity")
    assert code == 0
    row = next(line for line in out.splitlines() if line.strip().startswith("24 "))
    assert row.split()[:3] == ["24", str(need.shared), str(need.per_user)]
    assert f"achieved MDD {cell.achieved_mdd:.3f}" in out


def copy_runs(tmp_path: Path, names: list[str]) -> Path:
    for name in names:
        shutil.copytree(RESULTS / "cpu-specificity" / name, tmp_path / name)
    return tmp_path


@pytest.mark.parametrize("runs, words", [
    (["concise-32--frozen--s0", "concise-32--frozen--s1", "concise-32--sdpo-token--s0",
      "concise-32--sdpo-token--s1"], "no specificity pairs"),
    (["concise-32--frozen--s0", "concise-32--sdpo-token--s0", "concise-32--sdpo-unrelated--s0"],
     "one simulated user"),
])
def test_power_command_without_two_users_of_pairs_fails_in_one_line(capsys, tmp_path, runs, words):
    folder = copy_runs(tmp_path, runs)
    before = sorted(p for p in folder.rglob("*"))
    code, out, err = run_main(capsys, "power", folder)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and words in err and "Traceback" not in err
    assert sorted(p for p in folder.rglob("*")) == before


@pytest.mark.parametrize("flags, where", [(["--target-mdd", "0"], "--target-mdd"), (["--probes", "0"], "--probes")])
def test_power_command_rejects_bad_flags_in_one_line(capsys, flags, where):
    code, _, err = run_main(capsys, "power", RESULTS / "cpu-specificity", *flags)
    assert code == 2 and len(err.strip().splitlines()) == 1 and where in err
