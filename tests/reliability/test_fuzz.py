"""A seeded fuzz pass: mutated persona files, `--config` files and run logs go through the
real CLI (`simbench.cli.main`, in process). Every example must end in exit 0 or exit 2; on
exit 2 with exactly one `error: ` line on stderr (after any `warning: ` lines), no traceback
anywhere, and the working folder byte-for-byte as it was (no report folder created); on
exit 0 stderr holds nothing but `warning: ` lines.

Mutations come from fuzz_mutations.py: keys deleted, duplicated, swapped; values of other
types, huge, negative or float numbers, deep nesting, odd unicode (NUL, lone surrogates),
long strings, bad regexes in a local preference's `check:`, YAML tags and aliases, non-JSON
tokens, truncation, byte flips and line edits. Each example's seed is in its test id; a
failure prints the seed, the mutations and the mutated input.

SIMBENCH_FUZZ_EXAMPLES (default 300) sets how many examples run, SIMBENCH_FUZZ_SEED (default
0) shifts every seed: `SIMBENCH_FUZZ_EXAMPLES=2000 pytest tests/reliability/test_fuzz.py`.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import traceback
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml
from fuzz_mutations import BAD_REGEXES, JSON_RAW, YAML_RAW, Mutator, dump_json, dump_yaml, serialize
from reliability_helpers import LOGS, TINY_RUN
from test_bad_input_table import base, snapshot  # noqa: F401  (`base`: the real tiny run fixture)

from simbench.cli import main

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parent / "corpus"
EXAMPLES = int(os.environ.get("SIMBENCH_FUZZ_EXAMPLES", "300"))
SEED = int(os.environ.get("SIMBENCH_FUZZ_SEED", "0"))
# Out of every 20 examples: persona files through `personas validate` (and a few through
# `personas show` and `run`), configs through `run`, logs through `report` and `leaderboard`.
KINDS = (["persona"] * 7 + ["persona-show", "persona-run"] + ["config"] * 6 + ["report"] * 3 + ["leaderboard"] * 2)
SHOWN = 3000  # characters of the mutated input a failure prints

PERSONA_SOURCES = sorted([*(REPO / "personas").glob("*.yaml"), *(REPO / "personas" / "paper").glob("*.yaml"),
                          *(CORPUS / "personas").glob("*.yaml")])
LOCAL_PREFERENCE = {
    "id": "fuzzed-check", "description": "A local preference whose check is fuzzed.",
    "complaints": ["Please fix that."], "check": {"forbid_regex": ";"},
}


def example_ids() -> list[tuple[str, int]]:
    return [(KINDS[i % len(KINDS)], SEED * 1_000_003 + i) for i in range(EXAMPLES)]


# ---------------------------------------------------------------------------- inputs


def mutated_persona(seed: int) -> tuple[bytes, Mutator]:
    """A real persona file (shipped or from the corpus), parsed, mutated and written back."""
    mutator = Mutator(seed, YAML_RAW)
    r = mutator.random
    source = r.choice(PERSONA_SOURCES)
    mutator.notes.append(f"from {source.relative_to(REPO)}")
    data = source.read_bytes()
    try:
        # A file with aliases (the corpus's alias bomb) is only mutated as bytes: expanded,
        # it is a tree of billions of nodes.
        aliased = any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(data))
        tree = None if aliased else yaml.safe_load(data)
    except yaml.YAMLError:
        tree = None
    if not isinstance(tree, dict):
        return mutator.mutate_bytes(data), mutator
    if r.random() < 0.3:
        check = {r.choice(["forbid_regex", "require_regex"]): r.choice(BAD_REGEXES)}
        if r.random() < 0.5:
            check[r.choice(["max_words", "min_words", "max_sentences"])] = mutator.value()
        existing = tree.get("preferences")
        local = {**copy.deepcopy(LOCAL_PREFERENCE), "check": check}
        tree["preferences"] = [*(existing if isinstance(existing, list) else []), local]
        tree["schedule"] = [{"at": 0, "preferences": ["fuzzed-check"]}]
        mutator.notes.append(f"local check {check!r}")
    for _ in range(r.choice([0, 1, 1, 2, 3])):
        tree = mutator.mutate_tree(tree)
    text = serialize(mutator, tree, dump_yaml)
    if r.random() < 0.15:
        key = r.choice(["id", "schedule", "interactions", "background"])
        text += f"{key}: again\n".encode()
        mutator.notes.append(f"duplicate key {key}")
    if r.random() < 0.25:
        text = mutator.mutate_bytes(text)
    return text, mutator


def mutated_config(seed: int, model_dir: Path) -> tuple[str, bytes, Mutator]:
    """The tiny-run config of the reliability tests (JSON, sometimes YAML), mutated."""
    mutator = Mutator(seed, JSON_RAW)
    r = mutator.random
    tree: Any = {**TINY_RUN, "model": str(model_dir), "persona": r.choice(["concise", "headline-reader"]),
                 "learner": r.choice(["sdpo-token", "frozen", "in-context-memory"]),
                 "learner_options": {"lr": 0.001}, "user_options": {}}
    as_yaml = r.random() < 0.2
    if as_yaml:
        mutator.raw_pool = YAML_RAW
    for _ in range(r.choice([1, 1, 2, 3])):
        tree = mutator.mutate_tree(tree)
    text = serialize(mutator, tree, dump_yaml if as_yaml else dump_json)
    if r.random() < 0.2:
        text = mutator.mutate_bytes(text)
    return ("config.yaml" if as_yaml else "config.json"), text, mutator


def mutate_run(root: Path, seed: int) -> tuple[str, Mutator]:
    """One log or the manifest of the run in root/run changed in place; returns the file."""
    mutator = Mutator(seed, JSON_RAW)
    r = mutator.random
    name = r.choice([f"{log}.jsonl" for log in LOGS] + ["manifest.json"] * 3)
    path = root / "run" / name
    data = path.read_bytes() if path.exists() else b""
    action = r.random()
    if action < 0.05:
        path.unlink(missing_ok=True)
        mutator.notes.append("deleted")
        return name, mutator
    if name == "manifest.json" and action < 0.75:
        tree = json.loads(data)
        for _ in range(r.choice([1, 1, 2])):
            tree = mutator.mutate_tree(tree)
        path.write_bytes(serialize(mutator, tree, dump_json))
    elif action < 0.65 and data.strip():
        lines = data.splitlines(keepends=True)
        index = r.randrange(len(lines))
        mutator.notes.append(f"line {index + 1}")
        tree = mutator.mutate_tree(json.loads(lines[index]))
        lines[index] = serialize(mutator, tree, dump_json).replace(b"\n", b"\\n") + b"\n"
        path.write_bytes(b"".join(lines))
    else:
        path.write_bytes(mutator.mutate_bytes(data))
    return name, mutator


# ---------------------------------------------------------------------------- the check


# Warning classes Python's default filters hide in a real CLI process; any other warning
# (numpy's "overflow encountered", say) would be printed on its stderr.
HIDDEN_WARNINGS = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)


def run_cli(args: list[str], capsys) -> tuple[int, str, str, str]:
    """`main(args)`: (exit code, stdout, stderr, the traceback of an exception that escaped).
    Python warnings are added to stderr as the real process would print them (pytest would
    otherwise swallow them)."""
    escaped = ""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            main(args)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # noqa: BLE001  (any escape is the finding)
            code, escaped = -1, traceback.format_exc()
    captured = capsys.readouterr()
    shown = [f"{w.filename}:{w.lineno}: {w.category.__name__}: {w.message}\n" for w in caught
             if not issubclass(w.category, HIDDEN_WARNINGS)]
    return code, captured.out, captured.err + "".join(shown), escaped


def check_outcome(args: list[str], root: Path, capsys, what: str, shown: bytes) -> None:
    before = snapshot(root)
    code, out, err, escaped = run_cli(args, capsys)
    after = snapshot(root)
    context = (f"\n{what}\nargs: {args}\nexit: {code}\nstderr: {err[-2000:]!r}\n"
               f"input ({len(shown)} bytes): {shown[:SHOWN]!r}")
    assert not escaped, f"an exception escaped the CLI:\n{escaped[:4000]}{context}"
    assert code in (0, 2), f"exit code {code}{context}"
    assert "Traceback" not in out and "Traceback" not in err, f"traceback printed{context}"
    lines = err.strip().splitlines()
    if code == 0:
        stray = [line for line in lines if not line.startswith("warning: ")]
        assert not stray, f"exit 0 but stderr holds more than warnings{context}"
    if code == 2:
        errors = [line for line in lines if not line.startswith("warning: ")]
        assert len(errors) == 1 and errors[0] == lines[-1], f"not one error line{context}"
        assert errors[0].startswith("error: "), f"error line does not start 'error: '{context}"
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        assert changed == [], f"exit 2 but changed {changed}{context}"


@pytest.fixture(scope="module")
def busy_root(tmp_path_factory, tiny_model_dir) -> Path:
    """A folder with `busy/`, an --out that already holds a file: a `run` whose every input
    is valid stops there (exit 2) after the whole preflight, before any model loads."""
    root = tmp_path_factory.mktemp("fuzz-busy")
    (root / "busy").mkdir()
    (root / "busy" / "keep.txt").write_text("a previous run\n", encoding="utf-8")
    return root


def test_the_fuzz_budget_covers_every_kind():
    kinds = {kind for kind, _ in example_ids()}
    assert EXAMPLES < len(KINDS) or kinds == set(KINDS)
    assert len({seed for _, seed in example_ids()}) == EXAMPLES


def test_the_mutator_is_deterministic_per_seed(tiny_model_dir):
    assert mutated_persona(7)[0] == mutated_persona(7)[0]
    assert mutated_config(7, tiny_model_dir)[1] == mutated_config(7, tiny_model_dir)[1]
    assert len({mutated_persona(seed)[0] for seed in range(20)}) > 15


@pytest.mark.parametrize(("kind", "seed"), example_ids(), ids=[f"{k}-{s}" for k, s in example_ids()])
def test_fuzzed_input_exits_0_or_2_with_one_line_and_writes_nothing_on_error(
        kind, seed, tmp_path, monkeypatch, capsys, busy_root, tiny_model_dir, one_torch_thread, request):
    root = tmp_path / "case"
    if kind.startswith("persona"):
        text, mutator = mutated_persona(seed)
        shutil.copytree(busy_root, root)
        shutil.copytree(CORPUS / "personas" / "pools", root / "pools")
        (root / "persona.yaml").write_bytes(text)
        args = {"persona": ["personas", "validate", "persona.yaml"],
                "persona-show": ["personas", "show", "persona.yaml"],
                "persona-run": ["run", "--persona", "persona.yaml", "--model", str(tiny_model_dir), "--out", "busy",
                                "--quiet", "--interactions", "8", "--batch-size", "2", "--probe-every", "4"]}[kind]
    elif kind == "config":
        name, text, mutator = mutated_config(seed, tiny_model_dir)
        shutil.copytree(busy_root, root)
        (root / name).write_bytes(text)
        args = ["run", "--config", name, "--out", "busy", "--quiet"]
    else:
        base_run = request.getfixturevalue("base")
        shutil.copytree(base_run, root, ignore=shutil.ignore_patterns("checkpoints"))
        name, mutator = mutate_run(root, seed)
        path = root / "run" / name
        text = path.read_bytes() if path.exists() else b"<deleted>"
        args = (["report", "run", "--out", "rep", "--bootstrap", "3"] if kind == "report" else
                ["leaderboard", ".", "--out", "lb", "--bootstrap", "3"])
    monkeypatch.chdir(root)
    what = f"fuzz example {kind}-{seed}: " + "; ".join(note[:300] for note in mutator.notes)
    check_outcome(args, root, capsys, what, text)
