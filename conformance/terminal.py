"""What `conformance run` shows on the terminal: progress, one table, the conclusion last.

pytest's own output (dots, warnings, tracebacks) is kept out of the way unless `-v`;
instead this plugin object, passed to ``pytest.main(plugins=[...])``, reports progress
per check as verdicts arrive and, at the end, a table of every requirement (id, level,
verdict, one-line reason) followed by the conclusion. Every line goes through
:class:`SecretMask`, as does pytest's output when it is shown, so a sandbox password in
an assertion message or a hypothesis falsifying example never reaches a CI log.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any, TextIO

from conformance.model import RunResult

STYLE = {"fail": "bold red", "error": "bold magenta", "pass": "green", "attested": "cyan",
         "not-applicable": "dim", "not-tested": "yellow"}
CONCLUSION_STYLE = {"conformant": "bold green", "non-conformant": "bold red", "incomplete": "bold yellow",
                    "partial": "bold yellow"}


class SecretMask:
    """Masks known secret values (the test accounts' credentials) and secret-shaped text."""

    def __init__(self, secrets: set[str] | None = None) -> None:
        self.secrets = sorted({s for s in (secrets or set()) if s}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        from conformance.report.redact import MASK, redact

        for secret in self.secrets:
            text = text.replace(secret, MASK)
        masked = redact(text)
        return masked if isinstance(masked, str) else text


class MaskedStream(io.TextIOBase):
    """A text stream that masks secrets line by line before writing to `target`."""

    def __init__(self, target: TextIO, mask: SecretMask) -> None:
        self._target, self._mask, self._pending = target, mask, ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            complete, self._pending = self._pending.rsplit("\n", 1)
            self._target.write(self._mask(complete) + "\n")
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._target.write(self._mask(self._pending))
            self._pending = ""
        self._target.flush()

    def isatty(self) -> bool:
        return bool(getattr(self._target, "isatty", lambda: False)())

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._target, "encoding", "utf-8")


class TerminalReport:
    """pytest plugin object: progress while checks run, then the requirement table and the conclusion."""

    def __init__(self, out: TextIO, mask: SecretMask, *, quiet: bool = False, fmt: str = "text") -> None:
        from rich.console import Console

        self.console = Console(file=out, highlight=False, soft_wrap=False,
                               width=None if getattr(out, "isatty", lambda: False)() else 130)
        self.mask, self.quiet, self.fmt = mask, quiet, fmt
        self.result: RunResult | None = None
        self.report_dir: Any = None
        self.done = 0
        self.counts: dict[str, int] = {}
        self.flagged: set[str] = set()

    # -- hooks -------------------------------------------------------------------------------
    def pytest_conformance_finished(self, config: Any, result: RunResult, report_dir: Any) -> None:
        self.result, self.report_dir = result, report_dir

    def pytest_runtest_logreport(self, report: Any) -> None:
        if self.quiet or self.fmt != "text":
            return
        for key, value in report.user_properties:
            if key != "conformance.outcome":
                continue
            outcome = json.loads(value)
            self.done += 1
            verdict = outcome["verdict"]
            self.counts[verdict] = self.counts.get(verdict, 0) + 1
            fresh = [r for r in outcome.get("requirements", []) if r not in self.flagged]
            if verdict in ("fail", "error") and fresh:
                self.flagged.update(fresh)  # one line per requirement: the first check that decided it
                self.console.print(f"[{STYLE[verdict]}]{verdict.upper():5}[/] {', '.join(fresh)}  "
                                   f"{self._one_line(outcome)}", markup=True)
            elif self.done % 10 == 0:
                tally = " ".join(f"{k}={v}" for k, v in sorted(self.counts.items()))
                self.console.print(f"[dim]... {self.done} checks done ({tally})[/]", markup=True)

    # -- output --------------------------------------------------------------------------------
    def _one_line(self, outcome: dict[str, Any]) -> str:
        text = " ".join(str(outcome.get("message", "")).split())
        return self.mask(_short(text, 100))

    def render(self, exit_code: int) -> None:
        """The final table and the conclusion (or the JSON document with `--format json`)."""
        result = self.result
        if result is None:
            return
        conclusion = result.conclusion()
        if self.fmt == "json":
            doc = {"run_id": result.run_id, "profile": result.profile.id, "conclusion": conclusion.to_json(),
                   "exit_code": exit_code, "report_dir": str(self.report_dir) if self.report_dir else None,
                   "requirements": [{"id": r.requirement.id, "level": r.requirement.level.value,
                                     "verdict": r.verdict.value, "reason": self.mask(r.reason or _first(r))}
                                    for r in result.requirements]}
            self.console.file.write(json.dumps(doc, indent=2) + "\n")
            return
        if not self.quiet:
            from rich.table import Table

            table = Table(title=f"{result.profile.id} {result.profile.version}: {len(result.requirements)} "
                                f"requirements", show_lines=False, expand=False)
            table.add_column("requirement", no_wrap=True)
            table.add_column("level", no_wrap=True)
            table.add_column("verdict", no_wrap=True)
            table.add_column("reason", overflow="fold", max_width=90)
            for row in result.requirements:
                verdict = row.verdict.value
                reason = self.mask(_short(row.reason or _first(row)))
                table.add_row(row.requirement.id, row.requirement.level.value,
                              f"[{STYLE.get(verdict, '')}]{verdict}[/]", reason)
            self.console.print(table)
            if self.report_dir:
                self.console.print(f"report: {self.report_dir}/report.html")
            self.console.print(self.mask(conclusion.explanation))
        style = CONCLUSION_STYLE.get(conclusion.status, "bold")
        strict = ", strict" if result.strict else ""
        self.console.print(f"conformance: [{style}]{conclusion.label}[/] (exit {exit_code}{strict})", markup=True)


def _short(text: str, limit: int = 150) -> str:
    """One line for the table: the rule's id stands for its text, which the report gives in full."""
    text = re.sub(r"(excluded by [A-Z][A-Z0-9-]+): .*", r"\1", " ".join(text.split()))
    text = re.sub(r"(mandatory for a system in scope: [A-Z][A-Z0-9-]+): .*", r"\1", text)
    return text[:limit] + ("…" if len(text) > limit else "")


def _first(row: Any) -> str:
    """The first message of a requirement's deciding checks, for the table's reason column."""
    for check in row.checks:
        if check.verdict == row.verdict and check.message:
            return check.message
    return ""


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


__all__ = ["MaskedStream", "SecretMask", "TerminalReport", "strip_ansi"]
