"""Steps many checks share, each ending honestly when another requirement is the one at fault.

When a check cannot decide its own requirement because a behaviour another requirement
demands is missing, it ends inconclusive (not-tested, with the reason naming that other
requirement), so one defect is blamed once, on the requirement it breaks.
"""

from __future__ import annotations

from conformance.adapter import Denied, Rejected
from conformance.checks import inconclusive


def submit_declared(session: object, document: object, category: str) -> object:
    """Submit a valid document of a category the SUT declares it accepts; return the Receipt.

    When the SUT rejects it (or refuses the professional, Denied), the check that needed the document cannot decide its own
    requirement: it ends inconclusive (not-tested) and EHDS-GEN-001 (declared scope matches
    what is served) is the requirement that fails, so one overclaim is reported once.
    """
    try:
        return session.submit(document)  # type: ignore[attr-defined]
    except Rejected as answer:
        inconclusive(f"the SUT rejected a valid {category} document ({answer.reason or 'no reason given'}) "
                     f"although it declares that it accepts {category}; see EHDS-GEN-001")
    except Denied as answer:
        inconclusive(f"the SUT refused a valid {category} document from its health professional account "
                     f"(Denied: {answer.reason or 'no reason given'}) although it declares that it accepts "
                     f"{category}; see EHDS-GEN-001")


class AuditorView:
    """The access log as the auditor reads it, for checks about the log's *content*.

    When the SUT refuses the auditor, the content cannot be examined: the check is
    inconclusive (not-tested); EHDS-LOG-008 is the requirement that fails then.
    """

    def __init__(self, sut: object, accounts: object) -> None:
        try:
            self._session = sut.login(accounts.auditor)  # type: ignore[attr-defined]
        except Denied as answer:
            inconclusive(f"the auditor cannot log in ({answer.reason}); see EHDS-LOG-008")

    def entries(self, patient_id: str) -> list[dict]:
        try:
            return list(self._session.access_log(patient_id))
        except Denied as answer:
            inconclusive(f"the auditor may not read the access log ({answer.reason}); see EHDS-LOG-008")
