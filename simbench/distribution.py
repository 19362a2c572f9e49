"""The name simbench is installed under, and the install command for one of its extras.

Import names stay `simbench` and `sdpo`, but "simbench" on PyPI is an unrelated project, so
the distribution is `simbench-online`: the version and install hints come from here.
"""

from __future__ import annotations

from importlib import metadata

DIST_NAME = "simbench-online"
UNINSTALLED = "0+unknown"
"""The version of a source tree that was never installed (no package metadata to read)."""


def version() -> str:
    """The installed distribution's version (pyproject.toml is its one source)."""
    try:
        return metadata.version(DIST_NAME)
    except metadata.PackageNotFoundError:
        return UNINSTALLED


def install_hint(extra: str) -> str:
    """The pip command that installs simbench with `extra` ("vllm", "ray", ...)."""
    return f"pip install '{DIST_NAME}[{extra}]'"
