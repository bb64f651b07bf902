"""consent_not_in_log: the log entry of a consented access does not refer to the consent. Breaks FR-003."""

from __future__ import annotations

from typing import Any

from conformance.adapters.reference.service import AccessEvent, ReferenceEHR
from tests.mutants._factory import mutant_factory


class ConsentNotInLog(ReferenceEHR):
    def consent_entity(self, event: AccessEvent) -> dict[str, Any] | None:
        return None  # BUG: the consent the access relied on is not named


create = mutant_factory(ConsentNotInLog, "consent_not_in_log")
