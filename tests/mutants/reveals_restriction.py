"""reveals_restriction: restricted documents are withheld, but what is shown says so (a
"restricted by the patient" note in listing titles, a MASKED label and note on exported
Bundles). Breaks EHDS-SEC-007 (the restriction must not be revealed)."""

from __future__ import annotations

import dataclasses
import json

from conformance.adapters.reference.service import Principal, ReferenceEHR
from conformance.adapters.reference.store import DocumentRow
from tests.mutants._factory import mutant_factory


class RevealsRestriction(ReferenceEHR):
    def visible_documents(self, principal: Principal, patient_id: str, category: str | None = None, *,
                          emergency: bool = False) -> list[DocumentRow]:
        visible = super().visible_documents(principal, patient_id, category, emergency=emergency)
        withheld = len(self.store.documents(patient_id, category)) - len(visible)
        if not withheld:
            return visible
        # BUG: the EHR tells the health professional that something is being kept from them
        note = f"{withheld} document(s) withheld: restricted by the patient"
        marked = []
        for doc in visible:
            content = doc.content
            if doc.format == "fhir":
                bundle = doc.fhir()
                meta = bundle.setdefault("meta", {})
                meta.setdefault("security", []).append({
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "MASKED",
                    "display": "masked"})
                meta.setdefault("tag", []).append({"system": "https://ehds-conformance.invalid/restriction",
                                                   "code": "restricted", "display": note})
                content = json.dumps(bundle).encode("utf-8")
            marked.append(dataclasses.replace(doc, title=f"{doc.title} [{note}]", content=content))
        return marked


create = mutant_factory(RevealsRestriction, "reveals_restriction")
