"""The rich Console every command prints through.

Off a terminal (a pipe, a CI log) rich assumes 80 columns and crops or squeezes tables to
fit; there nothing limits the width, so tables keep their natural width and lines are whole.
`COLUMNS`, when set, still decides, as rich documents.
"""

from __future__ import annotations

import os
import sys
import warnings
from contextlib import contextmanager
from typing import Any, Iterator

from rich.console import Console

# Wide enough for any table simbench prints; rich sizes tables to their content, not to this.
OFF_TERMINAL_WIDTH = 1000


def make_console(stderr: bool = False) -> Console:
    """A Console on stdout (or stderr): the terminal's width, else OFF_TERMINAL_WIDTH."""
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty() or os.environ.get("COLUMNS"):
        return Console(stderr=stderr)
    return Console(stderr=stderr, width=OFF_TERMINAL_WIDTH)


# Progress bars and info logs of the libraries a command loads: transformers' weight loading
# and shard writing, huggingface_hub's, and the first-use GGUF conversion's plain tqdm bar.
QUIET_ENVIRONMENT = {"TQDM_DISABLE": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1", "TRANSFORMERS_VERBOSITY": "error"}


@contextmanager
def quiet_libraries(quiet: bool) -> Iterator[None]:
    """With `quiet` (a command's --quiet), the libraries' bars and info logs are off inside
    the block: results and errors are all a quiet command prints.

    The switches are environment variables the libraries read when imported (commands import
    them lazily, inside the block), and transformers' own when it is already loaded.
    """
    if not quiet:
        yield
        return
    saved = {key: os.environ.get(key) for key in QUIET_ENVIRONMENT}
    os.environ.update(QUIET_ENVIRONMENT)
    hf_logging = sys.modules.get("transformers.utils.logging")
    if hf_logging is not None:
        bars, level = hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity()
        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if hf_logging is not None:
            hf_logging.set_verbosity(level)
            if bars:
                _enable_bars(hf_logging)
        elif "transformers.utils.logging" in sys.modules and saved["HF_HUB_DISABLE_PROGRESS_BARS"] is None:
            # transformers was first imported inside the block and read the switch then: its
            # bars stay off for the rest of the process unless they are given back here.
            _enable_bars(sys.modules["transformers.utils.logging"])


def _enable_bars(hf_logging: Any) -> None:
    """transformers' bars on again, without huggingface_hub's warning that the switch it read
    at import (inside a quiet block) keeps its own bars off: that is not the user's concern."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        hf_logging.enable_progress_bar()
