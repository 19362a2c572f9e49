"""Shipped persona references resolve from any working directory (as from an installed wheel),
while a file of that name in the working directory still wins."""

from __future__ import annotations

import pytest

from simbench.errors import InputError
from simbench.paths import personas_dir, resolve_persona


def test_a_personas_path_resolves_to_the_shipped_file_outside_the_checkout(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_persona("personas/paper/poetic.yaml") == personas_dir() / "paper" / "poetic.yaml"


def test_a_local_file_with_a_personas_path_is_used_first(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "personas").mkdir()
    (tmp_path / "personas" / "concise.yaml").write_text("id: mine\n")
    assert resolve_persona("personas/concise.yaml").resolve() == (tmp_path / "personas" / "concise.yaml")


@pytest.mark.parametrize("ref", ["personas/../pyproject.toml", "personas/absent.yaml"])
def test_a_personas_path_never_leaves_the_shipped_folder_or_invents_a_file(tmp_path, monkeypatch, ref):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError):
        resolve_persona(ref)
