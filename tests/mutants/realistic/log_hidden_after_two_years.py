"""log_hidden_after_two_years: declares ten years of retention, but the log search only looks two years back.
Breaks EHDS-LOG-010."""

from __future__ import annotations

import datetime as dt
from typing import Any

from conformance.adapters.reference.service import ReferenceEHR, _recorded
from tests.mutants._factory import mutant_factory


class LogHiddenAfterTwoYears(ReferenceEHR):
    def retained(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        horizon = self.clock() - dt.timedelta(days=730)  # BUG: the search index is partitioned by two years
        return [e for e in entries if (_recorded(e) or horizon) >= horizon]


create = mutant_factory(LogHiddenAfterTwoYears, "log_hidden_after_two_years")
