"""log_without_person: log entries name only the client system as requestor, not the natural
person (Annex II 3.2(b)). Breaks EHDS-LOG-003."""

from __future__ import annotations

from typing import Any

from conformance.adapters.reference.service import DCM, AccessEvent, ReferenceEHR
from tests.mutants._factory import mutant_factory

CLIENT_ID = {"system": "https://ehds-conformance.invalid/client", "value": "ehr-app"}


class LogWithoutPerson(ReferenceEHR):
    def build_audit_event(self, event: AccessEvent) -> dict[str, Any]:
        audit = super().build_audit_event(event)
        # BUG: a "system-only" log: the person agent is dropped, the client software is the requestor
        audit["agent"] = [a for a in audit["agent"] if a.get("requestor") is not True]
        for agent in audit["agent"]:
            if any(c.get("system") == DCM and c.get("code") == "110153" for c in agent["type"]["coding"]):
                agent["requestor"] = True
                agent["who"] = {"type": "Device", "identifier": dict(CLIENT_ID), "display": "EHR client application"}
        return audit


create = mutant_factory(LogWithoutPerson, "log_without_person")
