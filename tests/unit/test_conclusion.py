"""The run's conclusion (conformance/conclusion.py): every status, its exit code, its blockers.

Non-conformant (1) when a SHALL requirement failed, even in a partial run; partial when the run
was narrowed, never conformant; incomplete when a SHALL requirement is error (exit 3) or
not-tested (exit 0, 3 under --strict); conformant (0) otherwise, labelled with its attestations.
SHOULD and MAY requirements never block.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.conclusion import (
    CONFORMANT,
    INCOMPLETE,
    NON_CONFORMANT,
    NOT_RUN_SELECTION,
    PARTIAL,
    Blocker,
    conclude,
)

VERDICTS = ["fail", "error", "pass", "attested", "not-applicable", "not-tested"]


def row(rid: str, verdict: str, level: str = "SHALL", reason: str = "") -> dict[str, Any]:
    return {"id": rid, "level": level, "verdict": verdict, "reason": reason}


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize(("rows", "selection", "status", "code", "code_strict"), [
    ([row("A", "pass"), row("B", "pass")], None, CONFORMANT, 0, 0),
    ([row("A", "pass"), row("B", "attested"), row("C", "not-applicable")], None, CONFORMANT, 0, 0),
    ([row("A", "pass"), row("B", "fail")], None, NON_CONFORMANT, 1, 1),
    ([row("A", "fail"), row("B", "error")], None, NON_CONFORMANT, 1, 1),
    ([row("A", "fail")], {"keyword": "log"}, NON_CONFORMANT, 1, 1),
    ([row("A", "pass"), row("B", "error")], None, INCOMPLETE, 3, 3),
    ([row("A", "pass"), row("B", "not-tested", reason="no automated check")], None, INCOMPLETE, 0, 3),
    ([row("A", "pass")], {"keyword": "log"}, PARTIAL, 0, 3),
    ([row("A", "pass"), row("B", "not-tested", reason=NOT_RUN_SELECTION)], None, PARTIAL, 0, 3),
    ([row("A", "error")], {"keyword": "log"}, PARTIAL, 3, 3),
    ([], None, CONFORMANT, 0, 0),
], ids=["all-pass", "attested-and-na", "fail", "fail-beats-error", "fail-in-partial", "error", "not-tested",
        "narrowed", "not-run-by-selection", "error-in-partial", "empty"])
def test_status_and_exit_code(rows: list[dict[str, Any]], selection: dict[str, Any] | None, status: str,
                              code: int, code_strict: int, strict: bool) -> None:
    conclusion = conclude(rows, selection=selection, strict=strict)
    assert conclusion.status == status
    assert conclusion.exit_code == (code_strict if strict else code)
    assert conclusion.strict is strict
    assert conclusion.to_json()["status"] == status and conclusion.to_json()["exit_code"] == conclusion.exit_code


def test_should_and_may_never_block() -> None:
    rows = [row("A", "pass"), row("S", "fail", "SHOULD"), row("M", "error", "MAY"), row("N", "not-tested", "SHOULD")]
    conclusion = conclude(rows, strict=True)
    assert (conclusion.status, conclusion.exit_code) == (CONFORMANT, 0)
    assert conclusion.failed == conclusion.errors == conclusion.not_tested == ()


def test_blockers_are_listed_with_their_reasons() -> None:
    rows = [row("F1", "fail", reason="log misses the person"), row("E1", "error", reason="fetch hung"),
            row("T1", "not-tested", reason="no automated check"), row("F2", "fail"), row("P", "pass")]
    conclusion = conclude(rows)
    assert conclusion.failed == (Blocker("F1", "fail", "log misses the person"), Blocker("F2", "fail"))
    assert conclusion.errors == (Blocker("E1", "error", "fetch hung"),)
    assert conclusion.not_tested == (Blocker("T1", "not-tested", "no automated check"),)
    assert "F1, F2" in conclusion.explanation and "2 SHALL requirement(s) failed" in conclusion.explanation
    assert conclusion.to_json()["failed"][0] == {"id": "F1", "verdict": "fail", "reason": "log misses the person"}


def test_incomplete_names_what_blocks() -> None:
    conclusion = conclude([row("E1", "error"), row("T1", "not-tested", reason="inconclusive")])
    assert conclusion.status == INCOMPLETE and conclusion.exit_code == 3
    assert "E1" in conclusion.explanation and "T1" in conclusion.explanation


def test_long_blocker_lists_are_shortened_in_the_explanation() -> None:
    conclusion = conclude([row(f"F{i}", "fail") for i in range(9)])
    assert "and 3 more" in conclusion.explanation and len(conclusion.failed) == 9


def test_conformant_label_counts_attestations() -> None:
    attested = conclude([row("A", "pass"), row("B", "attested"), row("C", "attested", "SHOULD")])
    assert attested.label == "conformant (2 attested)" and attested.attested == 2
    assert conclude([row("A", "pass")]).label == CONFORMANT
    assert conclude([row("A", "attested"), row("B", "fail")]).label == NON_CONFORMANT


def test_not_applicable_is_counted_and_explained() -> None:
    conclusion = conclude([row("A", "pass"), row("B", "not-applicable"), row("C", "not-applicable")])
    assert conclusion.not_applicable == 2 and "(2)" in conclusion.explanation


def test_partial_explains_what_narrowed_it() -> None:
    conclusion = conclude([row("A", "pass")], selection={"keyword": "restriction"})
    assert conclusion.status == PARTIAL and "keyword=restriction" in conclusion.explanation
    assert conclusion.selection == {"keyword": "restriction"}


@given(st.lists(st.tuples(st.sampled_from(VERDICTS), st.sampled_from(["SHALL", "SHOULD", "MAY"])), max_size=10),
       st.one_of(st.none(), st.just({"keyword": "x"})), st.booleans())
def test_a_partial_run_is_never_conformant(pairs: list[tuple[str, str]], selection: dict[str, Any] | None,
                                           strict: bool) -> None:
    rows = [row(f"R{i}", v, level) for i, (v, level) in enumerate(pairs)]
    conclusion = conclude(rows, selection=selection, strict=strict)
    if selection:
        assert conclusion.status in (PARTIAL, NON_CONFORMANT)
    shall = {v for v, level in pairs if level == "SHALL"}
    assert conclusion.exit_code in (0, 1, 3)
    assert (conclusion.exit_code == 1) == ("fail" in shall)
    if "fail" not in shall and "error" in shall:
        assert conclusion.exit_code == 3
    if conclusion.status == CONFORMANT:
        assert shall <= {"pass", "attested", "not-applicable"} and not selection
