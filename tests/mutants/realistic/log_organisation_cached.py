"""log_organisation_cached: the provider agent is cached from the first access, so every later entry names that organisation.
Breaks EHDS-LOG-002."""

from __future__ import annotations

from typing import Any

from conformance.adapters.reference.service import AccessEvent, ReferenceEHR
from tests.mutants._factory import mutant_factory


class LogOrganisationCached(ReferenceEHR):
    def _audit_agents(self, event: AccessEvent) -> list[dict[str, Any]]:
        agents = super()._audit_agents(event)
        for agent in agents:
            if any(c.get("code") == "PROV" for c in agent["type"]["coding"]):
                cached = self.__dict__.setdefault("_org_agent", agent)  # BUG: one agent for the whole process
                agent["who"] = dict(cached["who"])
        return agents


create = mutant_factory(LogOrganisationCached, "log_organisation_cached")
