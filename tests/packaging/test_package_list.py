"""pyproject.toml lists simbench's packages by hand (to map personas/ into the wheel), so a
new package folder that is not listed would be left out of the wheel: this keeps them equal."""

from __future__ import annotations

from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_folder_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for top in ("simbench", "sdpo")
             for p in (ROOT / top).rglob("__init__.py")}
    mapped = set(config["package-dir"])
    assert found == listed - mapped, f"add to [tool.setuptools] packages: {sorted(found - listed)}; " \
                                     f"remove: {sorted(listed - mapped - found)}"
    assert all((ROOT / folder).is_dir() for folder in config["package-dir"].values())
