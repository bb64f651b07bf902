"""One verdict per requirement (conformance/model.combine, conformance/verdicts.py).

Precedence fail > error > pass > attested > not-applicable > not-tested; a requirement
without a check is not-tested with a reason, never pass; AssertionError / NonConformance (or
pytest.fail) is a fail, an adapter or harness error is an error, whatever their nesting in exception
groups.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.checks import NOT_APPLICABLE_PREFIX, NOT_TESTED_PREFIX, SCOPE_FAIL_PREFIX
from conformance.errors import AdapterError, AdapterTimeout, HarnessError, NonConformance
from conformance.model import (
    VERDICT_PRECEDENCE,
    CheckOutcome,
    Category,
    Level,
    Profile,
    Reference,
    Requirement,
    Verdict,
    combine,
)
from conformance.verdicts import is_nonconformance, requirement_results, verdict_from_skip

#: the documented order, written out (not read from VERDICT_PRECEDENCE, which it checks)
ORDER = ["fail", "error", "pass", "attested", "not-applicable", "not-tested"]
verdicts = st.sampled_from(list(Verdict))


def test_the_precedence_table_is_the_documented_order() -> None:
    assert [v.value for v in VERDICT_PRECEDENCE] == ORDER
    assert set(VERDICT_PRECEDENCE) == set(Verdict)


@pytest.mark.parametrize("a", list(Verdict), ids=lambda v: v.value)
@pytest.mark.parametrize("b", list(Verdict), ids=lambda v: v.value)
def test_every_pair_gives_the_stronger(a: Verdict, b: Verdict) -> None:
    stronger = a if ORDER.index(a.value) <= ORDER.index(b.value) else b
    assert combine([a, b]) is combine([b, a]) is stronger


@given(st.lists(verdicts, min_size=1))
def test_combine_is_the_strongest_present_whatever_the_order(vs: list[Verdict]) -> None:
    result = combine(vs)
    assert result in vs
    assert all(ORDER.index(result.value) <= ORDER.index(v.value) for v in vs)
    assert combine(list(reversed(vs))) is result and combine(vs + vs) is result


@given(st.lists(verdicts, min_size=1), st.lists(verdicts, min_size=1))
def test_combining_groups_is_combining_everything(a: list[Verdict], b: list[Verdict]) -> None:
    assert combine([combine(a), combine(b)]) is combine(a + b)


def test_no_checks_is_not_tested() -> None:
    assert combine([]) is Verdict.NOT_TESTED


def _req(rid: str, level: Level = Level.SHALL) -> Requirement:
    return Requirement(rid, f"title {rid}", "statement", level, Category.LOGGING, ("all",),
                       (Reference("Regulation (EU) 2025/327", "Annex II"),))


def _profile(*ids: str) -> Profile:
    return Profile("p", "1", "P", "4.0.1", (), tuple(_req(i) for i in ids))


def _outcome(name: str, verdict: Verdict, *ids: str, message: str = "") -> CheckOutcome:
    return CheckOutcome(f"core/test_x.py::{name}", name, list(ids), verdict, message=message)


@given(st.lists(st.tuples(st.sampled_from(["R-1", "R-2", "R-3", "OTHER"]), verdicts), max_size=12))
def test_one_row_per_requirement_in_profile_order(pairs: list[tuple[str, Verdict]]) -> None:
    profile = _profile("R-3", "R-1", "R-2")
    outcomes = [_outcome(f"c{i}", v, rid) for i, (rid, v) in enumerate(pairs)]
    rows = requirement_results(profile, outcomes)
    assert [r.requirement.id for r in rows] == ["R-3", "R-1", "R-2"]
    for row in rows:
        mine = [v for rid, v in pairs if rid == row.requirement.id]
        assert row.verdict is combine(mine)
        assert len(row.checks) == len(mine)
        if not mine:
            assert row.verdict is Verdict.NOT_TESTED and row.reason


def test_a_requirement_without_a_check_is_not_tested_never_pass() -> None:
    rows = requirement_results(_profile("R-1", "R-2"), [_outcome("ok", Verdict.PASS, "R-1")])
    assert [(r.requirement.id, r.verdict) for r in rows] == [("R-1", Verdict.PASS), ("R-2", Verdict.NOT_TESTED)]
    assert rows[1].reason == "no automated check for this requirement yet" and rows[1].checks == []


def test_a_check_for_several_requirements_counts_for_each() -> None:
    rows = requirement_results(_profile("R-1", "R-2"), [_outcome("both", Verdict.FAIL, "R-1", "R-2", "R-9")])
    assert [r.verdict for r in rows] == [Verdict.FAIL, Verdict.FAIL]


def test_not_applicable_by_scope_only_when_no_check_ran() -> None:
    rule = {"R-1": "applies to imaging", "R-2": "applies to imaging"}
    rows = requirement_results(_profile("R-1", "R-2"), [_outcome("ran", Verdict.FAIL, "R-2")], not_applicable=rule)
    assert (rows[0].verdict, rows[0].reason) == (Verdict.NOT_APPLICABLE, "applies to imaging")
    assert rows[1].verdict is Verdict.FAIL


def test_skipped_checks_give_their_reasons() -> None:
    outcomes = [_outcome("a", Verdict.NOT_APPLICABLE, "R-1", message="no imaging"),
                _outcome("b", Verdict.NOT_APPLICABLE, "R-1", message="no imaging"),
                _outcome("c", Verdict.NOT_APPLICABLE, "R-1", message="no consent")]
    (row,) = requirement_results(_profile("R-1"), outcomes)
    assert row.verdict is Verdict.NOT_APPLICABLE and row.reason == "no consent; no imaging"


@pytest.mark.parametrize(("exc", "fail"), [
    (AssertionError("x"), True),
    (NonConformance("the log misses the person"), True),
    (AdapterError("fetch raised RuntimeError"), False),
    (AdapterTimeout("fetch hung"), False),
    (HarnessError("validator missing"), False),
    (RuntimeError("check bug"), False),
    (KeyError("k"), False),
    (ExceptionGroup("g", [AssertionError("a"), RuntimeError("b")]), True),
    (ExceptionGroup("g", [RuntimeError("a"), ValueError("b")]), False),
    (ExceptionGroup("g", [AdapterError("a"), HarnessError("b")]), False),
    (ExceptionGroup("outer", [ExceptionGroup("inner", [NonConformance("deep")])]), True),
    (BaseExceptionGroup("g", [KeyboardInterrupt()]), False),
    (pytest.fail.Exception("the SUT accepted what it had to refuse"), True),
    (pytest.skip.Exception("not applicable"), False),
], ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v))
def test_is_nonconformance(exc: BaseException, fail: bool) -> None:
    assert is_nonconformance(exc) is fail


def test_an_adapter_error_that_is_also_an_assertion_is_still_an_error() -> None:
    class Both(AdapterError, AssertionError):
        pass

    assert is_nonconformance(Both("x")) is False


@pytest.mark.parametrize(("reason", "expected"), [
    (NOT_APPLICABLE_PREFIX + "the SUT produces no imaging", (Verdict.NOT_APPLICABLE, "the SUT produces no imaging")),
    ("Skipped: " + NOT_APPLICABLE_PREFIX + "no consent", (Verdict.NOT_APPLICABLE, "no consent")),
    (NOT_TESTED_PREFIX + "inconclusive: empty log", (Verdict.NOT_TESTED, "inconclusive: empty log")),
    ("Skipped: " + NOT_TESTED_PREFIX + "x", (Verdict.NOT_TESTED, "x")),
    (SCOPE_FAIL_PREFIX + "mandatory capability undeclared", (Verdict.FAIL, "mandatory capability undeclared")),
    ("some other skip", (Verdict.NOT_TESTED, "some other skip")),
    ("Skipped: plain", (Verdict.NOT_TESTED, "plain")),
])
def test_verdict_from_skip(reason: str, expected: tuple[Verdict, str]) -> None:
    assert verdict_from_skip(reason) == expected


@given(st.text())
def test_a_skip_is_never_pass(reason: str) -> None:
    """Only the profile's scope rule may turn a skip into a fail; nothing turns one into pass."""
    verdict, _ = verdict_from_skip(reason)
    assert verdict in (Verdict.NOT_APPLICABLE, Verdict.NOT_TESTED, Verdict.FAIL)
    assert (verdict is Verdict.FAIL) == reason.removeprefix("Skipped: ").startswith(SCOPE_FAIL_PREFIX)
