"""One root exception, and the split that decides a check's verdict.

`NonConformance` (an AssertionError) means the SUT broke a requirement: the
check *fails*. `HarnessError` / `AdapterError` mean we could not tell: the check
gets an *error* verdict. Anything else raised by an adapter is wrapped into an
AdapterError by the guard, so a crashing SUT never crashes the run.
"""

from __future__ import annotations


class ConformanceError(Exception):
    """Root of every exception this package raises on purpose."""


class NonConformance(ConformanceError, AssertionError):
    """A check observed behaviour that breaks a requirement (verdict: fail)."""


class HarnessError(ConformanceError):
    """The harness itself could not do its job (verdict: error)."""


class UsageError(ConformanceError):
    """Bad command-line use, bad configuration, unknown names (exit code 2)."""


class ProfileError(UsageError):
    """A requirement profile is malformed. The message names file, line and field."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 field: str | None = None, hint: str | None = None) -> None:
        where = path or "<profile>"
        if line is not None:
            where += f":{line}"
        text = f"{where}: {message}"
        if field:
            text += f" (field: {field})"
        if hint:
            text += f"\n  hint: {hint}"
        super().__init__(text)
        self.path, self.line, self.field, self.hint = path, line, field, hint


class AdapterError(HarnessError):
    """The adapter crashed, timed out, or answered something outside the contract."""


class AdapterTimeout(AdapterError):
    """An adapter call did not return within the configured time limit."""
