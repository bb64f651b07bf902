"""Small helpers for check authors (testcases/).

A check *fails* by raising AssertionError / NonConformance. These helpers cover the
two other honest endings: the check could not decide (`inconclusive`, verdict
not-tested, e.g. there was no log entry to examine because another requirement
already failed), or it does not apply to this SUT (`not_applicable`).
"""

from __future__ import annotations

from typing import NoReturn

import pytest

from conformance.errors import NonConformance

NOT_APPLICABLE_PREFIX = "not-applicable: "
NOT_TESTED_PREFIX = "not-tested: "


def not_applicable(reason: str) -> NoReturn:
    pytest.skip(NOT_APPLICABLE_PREFIX + reason)


def inconclusive(reason: str) -> NoReturn:
    pytest.skip(NOT_TESTED_PREFIX + reason)


def nonconformance(message: str) -> NoReturn:
    raise NonConformance(message)


def submit_declared(session: object, document: object, category: str) -> object:
    """Submit a valid document of a category the SUT declares it accepts; return the Receipt.

    When the SUT rejects it, the check that needed the document cannot decide its own
    requirement: it ends inconclusive (not-tested) and EHDS-GEN-001 (declared scope matches
    what is served) is the requirement that fails, so one overclaim is reported once.
    """
    from conformance.adapter import Rejected

    try:
        return session.submit(document)  # type: ignore[attr-defined]
    except Rejected as answer:
        inconclusive(f"the SUT rejected a valid {category} document ({answer.reason or 'no reason given'}) "
                     f"although it declares that it accepts {category}; see EHDS-GEN-001")


class AuditorView:
    """The access log as the auditor reads it, for checks about the log's *content*.

    When the SUT refuses the auditor, the content cannot be examined: the check is
    inconclusive (not-tested); EHDS-LOG-008 is the requirement that fails then.
    """

    def __init__(self, sut: object, accounts: object) -> None:
        from conformance.adapter import Denied

        try:
            self._session = sut.login(accounts.auditor)  # type: ignore[attr-defined]
        except Denied as answer:
            inconclusive(f"the auditor cannot log in ({answer.reason}); see EHDS-LOG-008")

    def entries(self, patient_id: str) -> list[dict]:
        from conformance.adapter import Denied

        try:
            return list(self._session.access_log(patient_id))
        except Denied as answer:
            inconclusive(f"the auditor may not read the access log ({answer.reason}); see EHDS-LOG-008")
