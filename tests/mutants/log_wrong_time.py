"""log_wrong_time: the access time carries an offset but is two hours off (local wall-clock
time stamped as UTC). Breaks EHDS-LOG-005 (a check must compare the time, not just its form)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from conformance.adapters.reference.service import AccessEvent, ReferenceEHR
from tests.mutants._factory import mutant_factory


class LogWrongTime(ReferenceEHR):
    def build_audit_event(self, event: AccessEvent) -> dict[str, Any]:
        audit = super().build_audit_event(event)
        utc = dt.datetime.fromisoformat(audit["recorded"]).astimezone(dt.UTC)
        wall_clock = (utc + dt.timedelta(hours=2)).replace(tzinfo=dt.UTC)  # BUG: UTC+2 wall time labelled UTC
        audit["recorded"] = wall_clock.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return audit


create = mutant_factory(LogWrongTime, "log_wrong_time")
