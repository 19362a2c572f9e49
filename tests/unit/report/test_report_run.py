"""`simbench report`: report.md + one self-contained report.html from a run folder alone."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from simbench.cli import main
from simbench.errors import InputError
from simbench.metrics import load_run_logs, summarise_run
from simbench.report.html import fmt_interval
from simbench.report.run_report import build_run_report, pick_baselines, sibling_runs, spread, write_run_report

from synthetic_runs import ATTR, PAYLOAD, XSS, flip_results, never, write_run  # noqa: F401 (fixture)

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
    first = expected["adaptation"][0]
    assert fmt_interval(first["aulc"], *first["aulc_ci"]) in md
    assert first["b"] == 0.25  # the frozen run passes 1 of 4 prompts, not the run's own t=0


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
    assert "Collateral drift" not in md_path.read_text()


def test_malformed_signal_record_names_the_file(flip_results):
    (flip_results / RUN / "signals.jsonl").write_text(json.dumps({"update": 0, "tokens": ["a"], "advantages": []}) + "\n")
    with pytest.raises(InputError, match=r"signals.jsonl: record 1: needs 'tokens' and 'advantages'"):
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
