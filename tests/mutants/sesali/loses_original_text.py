"""loses_original_text: translated items no longer carry their original-language text. Breaks FR-004."""

from __future__ import annotations

from conformance.adapter import DisplayedItem
from conformance.adapters.reference.service import ReferenceEHR
from tests.mutants._factory import mutant_factory


class LosesOriginalText(ReferenceEHR):
    def displayed_item(self, system: str, code: str, original: str, language: str) -> DisplayedItem | None:
        shown = self.translate(system, code, language)
        if shown:
            return DisplayedItem(system, code, shown, language, "")  # BUG: the original is gone
        return DisplayedItem(system, code, original or code, "", original)


create = mutant_factory(LosesOriginalText, "loses_original_text")
