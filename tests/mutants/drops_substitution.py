"""drops_substitution: exported dispensations lose MedicationDispense.substitution (a mapping gap).
Breaks ED-001 (a dispensation says whether the medicine was substituted)."""

from __future__ import annotations

from typing import Any

from conformance.adapters.reference.service import ReferenceEHR
from conformance.adapters.reference.store import DocumentRow
from tests.mutants._factory import mutant_factory


class DropsSubstitution(ReferenceEHR):
    def export_document(self, document: DocumentRow) -> dict[str, Any]:
        bundle = super().export_document(document)
        for entry in bundle.get("entry") or []:
            resource = entry.get("resource") or {}
            if resource.get("resourceType") == "MedicationDispense":
                resource.pop("substitution", None)  # BUG: the export mapping has no substitution field
        return bundle


create = mutant_factory(DropsSubstitution, "drops_substitution")
