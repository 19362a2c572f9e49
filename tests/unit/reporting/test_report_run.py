"""`simbench report`: report.md + one self-contained report.html from a run folder alone."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from synthetic_runs import (  # noqa: F401 (fixture)
    ATTR,
    PAYLOAD,
    SINGLE,
    XSS,
    always,
    flip_results,
    never,
    write_run,
)

from simbench.cli import main
from simbench.errors import InputError
from simbench.metrics import load_run_logs, summarise_run
from simbench.reporting.html import fmt_interval
from simbench.reporting.pages import write_run_report
from simbench.reporting.run_report import build_run_report, noise_of, pick_baselines, sibling_runs, spread

RUN = "flipper--sdpo-token--s0"


def test_html_is_self_contained_with_plot_metrics_and_token_colours(flip_results, tmp_path):
    md_path, html_path = write_run_report(flip_results / RUN, tmp_path / "out")
    html = html_path.read_text()
    assert html.count("<svg ") == 1 and "<path " in html
    assert not re.search(r"<(script|link|iframe|img)\b", html)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)
    assert "Adaptation" in html and "Unlearning" in html and "Collateral drift" in html
    # 3 updates spread over 4 (0, 2, 3), 4 tokens each, every one titled with its value
    assert html.count(": A = ") == 12 and ": A = -1.0000" in html
    assert md_path.read_text().startswith("# simbench run:")


def test_model_and_user_text_is_escaped_everywhere_in_html(flip_results, tmp_path):
    _, html_path = write_run_report(flip_results / RUN, tmp_path)
    html = html_path.read_text()
    assert XSS not in html and ATTR not in html and "onmouseover=\"" not in html
    # persona name (title, facts), responses, follow-ups, probe answers and tokens all show escaped
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 10


def test_markdown_keeps_model_text_inside_fences_and_escapes_table_cells(flip_results, tmp_path):
    md_path, _ = write_run_report(flip_results / RUN, tmp_path)
    md = md_path.read_text()
    outside_fences = re.sub(r"^(`{3,})text\n.*?\n\1$", "", md, flags=re.S | re.M)
    assert XSS not in outside_fences and "&lt;script&gt;" in outside_fences
    assert "text\n" + PAYLOAD + " #0\n" in md  # a response, verbatim inside its fence


def test_report_names_the_sibling_baselines_and_uses_them(flip_results, tmp_path):
    report = build_run_report(flip_results / RUN)
    assert report.baselines.frozen.name == "flipper--frozen--s0"
    assert report.baselines.oracle.name == "flipper--in-context-oracle--s0"
    logs = load_run_logs(flip_results / RUN)
    expected = summarise_run(logs, load_run_logs(report.baselines.frozen),
                             load_run_logs(report.baselines.oracle))
    md = write_run_report(flip_results / RUN, tmp_path)[0].read_text()
    assert "frozen arm (b): ../flipper--frozen--s0" in md
    first = expected.adaptation[0]
    assert fmt_interval(first.aulc, *first.aulc_ci) in md
    assert first.b == 0.25  # the frozen run passes 1 of 4 prompts, not the run's own t=0


def test_runs_of_another_seed_persona_or_model_are_not_baselines(flip_results, tmp_path):
    lone = tmp_path / "lone"
    shutil.copytree(flip_results / RUN, lone / RUN)
    write_run(lone / "flipper--frozen--s1", learner="frozen", seed=1, passing=never)
    write_run(lone / "other--frozen--s0", learner="frozen", persona_id="other", passing=never)
    write_run(lone / "flipper-big--frozen--s0", learner="frozen", model="bigger", passing=never)
    manifest = json.loads((lone / RUN / "manifest.json").read_text())
    baselines = pick_baselines(manifest, sibling_runs(lone / RUN))
    assert baselines.frozen is None and baselines.oracle is None
    md = write_run_report(lone / RUN)[0].read_text()
    assert "frozen arm (b): none found" in md and "in-context oracle (c): none found: c = 1" in md


def test_run_without_signals_says_so(tmp_path):
    run = write_run(tmp_path / "r", learner="frozen", passing=never, general=False)
    md_path, html_path = write_run_report(run)
    assert "logged no token signals" in html_path.read_text()
    assert "logged no token signals" in md_path.read_text()
    assert "KL and NLL: not measured (this run folder has no drift.jsonl" in md_path.read_text()


def test_malformed_signal_record_names_the_file(flip_results):
    record = {"update": 0, "t": 0, "response": "a", "follow_up": "b", "tokens": ["a"], "advantages": []}
    (flip_results / RUN / "signals.jsonl").write_text(json.dumps(record) + "\n")
    with pytest.raises(InputError, match=r"signals.jsonl: line 1: needs 'tokens' and 'advantages'"):
        build_run_report(flip_results / RUN)


def test_spread_keeps_first_and_last():
    assert spread(list(range(10)), 3) == [0, 4, 9]
    assert spread([1, 2], 5) == [1, 2]


def test_report_command_writes_both_files(flip_results, tmp_path, capsys):
    main(["report", str(flip_results / RUN), "--out", str(tmp_path / "o"), "--bootstrap", "50"])
    assert (tmp_path / "o" / "report.html").is_file() and (tmp_path / "o" / "report.md").is_file()
    assert "wrote" in capsys.readouterr().out


def test_report_command_on_a_missing_folder_is_a_one_line_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(tmp_path / "nope")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: RUN_DIR:") and "\n" not in err


def test_report_leads_with_specificity_against_the_twin_and_frozen(flip_results, tmp_path):
    # sdpo-token passes every prompt at both phase ends (concise at t=4, detailed at t=8); its
    # unrelated-feedback twin passes nothing: +1 on each of 4 prompts. The frozen run passes
    # prompt 0 only: differences 0, 1, 1, 1 -> +0.75.
    write_run(flip_results / "flipper--sdpo-token+unrelated--s0", learner="sdpo-token+unrelated", passing=never)
    md = write_run_report(flip_results / RUN, tmp_path, bootstrap=200)[0].read_text()
    assert md.index("Specificity") < md.index("Adaptation")
    twin = next(line for line in md.splitlines() if line.startswith("| unrelated-feedback twin |"))
    assert "flipper--sdpo-token+unrelated--s0" in twin and "+1.00 [+1.00, +1.00]" in twin
    assert "| 4 (1 seed x prompts) |" in twin
    frozen = next(line for line in md.splitlines() if line.startswith("| frozen |"))
    assert "+0.75 [" in frozen


def test_report_without_a_twin_says_it_is_missing(flip_results, tmp_path):
    md = write_run_report(flip_results / RUN, tmp_path, bootstrap=20)[0].read_text()
    assert "| unrelated-feedback twin | not in this folder | – |" in md


def test_flip_report_shows_both_wishes_from_tau_beside_the_matching_no_flip_run(flip_results, tmp_path):
    # The no-flip run (concise throughout) gives the same answers up to τ = 4 and passes concise
    # everywhere; the flip run also passes concise at t = 6 and 8 after being told "detailed",
    # and takes up "detailed" on 1, then 3, then 4 of 4 prompts (t = 4, 6, 8). Flip minus
    # no-flip is 0 on every prompt; "detailed" rises by 0.75, too few prompts for an interval
    # above 0, so the verdict is "no change" and never "moved away" from the unfallen concise.
    write_run(flip_results / "concise--sdpo-token--s0", learner="sdpo-token", schedule=SINGLE, opposites={},
              persona_id="concise", passing=always, text=PAYLOAD)
    write_run(flip_results / "concise--sdpo-logit--s0", learner="sdpo-logit", schedule=SINGLE, opposites={},
              persona_id="concise", passing=never, text=PAYLOAD)
    report = build_run_report(flip_results / RUN, bootstrap=100)
    assert report.pairs["no_flip"] == "concise--sdpo-token--s0"  # same learner, not sdpo-logit
    flip = report.pairs["flip"]
    assert flip["identical_before_flip"] is True
    assert [(r["t"], r["flip_old"], r["no_flip_old"], r["flip_new"]) for r in flip["rows"]] == [
        (4, 1.0, 1.0, 0.25), (6, 1.0, 1.0, 0.75), (8, 1.0, 1.0, 1.0)]
    assert flip["paired"]["mean"] == 0.0 and flip["paired"]["n"] == 4
    assert flip["new_change"]["mean"] == 0.75 and flip["old_change"]["mean"] == 0.0
    assert flip["unlearning_applicable"] is True and flip["verdict"] == "no change"
    md = write_run_report(flip_results / RUN, tmp_path, bootstrap=100)[0].read_text()
    assert "### Flip: 'concise' → 'detailed' at τ = 4" in md
    assert "| 4 | 0.25 | 1.00 | 1.00 | – |" in md  # the τ probe: new wish, old wish, no-flip run (no detailed)
    assert "- 'detailed' (the new wish) from τ to the end: +0.75 [" in md
    assert "identical up to τ = 4: yes" in md
    assert "- verdict: no change: no evidence that the flip run followed the new wish 'detailed'" in md
    assert "moved away" not in md


def test_the_user_noise_rate_is_a_run_fact(flip_results, tmp_path):
    assert noise_of({"irrelevant_rate": 0.0}) == "none" and noise_of({}) == "not recorded"
    run = flip_results / RUN
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["persona"]["irrelevant_rate"] = 0.3
    (run / "manifest.json").write_text(json.dumps(manifest))
    md, html = write_run_report(run, tmp_path)
    assert "| user noise | 30% of follow-ups unrelated to the answer by design |" in md.read_text()
    assert "30% of follow-ups unrelated to the answer by design" in html.read_text()
