"""cda_listed_with_local_date: a received CDA's effectiveTime is read as the EHR's local wall time.

The CDA TS ``20250314212653+0000`` is converted by dropping its offset and labelling the digits with the server's
own zone (+01:00), so the listing moves a late-evening document to the wrong instant (and, near midnight, the
wrong day). FHIR documents are listed correctly, so only the CDA discovery check can see it. Found by the mutation
survey (tests/mutants/survey.py: the reference's CDA timestamp conversion was checked by nothing). Breaks
EHDS-INT-003."""

from __future__ import annotations

from conformance.adapter import DocumentInfo
from conformance.adapters.reference.service import Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class CdaListedWithLocalDate(ReferenceEHR):
    def list_documents(self, principal: Principal, patient_id: str, category: str | None = None, *,
                       emergency_purpose: str | None = None) -> list[DocumentInfo]:
        rows = self.list_document_rows(principal, patient_id, category, emergency_purpose=emergency_purpose)
        return [DocumentInfo(d.id, d.patient_id, d.category, d.title,
                             d.date[:19] + "+01:00" if d.format == "cda" and len(d.date) > 19 else d.date,  # BUG
                             custodian=d.origin_identifier or None) for d in rows]


create = mutant_factory(CdaListedWithLocalDate, "cda_listed_with_local_date")
