"""listing_custodian_is_reader: the listing names the reader's organisation as every document's custodian.

A multi-tenant EHR fills DocumentReference.custodian from the session ("the organisation holding the
record is the one looking at it") instead of from the document: a professional of another organisation
sees documents that came from elsewhere announced as their own organisation's. The stored origin, the
access log and the export are untouched. Breaks EHDS-INT-003."""

from __future__ import annotations

import dataclasses

from conformance.adapter import DocumentInfo
from conformance.adapters.reference.service import Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class ListingCustodianIsReader(ReferenceEHR):
    def list_documents(self, principal: Principal, patient_id: str, category: str | None = None, *,
                       emergency_purpose: str | None = None) -> list[DocumentInfo]:
        infos = super().list_documents(principal, patient_id, category, emergency_purpose=emergency_purpose)
        org = principal.organisation.identifier if principal.organisation else None
        return [dataclasses.replace(i, custodian=org or i.custodian) for i in infos]  # BUG: the reader's organisation


create = mutant_factory(ListingCustodianIsReader, "listing_custodian_is_reader")
