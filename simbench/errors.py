"""Error types and the one table of exit codes. Every user-facing error is one line: what,
where (file/field/flag), how to fix.

Each error class carries its exit code from `EXIT_CODES`, the table docs/guarantees.md shows
(a test keeps the two equal). `InputError` is bad input (exit 2, nothing written);
`UserSimulatorError`, `JudgeError` and `PolicyError` separate the evaluation services'
failures from the policy's, so a broken user or judge endpoint never counts against a learner.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_BUG = 1
EXIT_INPUT = 2
EXIT_ENDPOINT = 3
EXIT_POLICY = 4
EXIT_NUMERICAL = 5
EXIT_INTERRUPTED = 130

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success (`run`: complete, or already complete)",
    EXIT_BUG: "an unexpected internal error (a bug): printed with its traceback, please report it",
    EXIT_INPUT: "bad input, a missing optional package, or a folder in use by another writer; "
                "nothing was written",
    EXIT_ENDPOINT: "an evaluation endpoint failed (user simulator or judge): `run` stops at its last "
                   "checkpoint (`--resume` once it is back), `report` and `leaderboard` write nothing; "
                   "`sweep`: some cells did not finish (sweep.json says why), rerun to continue",
    EXIT_POLICY: "the policy model failed (for example it cannot be loaded)",
    EXIT_NUMERICAL: "stopped after repeated non-finite updates",
    EXIT_INTERRUPTED: "interrupted by Ctrl-C; `--resume` (or rerunning a sweep) continues",
}
"""Every exit code any simbench command returns, with its one-line meaning."""


class SimbenchError(Exception):
    """Base class for errors simbench reports to the user as one line."""

    exit_code = EXIT_BUG


class InputError(SimbenchError):
    """Bad input: a persona file, prompt file, conversation log, config value or CLI flag.

    `where` names the file (and field/line) or the flag; `problem` says what is wrong;
    `hint` (optional) says how to fix it.
    """

    exit_code = EXIT_INPUT

    def __init__(self, where: str, problem: str, hint: str | None = None) -> None:
        self.where = where
        self.problem = problem
        self.hint = hint
        message = f"{where}: {problem}"
        if hint:
            message += f" ({hint})"
        super().__init__(" ".join(message.split()))


def missing_package(where: str, module: str, reason: str, install: str, alternative: str | None = None) -> InputError:
    """The error for an optional package that cannot be imported: an installation the user can
    fix, so bad input (exit 2), raised before anything is loaded or written."""
    hint = f"install it with {install}" + (f", or {alternative}" if alternative else "")
    return InputError(where, f"{module} cannot be imported ({reason})", hint)


class UserSimulatorError(SimbenchError):
    """The simulated user failed (endpoint down, retries exhausted, unusable replies)."""

    exit_code = EXIT_ENDPOINT


class JudgeError(SimbenchError):
    """The judge endpoint failed (down, retries exhausted, unusable replies): an evaluation
    service like the user simulator, never the learner's fault."""

    exit_code = EXIT_ENDPOINT


class PolicyError(SimbenchError):
    """The policy model failed (cannot be loaded, generation failed)."""

    exit_code = EXIT_POLICY


class NumericalError(SimbenchError):
    """Updates kept producing non-finite losses or gradients."""

    exit_code = EXIT_NUMERICAL
