"""`simbench data`: each converter on a small file in its data set's published schema writes a
file simbench reads (a prompt pool through `load_prompts`, conversations through the distill
reader) with the expected rows; bad input is one line, exit 2, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_inprocess import run_main

from sdpo.offline import read_conversations
from simbench.prompts import load_prompts

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "data"


def convert(capsys, name, src, out):
    return run_main(capsys, "data", name, src, "--out", out)


def test_helpsteer2_becomes_a_deduplicated_single_turn_prompt_pool_with_stable_ids(capsys, tmp_path):
    out = tmp_path / "pool.jsonl"
    code, stdout, stderr = convert(capsys, "helpsteer2", FIXTURES / "helpsteer2.jsonl", out)
    assert code == 0, stderr
    prompts = load_prompts(str(out))
    assert [p.text for p in prompts] == [
        "What are three tips for keeping houseplants alive in winter?",
        "Explain what a hash table is to a new programmer.",
        "Summarize the causes of the French Revolution in a paragraph.",
    ]  # repeated prompt (two rated responses), case/space variant and multi-turn prompt left out
    assert all(p.id.startswith("helpsteer2-") and p.category == "helpsteer2" for p in prompts)
    assert "3 written" in stdout and "6 rows" in stdout and "1 left out" in stdout and "2 duplicates" in stdout
    again = tmp_path / "again.jsonl"
    assert convert(capsys, "helpsteer2", FIXTURES / "helpsteer2.jsonl", again)[0] == 0
    assert again.read_bytes() == out.read_bytes()  # ids depend on the text only


def test_tldr_posts_become_summarisation_requests(capsys, tmp_path):
    out = tmp_path / "pool.jsonl"
    code, _, stderr = convert(capsys, "tldr", FIXTURES / "tldr.jsonl", out)
    assert code == 0, stderr
    prompts = load_prompts(str(out))
    assert len(prompts) == 2
    first = prompts[0].text
    assert first.startswith("Summarize this Reddit post.\n\nSUBREDDIT: r/relationships")
    assert not first.endswith("TL;DR:") and "label shelves" in first
    assert {p.category for p in prompts} == {"summary"}


def test_wildchat_keeps_conversations_with_a_follow_up_cut_after_the_last_one(capsys, tmp_path):
    out = tmp_path / "conv.jsonl"
    code, stdout, stderr = convert(capsys, "wildchat", FIXTURES / "wildchat.jsonl", out)
    assert code == 0, stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [[m["role"] for m in conv] for conv in lines] == [
        ["user", "assistant", "user"],  # the trailing answer teaches nothing
        ["user", "assistant", "user", "assistant", "user"],
    ]  # no follow-up (b2) and an empty answer (d4) left out
    assert all(set(m) == {"role", "content"} for conv in lines for m in conv)
    parsed = read_conversations(out, on_error="reject")
    assert len(parsed.examples) == 3 and parsed.examples[0].follow_up == "Shorter, one word please."


def test_wildfeedback_keeps_satisfaction_labels_on_the_follow_up(capsys, tmp_path):
    out = tmp_path / "conv.jsonl"
    code, _, stderr = convert(capsys, "wildfeedback", FIXTURES / "wildfeedback.jsonl", out)
    assert code == 0, stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 2
    assert lines[0][-1] == {"role": "user", "content": "Lovely, thank you!", "feedback": "satisfied"}
    assert lines[1][-1]["feedback"] == "dissatisfied" and len(lines[1]) == 3
    assert len(read_conversations(out, on_error="reject").examples) == 2  # labels are read past


def test_a_parquet_file_converts_like_its_jsonl(capsys, tmp_path):
    import datasets

    rows = [json.loads(line) for line in (FIXTURES / "helpsteer2.jsonl").read_text().splitlines()]
    datasets.Dataset.from_list(rows).to_parquet(str(tmp_path / "hs.parquet"))
    assert convert(capsys, "helpsteer2", tmp_path / "hs.parquet", tmp_path / "a.jsonl")[0] == 0
    assert convert(capsys, "helpsteer2", FIXTURES / "helpsteer2.jsonl", tmp_path / "b.jsonl")[0] == 0
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


@pytest.mark.parametrize("name, fixture, column", [
    ("wildchat", "helpsteer2.jsonl", "conversation"),
    ("tldr", "wildchat.jsonl", "prompt"),
])
def test_a_missing_column_is_one_line_naming_file_and_column_and_nothing_is_written(
        capsys, tmp_path, name, fixture, column):
    out = tmp_path / "out.jsonl"
    code, _, stderr = convert(capsys, name, FIXTURES / fixture, out)
    assert code == 2
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert str(FIXTURES / fixture) in stderr and f"column '{column}'" in stderr and "missing" in stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_a_failed_conversion_leaves_an_existing_output_untouched(capsys, tmp_path):
    out = tmp_path / "pool.jsonl"
    out.write_text("keep me\n")
    code, _, stderr = convert(capsys, "tldr", FIXTURES / "wildchat.jsonl", out)
    assert code == 2 and stderr.count("\n") == 1
    assert out.read_text() == "keep me\n" and sorted(p.name for p in tmp_path.iterdir()) == ["pool.jsonl"]


@pytest.mark.parametrize("src, expected", [
    ("absent.jsonl", "file not found"),
    ("notes.txt", "unsupported file type '.txt'"),
])
def test_a_bad_source_is_one_line_exit_2(capsys, tmp_path, src, expected):
    (tmp_path / "notes.txt").write_text("x")
    code, _, stderr = convert(capsys, "wildchat", tmp_path / src, tmp_path / "out.jsonl")
    assert code == 2 and stderr.count("\n") == 1 and expected in stderr
    assert not (tmp_path / "out.jsonl").exists()


def test_no_usable_rows_is_an_error_not_an_empty_file(capsys, tmp_path):
    src = tmp_path / "only-single-turn.jsonl"
    src.write_text(json.dumps({"conversation": [{"role": "user", "content": "hi"}]}) + "\n")
    code, _, stderr = convert(capsys, "wildchat", src, tmp_path / "out.jsonl")
    assert code == 2 and "no usable rows among 1" in stderr
    assert not (tmp_path / "out.jsonl").exists()


def test_limit_writes_the_first_n_items(capsys, tmp_path):
    out = tmp_path / "pool.jsonl"
    code, _, _ = run_main(capsys, "data", "helpsteer2", FIXTURES / "helpsteer2.jsonl", "--out", out, "--limit", "1")
    assert code == 0 and len(load_prompts(str(out))) == 1


def test_import_simbench_data_does_not_import_datasets():
    import subprocess
    import sys

    code = "import sys, simbench.data, simbench.commands.data; sys.exit('datasets' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_without_datasets_the_error_names_the_data_extra(capsys, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "datasets", None)  # what an environment without it raises
    code, _, stderr = convert(capsys, "tldr", FIXTURES / "tldr.jsonl", tmp_path / "out.jsonl")
    assert code == 2 and stderr.count("\n") == 1
    assert "datasets cannot be imported" in stderr and "pip install 'simbench-online[data]'" in stderr
    assert not (tmp_path / "out.jsonl").exists()
