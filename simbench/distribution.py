"""The name simbench is installed under, and the install command for one of its extras.

Import names stay `simbench` and `sdpo`, but "simbench" on PyPI is an unrelated project, so
the distribution is `simbench-online`: version lookups and install hints go through here.
"""

from __future__ import annotations

DIST_NAME = "simbench-online"


def install_hint(extra: str) -> str:
    """The pip command that installs simbench with `extra` ("vllm", "ray", ...)."""
    return f"pip install '{DIST_NAME}[{extra}]'"
