"""Four persona kinds written afresh (newcomer_runs.py), run for real, and every label of
their reports checked against the logs: schedule, phase numbers, probe times, end-of-run
columns, live counts, scenario words, irrelevant follow-ups, and the warnings a running run
or an unfinished baseline must carry.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from newcomer_runs import PERSONAS, SCENARIOS, run_newcomer_sweep, write_personas

from simbench.reporting.leaderboard import write_leaderboard
from simbench.reporting.pages import write_run_report
from simbench.reporting.summary_table import adherence_columns

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def results(tmp_path_factory, smol_tokenizer) -> Path:
    return run_newcomer_sweep(tmp_path_factory.mktemp("newcomer") / "results", smol_tokenizer)


def records(run: Path, name: str) -> list[dict]:
    return [json.loads(line) for line in (run / f"{name}.jsonl").read_text().splitlines() if line.strip()]


def schedule_of(name: str) -> list[tuple[int, list[str]]]:
    import yaml

    data = yaml.safe_load(PERSONAS[name])
    return [(phase["at"], phase["preferences"]) for phase in data["schedule"]]


def table_rows(markdown: str, title: str) -> list[list[str]]:
    """The body rows of the first markdown table after the heading `title`."""
    lines = markdown.split(f" {title}\n", 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


@pytest.mark.parametrize("name", list(PERSONAS))
def test_every_label_of_the_sdpo_report_matches_the_logs(results, name):
    run = results / f"{name}--sdpo-token--s0"
    md_path, html_path = write_run_report(run, bootstrap=20)
    text = md_path.read_text()
    manifest = json.loads((run / "manifest.json").read_text())
    probe_times = sorted({r["t"] for r in records(run, "probes")})
    interactions = records(run, "interactions")
    schedule = schedule_of(name)
    total = manifest["interactions"]

    # Facts: counts from the logs, never "?" or "0 session(s)".
    assert f"| interactions | {len({r['t'] for r in interactions})} of {total} logged (status: complete) |" in text
    assert f"over {len(manifest['sessions'])} session(s)" in text and "0 session(s)" not in text
    assert not re.search(r"(^|[\s|(])\?([\s|)]|$)", text.split("## Interactions")[0])
    assert f"| scenario | {SCENARIOS[name]} (" in text

    # Schedule: phases from 1, interaction ranges, preferences and the probes inside each.
    rows = table_rows(text, "Schedule")
    ends = [at for at, _ in schedule[1:]] + [total]
    assert len(rows) == len(schedule)
    for k, ((at, prefs), end, row) in enumerate(zip(schedule, ends, rows)):
        inside = [t for t in probe_times if at < t <= end]
        assert row[:3] == [str(k + 1), f"{at}–{end - 1}", ", ".join(prefs)]
        assert row[4] == (", ".join(map(str, inside)) or "none (not measured)")

    # Adherence table: one row per logged probe time, phase starts numbered from 1.
    adherence = table_rows(text, "Adherence by probe time")
    assert [int(r[0].split()[0]) for r in adherence] == probe_times
    starts = {at: k + 1 for k, (at, _) in enumerate(schedule)}
    for row in adherence:
        t = int(row[0].split()[0])
        assert row[0] == (f"{t} (phase {starts[t]} starts)" if t in starts else str(t))

    # Adaptation rows: the phase in which each preference became active, counted from 1.
    expected = []
    previous: list[str] = []
    for k, (_, prefs) in enumerate(schedule):
        expected += [(p, str(k + 1)) for p in prefs if p not in previous]
        previous = prefs
    assert [(r[0], r[1]) for r in table_rows(text, "Adaptation (threshold g ≥ 0.8 held for 2 probes)")] == expected

    # End-of-run table: each column names the probe whose values it holds.
    labels, values = adherence_columns(run)
    shown = [int(m) for label in labels for m in re.findall(r"t=(\d+)", label)]
    assert set(shown) <= set(probe_times)
    for k, (at, _) in enumerate(schedule[:-1]):
        inside = [t for t in probe_times if at < t <= ends[k]]
        label = labels[1 + k]
        assert label == (f"phase {k + 1} last probe (t={inside[-1]})" if inside else f"phase {k + 1}: no probe")
    probes = records(run, "probes")
    for pid, row in values.items():
        for label, value in zip(labels, row):
            found = re.search(r"t=(\d+)", label)
            if found:
                at_t = [r["checks"][pid]["passed"] for r in probes if r["t"] == int(found.group(1))]
                assert value == pytest.approx(sum(at_t) / len(at_t))

    # Each interaction shown says "irrelevant by design" exactly when its record does.
    by_key = {(r["t"], r["turn"]): r for r in interactions}
    for t, turn, rest in re.findall(r"### t=(\d+), turn (\d+) · (.*)", text):
        assert ("irrelevant by design" in rest) == by_key[(int(t), int(turn))]["irrelevant"]

    # The plot marks every switch; the glossary is there in both formats.
    html = html_path.read_text()
    for at, _ in schedule[1:]:
        assert f'id="phase-switch-t{at}"' in html
    assert "## Glossary" in text and 'id="glossary"' in html
    for symbol in ("AULC", "U(t)", "ACC", "BWT", "min-ACC", "specificity", "drift", "retained"):
        assert f"| {symbol.replace('|', chr(92) + '|')} |" in text, symbol


def test_the_noisy_persona_logged_irrelevant_follow_ups_and_the_rules_user_is_not_gated(results):
    run = results / "noisy--sdpo-token--s0"
    interactions = records(run, "interactions")
    assert any(r["irrelevant"] for r in interactions) and not all(r["irrelevant"] for r in interactions)
    text = write_run_report(run, bootstrap=20)[0].read_text()
    assert "not gated: the rules user writes checked templates" in text
    # The calm-tone user never exclaims in its own complaints, praise or thanks.
    assert not [r["follow_up"] for r in interactions if not r["irrelevant"] and "!" in r["follow_up"]]


def test_scenario_words_agree_across_personas_list_reports_and_leaderboard(results, tmp_path):
    from simbench.persona.engine import PersonaEngine
    from simbench.persona.loader import load_persona

    paths = write_personas(tmp_path / "personas")
    board = json.loads(write_leaderboard(results, tmp_path / "board", bootstrap=5)[2].read_text())
    by_persona = {r["persona"]: r["scenario"] for r in board["runs"]}
    for name, path in paths.items():
        assert PersonaEngine(load_persona(path, check_prompts=False)).scenario() == SCENARIOS[name]
        assert by_persona[name] == SCENARIOS[name]
    md = (tmp_path / "board" / "leaderboard.md").read_text()
    assert "## Scenario: revert (an earlier set of preferences comes back)" in md
    assert "## Glossary" in md and "probing" in board["metrics"]["cost"]
    # Every flag the rows carry is counted in the notes, in words.
    from simbench.reporting.glossary import FLAG_WORDS

    noted = [n for n in board["notes"] if " are flagged " in n]
    assert noted and all(FLAG_WORDS[n.split(" are flagged ")[1].split(":")[0]] in n for n in noted)


def test_cost_stages_add_up_to_the_total(results):
    run = results / "stacked--sdpo-token--s0"
    text = write_run_report(run, bootstrap=5)[0].read_text()
    rows = dict((r[0], float(r[1])) for r in table_rows(text, "Cost (seconds per interaction by stage)"))
    stages = [rows[s] for s in ("generation", "user simulator", "update", "probing")]
    assert rows["total of these stages"] == pytest.approx(sum(stages), abs=0.003)
    assert rows["wall time"] == pytest.approx(rows["total of these stages"] + rows["other (model loading, checkpoints, logs)"], abs=0.003)
    assert rows["probing"] > 0


def test_a_running_run_and_an_unfinished_baseline_are_reported_with_live_counts(results, tmp_path):
    copy = tmp_path / "results"
    for learner in ("frozen", "sdpo-token"):
        shutil.copytree(results / f"flip-odd--{learner}--s0", copy / f"flip-odd--{learner}--s0")
    for learner, keep in (("sdpo-token", 8), ("frozen", 12)):
        run = copy / f"flip-odd--{learner}--s0"
        manifest = json.loads((run / "manifest.json").read_text())
        manifest.update(status="running", sessions=[])
        manifest.pop("position", None)
        (run / "manifest.json").write_text(json.dumps(manifest))
        for name in ("interactions", "probes", "updates", "general"):
            kept = [r for r in records(run, name) if r["t"] < keep or (name != "interactions" and r["t"] <= keep)]
            (run / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in kept))
        kept_updates = {r["update"] for r in records(run, "updates")}
        if (run / "signals.jsonl").exists():  # a cut-back folder holds the signals of its updates only
            kept = [r for r in records(run, "signals") if r["update"] in kept_updates]
            (run / "signals.jsonl").write_text("".join(json.dumps(r) + "\n" for r in kept))
    run = copy / "flip-odd--sdpo-token--s0"
    text = write_run_report(run, bootstrap=5)[0].read_text()
    updates = len(records(run, "updates"))
    probe_times = len({r["t"] for r in records(run, "probes")})
    assert (f"this run is running: 8 of 20 interactions, {probe_times} probe time(s) and {updates} update(s) "
            "logged so far") in text
    assert "the frozen baseline ../flip-odd--frozen--s0 is running (12 of 20 interactions logged)" in text
    assert "| interactions | 8 of 20 logged (status: running) |" in text
    assert "not recorded yet" in text and "0 session(s)" not in text
    assert not re.search(r"(^|[\s|(])\?([\s|)]|$)", text.split("## Interactions")[0])
