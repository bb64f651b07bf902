"""log_purged_after_one_year: the access log is purged one year after each access (retention set to 365 days).
Breaks EHDS-LOG-010."""

from __future__ import annotations

import datetime as dt

from conformance.adapters.reference.service import ReferenceEHR
from tests.mutants._factory import mutant_factory


class LogPurgedAfterOneYear(ReferenceEHR):
    def log_retention(self) -> dt.timedelta | None:
        return dt.timedelta(days=365)  # BUG: the housekeeping job's default, never raised to three years


create = mutant_factory(LogPurgedAfterOneYear, "log_purged_after_one_year")
