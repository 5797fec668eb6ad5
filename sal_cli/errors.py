"""The one exception type the CLI turns into a clean message and an exit code."""

from __future__ import annotations

BAD_INPUT = 2
RUN_FAILED = 1
INTERRUPTED = 130


class SalError(Exception):
    """A problem the user can fix: printed as `error: message` plus an optional hint.

    `exit_code` is 2 for bad input or usage (the default) and 1 for a failure while running.
    """

    def __init__(self, message: str, hint: str | None = None, exit_code: int = BAD_INPUT):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code

    def render(self) -> str:
        text = f"error: {self.message}"
        if self.hint:
            text += f"\n\nhint: {self.hint}"
        return text


class RunFailure(SalError):
    """A failure while running (model crash, out of memory); finished work is already saved."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message, hint, exit_code=RUN_FAILED)
