"""forgets_refused_attempts: refused attempts (wrong password, forbidden reads, emergency
without purpose) leave no log entry. Breaks EHDS-LOG-013 (a SHOULD)."""

from __future__ import annotations

from conformance.adapters.reference.service import AccessEvent, ReferenceEHR
from tests.mutants._factory import mutant_factory


class ForgetsRefusedAttempts(ReferenceEHR):
    def log_access(self, event: AccessEvent) -> None:
        if event.outcome != "0":
            return  # BUG: only successes are logged
        super().log_access(event)


create = mutant_factory(ForgetsRefusedAttempts, "forgets_refused_attempts")
