"""log_refusal_without_person: entries of refused attempts name no person (only the client software).
Breaks EHDS-LOG-003."""

from __future__ import annotations

from typing import Any

from conformance.adapters.reference.service import SUCCESS, AccessEvent, ReferenceEHR
from tests.mutants._factory import mutant_factory


class LogRefusalWithoutPerson(ReferenceEHR):
    def _audit_agents(self, event: AccessEvent) -> list[dict[str, Any]]:
        agents = super()._audit_agents(event)
        if event.outcome != SUCCESS:  # BUG: the failure path builds the entry without the user
            agents = [a for a in agents if not a.get("requestor")]
        return agents


create = mutant_factory(LogRefusalWithoutPerson, "log_refusal_without_person")
