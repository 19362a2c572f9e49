"""`simbench signal` and `simbench distill` end to end on a tiny random Llama saved as a local
model folder (the real loading path); bad input exits 2 with one line and writes nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_inprocess import run_main
from tinymodels import make_tiny_llama

SAMPLE = Path(__file__).resolve().parents[3] / "examples" / "conversations.sample.jsonl"
SUMMARY = re.compile(
    r"^signal: mean\|A\| relevant=\d+\.\d{4} unrelated=\d+\.\d{4} ratio=(\d+\.\d\d|n/a); "
    r"relevant>unrelated in \d+/(\d+) cases; stop-decision shift relevant=[+-]\d+\.\d{4} unrelated=[+-]\d+\.\d{4}$"
)


@pytest.fixture(scope="module")
def tiny_model_dir(smol_tokenizer, tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-llama")
    make_tiny_llama(smol_tokenizer).save_pretrained(folder)
    smol_tokenizer.save_pretrained(folder)
    return str(folder)


def case(i: int, preference: str = "concise") -> dict:
    return {
        "id": f"c{i}", "preference": preference, "kind": "constraining",
        "prompt": "How do plants drink?",
        "response": "Roots pull water up. It travels through xylem. Leaves let it evaporate.",
        "relevant": "Too long, one sentence next time.", "unrelated": "What time is it in Tokyo?",
    }


# ---------------------------------------------------------------------------- signal


def test_signal_on_a_cases_file_prints_the_summary_line_and_writes_the_report(capsys, tmp_path, tiny_model_dir):
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(json.dumps(case(i, p)) for i, p in enumerate(["concise", "emoji", "concise"])) + "\n")
    out = tmp_path / "signal"
    code, stdout, err = run_main(capsys, "signal", "--cases", str(cases), "--model", tiny_model_dir, "--out", str(out))
    assert code == 0, err
    lines = stdout.splitlines()
    match = SUMMARY.match(lines[0])
    assert match and match.group(2) == "3", lines[0]
    assert lines[1].startswith("  concise (n=2)") and lines[2].startswith("  emoji (n=1)")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["lines"][0] == lines[0] and summary["meta"]["model"] == tiny_model_dir
    signals = json.loads((out / "signal.json").read_text())
    assert [c["id"] for c in signals["cases"]] == ["c0", "c1", "c2"]
    assert len(signals["cases"][0]["relevant_advantages"]) == len(signals["cases"][0]["token_ids"])
    assert len(list((out / "heatmaps").glob("*.png"))) == 3 and (out / "overview.png").is_file()
    page = (out / "signal.html").read_text()
    assert page.count('<h2>') == 3 and page.count('class="stop"') == 2 * 3 * 3  # 3 sentence ends x 2 rows
    assert "[3/3] c2" in err


def test_signal_builtin_cases_respect_the_limit(capsys, tmp_path, tiny_model_dir):
    out = tmp_path / "signal"
    code, stdout, err = run_main(capsys, "signal", "--cases", "builtin", "--model", tiny_model_dir,
                            "--out", str(out), "--limit", "2")
    assert code == 0, err
    assert SUMMARY.match(stdout.splitlines()[0]).group(2) == "2"
    assert len(json.loads((out / "signal.json").read_text())["cases"]) == 2


def test_signal_rejects_a_malformed_cases_file_with_its_line_and_writes_nothing(capsys, tmp_path, tiny_model_dir):
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps(case(0)) + "\n{broken\n")
    out = tmp_path / "signal"
    code, stdout, err = run_main(capsys, "signal", "--cases", str(cases), "--model", tiny_model_dir, "--out", str(out))
    assert code == 2 and stdout == ""
    assert err.startswith(f"error: {cases}, line 2: malformed JSON") and err.count("\n") == 1
    assert not out.exists()


def test_signal_names_the_model_flag_when_the_model_folder_is_missing(capsys, tmp_path):
    out = tmp_path / "signal"
    code, _, err = run_main(capsys, "signal", "--model", str(tmp_path / "nope"), "--out", str(out), "--limit", "1")
    assert code == 2 and err.startswith("error: --model") and "no such model folder" in err
    assert not out.exists()


# ---------------------------------------------------------------------------- distill


def conversations_with_bad_lines(tmp_path: Path) -> Path:
    good = SAMPLE.read_text().splitlines()[:3]
    lines = [good[0], '[{"role": "user", "content": 3}]', good[1], "not json", good[2]]
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_distill_skips_bad_lines_with_warnings_and_writes_adapter_log_and_manifest(capsys, tmp_path, tiny_model_dir):
    log = conversations_with_bad_lines(tmp_path)
    out = tmp_path / "distilled"
    code, stdout, err = run_main(
        capsys, "distill", "--conversations", str(log), "--model", tiny_model_dir, "--out", str(out),
        "--batch-size", "2", "--max-samples", "3", "--k", "2", "--lr", "0.01",
    )
    assert code == 0, err
    assert f"warning: {log}, line 2: message 0: 'content' must be a string, got int (skipped)" in err
    assert f"warning: {log}, line 4: malformed JSON" in err
    assert stdout.startswith("distill: 3 tuples from 3 conversations (2 bad lines skipped); 2 updates (0 skipped)")
    steps = [json.loads(x) for x in (out / "training_log.jsonl").read_text().splitlines()]
    assert [s["step"] for s in steps] == [0, 1] and sum(s["samples"] for s in steps) == 3
    assert (out / "adapter" / "adapter_model.safetensors").is_file()
    assert (out / "checkpoint" / "state.json").is_file()
    manifest = json.loads((out / "distill.json").read_text())
    assert manifest["skipped_lines"][0] == {"line": 2, "problem": "message 0: 'content' must be a string, got int"}
    assert manifest["tuples"] == 3 and manifest["k"] == 2 and manifest["sdpo_config"]["lr"] == 0.01


def test_distill_reject_mode_exits_2_with_the_line_numbers_and_writes_nothing(capsys, tmp_path, tiny_model_dir):
    log = conversations_with_bad_lines(tmp_path)
    out = tmp_path / "distilled"
    code, stdout, err = run_main(capsys, "distill", "--conversations", str(log), "--model", tiny_model_dir,
                            "--out", str(out), "--on-error", "reject")
    assert code == 2 and stdout == ""
    assert err.startswith(f"error: {log}, line 2: message 0: 'content' must be a string")
    assert "1 more bad line(s): 4" in err and "--on-error skip" in err and err.count("\n") == 1
    assert not out.exists()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--on-error", "ignore"], "error: --on-error: bad value 'ignore'"),
        (["--loss", "tokens"], "error: --loss: bad value 'tokens'"),
        (["--lr", "-1"], "error: --lr: bad value -1.0"),
    ],
)
def test_distill_bad_flags_exit_2_naming_the_flag(capsys, tmp_path, tiny_model_dir, extra, message):
    out = tmp_path / "distilled"
    code, _, err = run_main(capsys, "distill", "--conversations", str(SAMPLE), "--model", tiny_model_dir,
                       "--out", str(out), *extra)
    assert code == 2 and err.startswith(message), err
    assert not out.exists()


def test_distill_refuses_a_file_without_tuples_and_an_out_folder_holding_a_run(capsys, tmp_path, tiny_model_dir):
    log = tmp_path / "short.jsonl"
    log.write_text(json.dumps([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]) + "\n")
    code, _, err = run_main(capsys, "distill", "--conversations", str(log), "--model", tiny_model_dir,
                       "--out", str(tmp_path / "a"))
    assert code == 2 and err.startswith(f"error: {log}: no (x, y, o) tuples: 1 valid conversation(s)")
    used = tmp_path / "used"
    used.mkdir()
    (used / "training_log.jsonl").write_text("")
    code, _, err = run_main(capsys, "distill", "--conversations", str(SAMPLE), "--model", tiny_model_dir,
                       "--out", str(used))
    assert code == 2 and err.startswith("error: --out:")
    code, _, err = run_main(capsys, "distill", "--conversations", str(tmp_path / "absent.jsonl"),
                       "--model", tiny_model_dir, "--out", str(tmp_path / "b"))
    assert code == 2 and "absent.jsonl: file not found" in err


@pytest.mark.parametrize("name", ["training_log.jsonl", "distill.json"])
def test_distill_never_writes_through_a_link_planted_in_its_out_folder(capsys, tmp_path, tiny_model_dir, name):
    """A dangling link would make open() create its target outside the folder; a link to a
    file would overwrite it. Both are refused before the model loads."""
    victim = tmp_path / "victim"
    out = tmp_path / "shared"
    out.mkdir()
    (out / name).symlink_to(victim)
    code, _, err = run_main(capsys, "distill", "--conversations", str(SAMPLE), "--model", tiny_model_dir,
                            "--out", str(out), "--max-samples", "2", "--batch-size", "2")
    assert code == 2 and err.startswith(f"error: --out: {out / name} is a symbolic link")
    assert len(err.strip().splitlines()) == 1
    assert not victim.exists() and sorted(p.name for p in out.iterdir()) == [name]


def test_the_distill_library_refuses_a_log_link_and_replaces_a_manifest_link(tmp_path, tiny_model_dir):
    import errno

    from sdpo.models import load_policy
    from sdpo.offline import distill, parse_conversations

    model, tokenizer = load_policy(tiny_model_dir, "cpu")
    examples = parse_conversations(SAMPLE.read_bytes().split(b"\n"), k=2, on_error="skip").examples[:2]
    victim = tmp_path / "victim.txt"
    victim.write_text("user data\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "training_log.jsonl").symlink_to(victim)
    with pytest.raises(OSError) as caught:
        distill(model, tokenizer, examples, out, batch_size=2)
    assert caught.value.errno == errno.ELOOP and victim.read_text() == "user data\n"
    (out / "training_log.jsonl").unlink()
    (out / "distill.json").symlink_to(victim)
    distill(model, tokenizer, examples, out, batch_size=2)
    assert victim.read_text() == "user data\n" and not (out / "distill.json").is_symlink()
