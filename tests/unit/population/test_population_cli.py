"""`simbench sweep --executor batched` end to end: a mixed population in groups of
`--max-members`, member folders the leaderboard reads, and sweep.json naming the executor."""

from __future__ import annotations

import json

import pytest
from cli_inprocess import run_main
from population_runs import SETTINGS, write_persona
from tinymodels import make_tiny_llama, single_torch_thread


@pytest.fixture(autouse=True)
def _one_thread():
    with single_torch_thread():
        yield


def test_the_sweep_runs_populations_in_groups_into_folders_the_leaderboard_reads(tmp_path, capsys, smol_tokenizer):
    model_dir = tmp_path / "tiny-model"
    make_tiny_llama(smol_tokenizer, layers=1, hidden=32).save_pretrained(model_dir)
    smol_tokenizer.save_pretrained(model_dir)
    persona = write_persona(tmp_path)
    out = tmp_path / "results"
    flags = [f"--{key.replace('_', '-')}={value}" for key, value in SETTINGS.items()]
    args = ["sweep", "--personas", persona, "--learners", "frozen", "sdpo-token", "in-context-oracle",
            "--seeds", "0", "--out", out, "--model", model_dir, "--executor", "batched", "--max-members", "2",
            "--quiet", *flags]
    code, stdout, err = run_main(capsys, *args)
    assert code == 0, err
    names = ["two-phase--frozen--s0", "two-phase--sdpo-token--s0", "two-phase--in-context-oracle--s0"]
    assert [line.split()[0] for line in stdout.splitlines()[:3]] == ["complete"] * 3
    sweep = json.loads((out / "sweep.json").read_text())
    assert sweep["executor"] == {"name": "batched", "max_members": 2}
    assert {name: run["status"] for name, run in sweep["runs"].items()} == dict.fromkeys(names, "complete")
    assert len((out / "two-phase--sdpo-token--s0" / "updates.jsonl").read_text().splitlines()) == 3

    code, stdout, err = run_main(capsys, *args)  # the same command again: every member is complete
    assert code == 0 and stdout.count("skipped") == 3, err

    code, _, err = run_main(capsys, "leaderboard", out, "--bootstrap", "10")
    assert code == 0, err
    assert (out / "leaderboard.json").is_file()
