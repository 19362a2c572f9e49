"""Error types. Every user-facing error is one line: what, where (file/field/flag), how to fix.

`InputError` is bad input (exit code 2, nothing written); `UserSimulatorError` and
`PolicyError` separate the simulated user's failures from the policy's, so a broken user
endpoint never counts against a learner.
"""

from __future__ import annotations


class SimbenchError(Exception):
    """Base class for errors simbench reports to the user as one line."""

    exit_code = 1


class InputError(SimbenchError):
    """Bad input: a persona file, prompt file, conversation log, config value or CLI flag.

    `where` names the file (and field/line) or the flag; `problem` says what is wrong;
    `hint` (optional) says how to fix it.
    """

    exit_code = 2

    def __init__(self, where: str, problem: str, hint: str | None = None) -> None:
        self.where = where
        self.problem = problem
        self.hint = hint
        message = f"{where}: {problem}"
        if hint:
            message += f" ({hint})"
        super().__init__(" ".join(message.split()))


class UserSimulatorError(SimbenchError):
    """The simulated user failed (endpoint down, retries exhausted, unusable replies)."""

    exit_code = 3


class PolicyError(SimbenchError):
    """The policy model failed (cannot be loaded, generation failed)."""

    exit_code = 4


class NumericalError(SimbenchError):
    """Updates kept producing non-finite losses or gradients."""

    exit_code = 5
