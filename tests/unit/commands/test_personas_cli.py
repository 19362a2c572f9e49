"""`simbench personas ...`: list, validate, show, schema; bad files exit 2 with one line."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import yaml
from cli_inprocess import run_main

from simbench.paths import DEFAULT_PERSONA, default_persona_path, shipped_personas
from simbench.persona.spec import Persona


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simbench", *args], capture_output=True, text=True, timeout=120)


def test_library_has_the_required_scenarios():
    from simbench.persona.engine import PersonaEngine
    from simbench.persona.loader import load_persona

    personas = [load_persona(p, check_prompts=False) for p in shipped_personas()]
    scenarios = [PersonaEngine(p).scenario() for p in personas]
    assert len(personas) >= 12
    assert sum(s == "single" for s in scenarios) >= 3
    assert sum(s == "profile" for s in scenarios) >= 2
    assert sum(s == "flip" for s in scenarios) >= 3
    assert "complementary" in scenarios and "drop" in scenarios
    assert any("revert" in PersonaEngine(p).transitions() for p in personas)
    assert any(0.25 <= p.noise.irrelevant_rate <= 0.35 for p in personas)
    assert default_persona_path().stem == DEFAULT_PERSONA == "concise"


def test_validate_accepts_every_shipped_persona():
    paths = [str(p) for p in shipped_personas()]
    result = run_cli("personas", "validate", *paths)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(paths) and all(line.startswith("ok ") for line in lines)


def test_validate_accepts_a_shipped_persona_id(capsys):
    code, out, _ = run_main(capsys, "personas", "validate", "concise")
    assert code == 0 and out.startswith("ok ") and "concise.yaml" in out


def test_validate_reports_every_bad_file_one_line_each_then_exits_2(tmp_path, capsys):
    data = yaml.safe_load(default_persona_path().read_text(encoding="utf-8"))
    data["schedule"][0]["preferences"] = ["consice"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    data["interactions"] = "many"
    worse = tmp_path / "worse.yaml"
    worse.write_text(yaml.safe_dump(data), encoding="utf-8")
    before = sorted(tmp_path.iterdir())
    code, out, err = run_main(capsys, "personas", "validate", bad, default_persona_path(), "concize", worse,
                              default_persona_path())
    assert code == 2
    assert out.count("ok ") == 2  # the good files after the first bad one are still checked
    lines = err.splitlines()
    assert lines == [
        f"error: {bad}: schedule[0].preferences[0]: unknown preference 'consice' (did you mean 'concise'?)",
        "error: FILE 'concize': no such persona file or shipped persona id (did you mean 'concise'?)",
        lines[2],
    ]
    assert lines[2].startswith(f"error: {worse}: interactions: ") and "Traceback" not in err
    assert sorted(tmp_path.iterdir()) == before


def test_validate_of_a_folder_reports_each_bad_file_in_it(tmp_path, capsys):
    data = yaml.safe_load(default_persona_path().read_text(encoding="utf-8"))
    for name in ("a.yaml", "b.yaml"):
        broken = dict(data, colour="blue")
        (tmp_path / name).write_text(yaml.safe_dump(broken), encoding="utf-8")
    code, out, err = run_main(capsys, "personas", "validate", tmp_path)
    assert code == 2 and out == ""
    assert [line.split(": ")[1] for line in err.splitlines()] == [str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")]


def test_validate_unknown_reference_suggests_a_shipped_persona(capsys):
    code, _, err = run_main(capsys, "personas", "validate", "concize")
    assert code == 2 and "no such persona file or shipped persona id" in err and "did you mean 'concise'?" in err


BREAKS = [
    (lambda d: d["schedule"][0]["preferences"].append("no-such-preference"), "schedule[0].preferences["),
    (lambda d: d["schedule"][-1].update(at=d["interactions"]), "].at: "),
    (lambda d: d.update(colour="blue"), "unknown key 'colour'"),
    (lambda d: d.update(interactions="many"), "interactions: should be a valid integer"),
    (lambda d: d["schedule"].insert(0, {"at": 0, "preferences": list(d["schedule"][0]["preferences"])}), "schedule[1].at: duplicate phase start 0"),
]


@pytest.mark.parametrize("index_path", list(enumerate(shipped_personas())), ids=lambda ip: ip[1].stem)
def test_broken_copy_of_each_shipped_persona_fails_naming_file_and_field(tmp_path, capsys, index_path):
    index, path = index_path
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutate, field = BREAKS[index % len(BREAKS)]
    mutate(data)
    broken = tmp_path / path.name
    broken.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    code, out, err = run_main(capsys, "personas", "validate", str(broken))
    assert code == 2 and out == ""
    assert err.startswith(f"error: {broken}: ") and field in err and err.count("\n") == 1


def test_list_shows_every_shipped_persona_with_its_scenario(capsys):
    code, out, _ = run_main(capsys, "personas", "list")
    assert code == 0
    for path in shipped_personas():
        assert path.stem in out
    assert "flip" in out and "complementary" in out and "single" in out and "(default)" in out


def test_show_draws_one_timeline_row_per_preference(capsys):
    code, out, _ = run_main(capsys, "personas", "show", "complementary-additions")
    assert code == 0
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip().startswith("no-") and "█" in line}
    assert set(rows) == {"no-emojis", "no-filler-praise", "no-markdown-emphasis", "no-lists"}
    # Each later preference's bar starts later: fewer filled cells.
    filled = [rows[p].count("█") for p in ("no-emojis", "no-filler-praise", "no-markdown-emphasis", "no-lists")]
    assert filled == sorted(filled, reverse=True) and filled[0] > filled[-1] > 0
    assert "0-59" in rows["no-emojis"] and "45-59" in rows["no-lists"]


def test_show_of_a_revert_lists_both_spans(capsys):
    code, out, _ = run_main(capsys, "personas", "show", "revert-concise")
    assert code == 0
    concise_row = next(line for line in out.splitlines() if line.strip().startswith("concise"))
    assert "0-19, 40-59" in concise_row


def test_schema_prints_the_persona_json_schema(capsys):
    code, out, _ = run_main(capsys, "personas", "schema")
    assert code == 0
    assert json.loads(out) == Persona.model_json_schema()


def test_show_of_a_bad_file_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "empty.yaml"
    bad.write_text("", encoding="utf-8")
    result = run_cli("personas", "show", str(bad))
    assert result.returncode == 2 and result.stderr == f"error: {bad}: empty file (a persona needs at least id, name, background and schedule)\n"
    assert result.stdout == ""


@pytest.mark.parametrize("width", [7, 23, 47, 60])
def test_timeline_phase_markers_sit_where_each_new_bar_begins(width):
    from simbench.commands.personas import axis_text, timeline_bar
    from simbench.paths import resolve_persona
    from simbench.persona.engine import PersonaEngine
    from simbench.persona.loader import load_persona

    engine = PersonaEngine(load_persona(resolve_persona("complementary-additions"), check_prompts=False))
    markers = [i for i, ch in enumerate(axis_text(engine, width).splitlines()[0]) if ch == "|"]
    starts = [timeline_bar(engine, pid, width).index("█") for pid in engine.ever()]
    assert markers == sorted(set(starts)) and len(timeline_bar(engine, "no-lists", width)) == width


def test_validate_accepts_a_folder_of_persona_files(capsys, tmp_path):
    for name in ("concise", "no-emojis"):
        (tmp_path / f"{name}.yaml").write_text((shipped_personas()[0].parent / f"{name}.yaml").read_text())
    (tmp_path / "notes.txt").write_text("not a persona")
    code, out, err = run_main(capsys, "personas", "validate", tmp_path)
    assert code == 0, err
    assert [line.split()[1] for line in out.splitlines()] == [str(tmp_path / "concise.yaml"),
                                                              str(tmp_path / "no-emojis.yaml")]


def test_validate_of_a_folder_without_personas_exits_2_naming_it(capsys, tmp_path):
    code, out, err = run_main(capsys, "personas", "validate", tmp_path)
    assert code == 2 and out == "" and str(tmp_path) in err and "holds no persona file" in err


def test_show_prints_the_whole_header_and_axis_of_a_short_persona(capsys, tmp_path):
    path = tmp_path / "short.yaml"
    path.write_text("id: short\nname: A persona with a rather long name for a narrow terminal\n"
                    "background: Short.\ninteractions: 12\nschedule:\n  - at: 0\n    preferences: [concise]\n"
                    "  - at: 6\n    preferences: [detailed]\n")
    code, out, _ = run_main(capsys, "personas", "show", path)
    assert code == 0
    flat = " ".join(out.split())
    assert "A persona with a rather long name for a narrow terminal" in flat
    assert "scenario flip, 12 interactions" in flat
    header = next(line for line in out.splitlines() if "preference" in line)
    assert re.search(r"\b0 +12\b", header) and "(interactions)" in header
    assert "12 inte" not in header  # the old header cut "0 .. 12 interactions" to "0 .. 12 inte"


def test_validate_accepts_a_local_preference_with_a_builtin_id_and_warns_in_one_line(capsys, tmp_path):
    path = tmp_path / "shadow.yaml"
    path.write_text("id: shadow\nname: Shadow\nbackground: Redefines a built-in preference.\ninteractions: 8\n"
                    "preferences:\n  - id: concise\n    description: My own concise.\n"
                    "    complaints: [Shorter.]\n    check: {max_words: 20}\n"
                    "schedule:\n  - at: 0\n    preferences: [concise]\n")
    code, out, err = run_main(capsys, "personas", "validate", path)
    assert code == 0 and out.startswith(f"ok {path} (shadow:")
    assert err == (f"warning: {path}: preferences[0].id: 'concise' is also a built-in preference id; this persona "
                   "uses its own definition (rename it to silence this)\n")


@pytest.mark.parametrize("ref", ["paper-no-emojis", "paper/no-emojis", "personas/paper/no-emojs.yaml"])
def test_a_paper_persona_named_by_its_id_suggests_its_file(capsys, ref):
    code, _, err = run_main(capsys, "personas", "validate", ref)
    assert code == 2 and err.count("\n") == 1
    # The file's path (relative to the working folder when inside it), not the top-level no-emojis.
    assert re.search(r"\(did you mean '(/.*/)?personas/paper/no-emojis\.yaml'\?\)$", err.strip())


def test_show_marks_judge_scored_wishes(capsys):
    code, out, _ = run_main(capsys, "personas", "show", "personas/paper/opinionated.yaml")
    assert code == 0
    rows = [line for line in out.splitlines() if "█" in line]
    assert any("opinionated (judge)" in row for row in rows)
    assert any("single-answer" in row and "(judge)" not in row for row in rows)
    assert "(judge): scored by an LLM judge's rubric" in out


def test_show_of_checker_only_persona_has_no_judge_mark(capsys):
    code, out, _ = run_main(capsys, "personas", "show", "concise")
    assert code == 0 and "(judge)" not in out


def test_tables_off_a_terminal_are_not_cut_at_80_columns(capsys, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    code, out, _ = run_main(capsys, "personas", "show", "personas/paper/opinionated.yaml")
    assert code == 0
    description = "One clear recommendation: commit to the single best answer instead of laying out options."
    assert any(description in line for line in out.splitlines())  # one line, not folded at 80
    assert max(map(len, out.splitlines())) > 80
