"""Turn pytest reports into check outcomes, and check outcomes into one verdict per requirement.

Kept apart from the pytest hooks so the rules (fail > error > pass > attested >
not-applicable > not-tested; NonConformance/AssertionError = fail, anything else
= error) are testable on their own.
"""

from __future__ import annotations

from typing import Any, Iterable

from conformance.checks import NOT_APPLICABLE_PREFIX, NOT_TESTED_PREFIX, SCOPE_FAIL_PREFIX
from conformance.errors import AdapterError, HarnessError
from conformance.model import CheckOutcome, Profile, Requirement, RequirementResult, Verdict, combine


def is_nonconformance(exc: BaseException) -> bool:
    """True when the exception means the SUT broke a requirement (verdict fail): a check's own
    assertion, `pytest.fail(...)` called by the check, or `pytest.raises` that saw no exception
    (the SUT accepted what it had to refuse)."""
    if isinstance(exc, (AdapterError, HarnessError)):
        return False
    if isinstance(exc, BaseExceptionGroup):
        return any(is_nonconformance(e) for e in exc.exceptions)
    if isinstance(exc, AssertionError):
        return True
    import pytest

    return isinstance(exc, pytest.fail.Exception)


def unexpected_answer(exc: BaseException) -> str:
    """Why a check that met a contract answer it did not expect cannot decide its requirement."""
    kind = type(exc).__name__
    reason = getattr(exc, "reason", "") or str(exc) or "no reason given"
    return (f"inconclusive: the SUT answered {kind} ({reason[:300]}) to a step this check needed (a valid "
            "set-up document, a test account, a declared operation), not to what it examines; the requirement "
            "on that behaviour has its own check")


def contradicted_declaration(exc: BaseException, capabilities: list[str]) -> str:
    """Why a NotSupported answer to a check whose capabilities the SUT declares is an error, not not-tested:
    the SUT's description and its behaviour disagree, so nothing was observed and the declaration is untrue."""
    reason = getattr(exc, "reason", "") or str(exc) or "no reason given"
    return (f"the SUT declares the capabilities {', '.join(capabilities)} this check uses, but answered "
            f"NotSupported ({reason[:300]}) to one of its steps: the declaration (describe()) and the SUT disagree "
            "(hint: fix the adapter's set-up method or stop declaring the capability)")


def verdict_from_skip(reason: str) -> tuple[Verdict, str]:
    text = reason.removeprefix("Skipped: ")
    if text.startswith(NOT_APPLICABLE_PREFIX):
        return Verdict.NOT_APPLICABLE, text[len(NOT_APPLICABLE_PREFIX):]
    if text.startswith(SCOPE_FAIL_PREFIX):
        return Verdict.FAIL, text[len(SCOPE_FAIL_PREFIX):]
    if text.startswith(NOT_TESTED_PREFIX):
        return Verdict.NOT_TESTED, text[len(NOT_TESTED_PREFIX):]
    return Verdict.NOT_TESTED, text


def requirement_results(
    profile: Profile,
    outcomes: Iterable[CheckOutcome],
    *,
    not_applicable: dict[str, str] | None = None,
) -> list[RequirementResult]:
    """Exactly one row per requirement of the profile, in profile order."""
    by_req: dict[str, list[CheckOutcome]] = {r.id: [] for r in profile.requirements}
    for outcome in outcomes:
        for rid in outcome.requirement_ids:
            if rid in by_req:
                by_req[rid].append(outcome)
    rows: list[RequirementResult] = []
    not_applicable = not_applicable or {}
    for req in profile.requirements:
        checks = by_req[req.id]
        if req.id in not_applicable and not checks:
            rows.append(RequirementResult(req, Verdict.NOT_APPLICABLE, [], not_applicable[req.id]))
            continue
        verdict = combine([c.verdict for c in checks])
        reason = ""
        if not checks:
            reason = "no automated check for this requirement yet"
        elif verdict in (Verdict.NOT_APPLICABLE, Verdict.NOT_TESTED):
            reason = "; ".join(sorted({c.message for c in checks if c.message}))
        rows.append(RequirementResult(req, verdict, checks, reason))
    return rows


def applies(requirement: Requirement, sut: dict[str, Any]) -> str | None:
    """None if the requirement applies to the SUT, else the reason it does not."""
    if "all" in requirement.applies_to:
        return None
    handled = set(sut.get("produces", [])) | set(sut.get("consumes", []))
    if handled & set(requirement.applies_to):
        return None
    return (f"applies to {', '.join(requirement.applies_to)}; the SUT declares none of these "
            f"(it handles: {', '.join(sorted(handled)) or 'no priority category'})")
