"""returns_collection_bundle: the export is a Bundle of type 'collection', not a document.
Breaks EHDS-INT-004 (retrieval returns the document itself)."""

from __future__ import annotations

from typing import Any

from conformance.adapters.reference.service import ReferenceEHR
from conformance.adapters.reference.store import DocumentRow
from tests.mutants._factory import mutant_factory


class ReturnsCollectionBundle(ReferenceEHR):
    def export_document(self, document: DocumentRow) -> dict[str, Any]:
        bundle = super().export_document(document)
        bundle["type"] = "collection"  # BUG: a packaging change loses the document semantics
        return bundle


create = mutant_factory(ReturnsCollectionBundle, "returns_collection_bundle")
