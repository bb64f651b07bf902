"""log_without_timezone: the access time is recorded without a time-zone offset
(Annex II 3.2(d)). Breaks EHDS-LOG-005."""

from __future__ import annotations

import datetime as dt
from typing import Any

from conformance.adapters.reference.service import AccessEvent, ReferenceEHR
from tests.mutants._factory import mutant_factory


class LogWithoutTimezone(ReferenceEHR):
    def build_audit_event(self, event: AccessEvent) -> dict[str, Any]:
        audit = super().build_audit_event(event)
        recorded = dt.datetime.fromisoformat(audit["recorded"])
        audit["recorded"] = recorded.replace(tzinfo=None).isoformat(timespec="milliseconds")  # BUG: no offset
        return audit


create = mutant_factory(LogWithoutTimezone, "log_without_timezone")
