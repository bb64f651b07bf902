"""returns_wrong_patient: the exported document is about another person (the Patient entry
carries someone else's identity; the rest is the right document). Breaks EHDS-INT-004."""

from __future__ import annotations

from typing import Any

from conformance.adapters.reference.service import ReferenceEHR
from conformance.adapters.reference.store import DocumentRow
from tests.mutants._factory import mutant_factory


class ReturnsWrongPatient(ReferenceEHR):
    def export_document(self, document: DocumentRow) -> dict[str, Any]:
        bundle = super().export_document(document)
        others = self.store.documents_of_other_patients(document.patient_id, document.category)
        other = self.store.patient(others[-1].patient_id) if others else None
        for entry in bundle.get("entry", []):
            resource = entry.get("resource", {})
            if resource.get("resourceType") != "Patient":
                continue
            # BUG: the record lookup mixed up two patients
            if other is not None:
                keep = {k: resource[k] for k in ("id",) if k in resource}
                entry["resource"] = {**other.resource, **keep}
            else:
                for ident in resource.get("identifier", []):
                    ident["value"] = f"{ident.get('value', '')}-0"
        return bundle


create = mutant_factory(ReturnsWrongPatient, "returns_wrong_patient")
