"""log_time_loses_offset_when_busy: once a patient has 25 log entries, new entries are recorded without a time-zone offset.
Breaks EHDS-LOG-005."""

from __future__ import annotations

from conformance.adapters.reference.service import AccessEvent, ReferenceEHR
from tests.mutants._factory import mutant_factory


class LogTimeLosesOffsetWhenBusy(ReferenceEHR):
    def log_access(self, event: AccessEvent) -> None:
        if event.patient is not None and len(self.store.audit_events(event.patient.id)) >= 25:
            # BUG: the bulk writer formats naive local time
            event = type(event)(**{**event.__dict__, "recorded": event.recorded.replace(tzinfo=None)})
        super().log_access(event)


create = mutant_factory(LogTimeLosesOffsetWhenBusy, "log_time_loses_offset_when_busy")
