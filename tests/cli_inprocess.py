"""Runs the `simbench` CLI in process for tests (importable as `cli_inprocess`): the exit code
and captured output of one command, seconds faster than a subprocess."""

from __future__ import annotations


def run_main(capsys, *args) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `simbench <args>`; arguments may be paths (str()-ed)."""
    from simbench.cli import main

    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err
