"""forgets_filtered_searches: searches by document type are not logged (unfiltered listings and fetches are).
Breaks EHDS-LOG-001."""

from __future__ import annotations

from conformance.adapters.reference.service import AccessEvent, ReferenceEHR
from tests.mutants._factory import mutant_factory


class ForgetsFilteredSearches(ReferenceEHR):
    def log_access(self, event: AccessEvent) -> None:
        if event.action == "search" and event.categories and event.outcome == "0":
            return  # BUG: the type-filtered query path skips the audit hook
        super().log_access(event)


create = mutant_factory(ForgetsFilteredSearches, "forgets_filtered_searches")
