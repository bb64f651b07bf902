"""displays_original_language: the loaded translation catalogue is never used; every item is shown in the
sender's language. Breaks FR-004 (data shown in French)."""

from __future__ import annotations

from conformance.adapters.reference.service import ReferenceEHR
from tests.mutants._factory import mutant_factory


class DisplaysOriginalLanguage(ReferenceEHR):
    def translate(self, system: str, code: str, language: str) -> str | None:
        return None  # BUG: no translation looked up


create = mutant_factory(DisplaysOriginalLanguage, "displays_original_language")
