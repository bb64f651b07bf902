"""forgets_read_log: fetching a document is not logged; listings, submissions, refusals and
emergency reads still are. Breaks EHDS-LOG-001 (every access logged)."""

from __future__ import annotations

from conformance.adapters.reference.service import AccessEvent, ReferenceEHR
from tests.mutants._factory import mutant_factory


class ForgetsReadLog(ReferenceEHR):
    def log_access(self, event: AccessEvent) -> None:
        if event.action == "read" and event.outcome == "0" and event.emergency_purpose is None:
            return  # BUG: an ordinary successful read leaves no trace
        super().log_access(event)


create = mutant_factory(ForgetsReadLog, "forgets_read_log")
