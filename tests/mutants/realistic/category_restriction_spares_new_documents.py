"""category_restriction_spares_new_documents: a category restriction only covers documents received before it was set.
Breaks EHDS-SEC-007."""

from __future__ import annotations

from conformance.adapter import Restriction
from conformance.adapters.reference.service import DocumentRow, Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class CategoryRestrictionSparesNewDocuments(ReferenceEHR):
    def withholds(self, principal: Principal, document: DocumentRow, restriction: Restriction, *,
                  emergency: bool) -> bool:
        if document.id not in restriction.document_ids and document.category in restriction.categories:
            updated = self.store.restriction(document.patient_id).updated
            if document.stored > updated:  # BUG: category restriction materialised once, as document ids
                return False
        return super().withholds(principal, document, restriction, emergency=emergency)


create = mutant_factory(CategoryRestrictionSparesNewDocuments, "category_restriction_spares_new_documents")
