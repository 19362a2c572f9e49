"""Command output helpers: `--quiet` silences the libraries' bars; tables keep their width off a terminal."""

from __future__ import annotations

import subprocess
import sys

import pytest

from simbench.commands.console import OFF_TERMINAL_WIDTH, make_console

# The bars a run can print while loading a model: the first-use GGUF conversion's plain tqdm
# bar and transformers' own (weight loading, shard writing), both imported inside the block
# as a command imports them.
BARS = """
import sys
from simbench.commands.console import quiet_libraries
with quiet_libraries(sys.argv[1] == "quiet"):
    from tqdm.auto import tqdm
    from transformers.utils import logging
    for _ in tqdm(range(3), desc="Converting and de-quantizing"):
        pass
    for _ in logging.tqdm(range(3), desc="Loading weights"):
        pass
"""


@pytest.mark.parametrize("mode", ["quiet", "loud"])
def test_quiet_silences_the_libraries_progress_bars(mode):
    result = subprocess.run([sys.executable, "-c", BARS, mode], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    if mode == "quiet":
        assert result.stderr == ""
    else:
        assert "Converting and de-quantizing" in result.stderr and "Loading weights" in result.stderr


def test_off_a_terminal_the_console_is_wide_unless_columns_says_otherwise(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    assert make_console().width == OFF_TERMINAL_WIDTH  # pytest's captured stdout is no terminal
    monkeypatch.setenv("COLUMNS", "100")
    assert make_console().width == 100
