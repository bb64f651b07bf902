"""The conclusion of a run: computed here and nowhere else.

The CLI's last line and exit code, report.json, report.html, summary.md, junit.xml
and the FHIR TestReport all show what :func:`conclude` returns, so they cannot
disagree. It reads plain rows (id, level, verdict, reason), the form both the
in-memory result and the JSON report carry.

Rules, in order:
1. ``non-conformant``: a SHALL requirement failed (a failure is definitive even
   in a partial run);
2. ``partial``: the run was narrowed (``-k``, a requirement or category selection,
   collect-only...) or requirements were left out by it; never conformant;
3. ``incomplete``: a SHALL requirement is ``error`` (could not be decided) or
   ``not-tested`` (no check, or an inconclusive one); the blockers are listed;
4. ``conformant``: every SHALL requirement passed, was attested, or was excluded
   by a rule of the profile (not-applicable).

Exit codes: 0 conformant; 1 non-conformant; 3 incomplete because of error
verdicts (or any non-conformant-free run that is not conformant under
``--strict``); 0 for an incomplete or partial run without errors unless
``--strict``. Usage errors (2) never reach this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

CONFORMANT = "conformant"
NON_CONFORMANT = "non-conformant"
INCOMPLETE = "incomplete"
PARTIAL = "partial"
CONCLUSIONS = (CONFORMANT, NON_CONFORMANT, INCOMPLETE, PARTIAL)

#: The verdict a requirement left out by a selection gets (never "no automated check").
NOT_RUN_SELECTION = "not run (selection)"

EXIT_CONFORMANT, EXIT_NONCONFORMANT, EXIT_INCOMPLETE = 0, 1, 3


@dataclass(frozen=True)
class Blocker:
    """A SHALL requirement that keeps the run from being conformant."""

    id: str
    verdict: str
    reason: str = ""

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "verdict": self.verdict, "reason": self.reason}


@dataclass(frozen=True)
class Conclusion:
    status: str
    exit_code: int
    explanation: str
    failed: tuple[Blocker, ...] = ()
    errors: tuple[Blocker, ...] = ()
    not_tested: tuple[Blocker, ...] = ()
    attested: int = 0
    not_applicable: int = 0
    selection: Mapping[str, Any] = field(default_factory=dict)
    strict: bool = False

    @property
    def label(self) -> str:
        """`conformant (2 attested)`, `incomplete`, ... : what the CLI's last line and the report headline say."""
        if self.status == CONFORMANT and self.attested:
            return f"{CONFORMANT} ({self.attested} attested)"
        return self.status

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "label": self.label,
            "exit_code": self.exit_code,
            "explanation": self.explanation,
            "strict": self.strict,
            "attested": self.attested,
            "not_applicable": self.not_applicable,
            "failed": [b.to_json() for b in self.failed],
            "errors": [b.to_json() for b in self.errors],
            "not_tested": [b.to_json() for b in self.not_tested],
            "selection": dict(self.selection),
        }


def _names(blockers: Iterable[Blocker], limit: int = 6) -> str:
    ids = [b.id for b in blockers]
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def conclude(rows: Iterable[Mapping[str, Any]], *, selection: Mapping[str, Any] | None = None,
             strict: bool = False) -> Conclusion:
    """The run's conclusion from its requirement rows.

    `rows`: mappings with ``id``, ``level`` (SHALL/SHOULD/MAY), ``verdict`` and optionally
    ``reason``. `selection`: empty for a full run, else what narrowed it (e.g.
    ``{"keyword": "restriction"}``, ``{"requirements": ["EHDS-SEC-*"]}``, ``{"collect_only": True}``).
    """
    selection = dict(selection or {})
    failed: list[Blocker] = []
    errors: list[Blocker] = []
    not_tested: list[Blocker] = []
    not_run: list[Blocker] = []
    attested = not_applicable = 0
    for row in rows:
        verdict = str(row.get("verdict", ""))
        if verdict == "attested":
            attested += 1
        if verdict == "not-applicable":
            not_applicable += 1
        if str(row.get("level", "")) != "SHALL":
            continue
        blocker = Blocker(str(row.get("id", "")), verdict, str(row.get("reason", "") or ""))
        if verdict == "fail":
            failed.append(blocker)
        elif verdict == "error":
            errors.append(blocker)
        elif verdict == "not-tested":
            (not_run if blocker.reason == NOT_RUN_SELECTION else not_tested).append(blocker)
    partial = bool(selection) or bool(not_run)
    if failed:
        status = NON_CONFORMANT
        explanation = (f"Non-conformant: {len(failed)} SHALL requirement(s) failed ({_names(failed)}). "
                       "Each failure below names what the system did and the evidence observed.")
    elif partial:
        status = PARTIAL
        what = ", ".join(f"{k}={v}" for k, v in selection.items()) or "a selection"
        explanation = (f"Partial run: it was narrowed by {what}, so {len(not_run)} SHALL requirement(s) were not "
                       "run. A partial run is never conformant; run the whole profile to conclude.")
        if errors:
            explanation += f" {len(errors)} SHALL requirement(s) could not be decided ({_names(errors)})."
    elif errors or not_tested:
        status = INCOMPLETE
        parts = []
        if errors:
            parts.append(f"{len(errors)} could not be decided because of errors ({_names(errors)})")
        if not_tested:
            parts.append(f"{len(not_tested)} have no decisive check ({_names(not_tested)})")
        advice = "Fix the errors and run again" if errors else ""
        if not_tested:
            advice += ("; attest" if advice else "Attest") + ", with evidence, the requirements no check can decide"
        explanation = "Incomplete: no SHALL requirement failed, but " + " and ".join(parts) + f". {advice}."
    else:
        status = CONFORMANT
        explanation = "Conformant: every SHALL requirement passed"
        if attested:
            explanation += f", was attested ({attested} attested, shown as such)"
        if not_applicable:
            explanation += f", or was excluded by a scope rule of the profile ({not_applicable})"
        explanation += "."
    if status == NON_CONFORMANT:
        code = EXIT_NONCONFORMANT
    elif errors or (strict and status != CONFORMANT):
        code = EXIT_INCOMPLETE
    else:
        code = EXIT_CONFORMANT
    return Conclusion(status, code, explanation, tuple(failed), tuple(errors), tuple(not_tested), attested,
                      not_applicable, selection, strict)


__all__ = ["CONCLUSIONS", "CONFORMANT", "Blocker", "Conclusion", "INCOMPLETE", "NON_CONFORMANT",
           "NOT_RUN_SELECTION", "PARTIAL", "conclude"]
