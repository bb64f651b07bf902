"""drops_untranslatable: a code the catalogue cannot translate is left off the screen. Breaks FR-004."""

from __future__ import annotations

from conformance.adapter import DisplayedItem
from conformance.adapters.reference.service import ReferenceEHR
from tests.mutants._factory import mutant_factory


class DropsUntranslatable(ReferenceEHR):
    def displayed_item(self, system: str, code: str, original: str, language: str) -> DisplayedItem | None:
        shown = self.translate(system, code, language)
        return DisplayedItem(system, code, shown, language, original) if shown else None  # BUG: dropped


create = mutant_factory(DropsUntranslatable, "drops_untranslatable")
