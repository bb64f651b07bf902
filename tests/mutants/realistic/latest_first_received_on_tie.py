"""latest_first_received_on_tie: of two documents dated the same instant, 'the latest' is the one received first.

The EHR picks the latest document with a strict "newer than" test while walking the documents in the order
they were filed, so a corrected report dated the same instant as the one it corrects never displaces it.
Found by the mutation survey (tests/mutants/survey.py: the reference store's document order reversed survived,
because no generated sequence filed two documents of one category with the same date). Breaks EHDS-INT-004."""

from __future__ import annotations

from conformance.adapter import document_time
from conformance.adapters.reference.service import DocumentRow, ReferenceEHR
from tests.mutants._factory import mutant_factory


class LatestFirstReceivedOnTie(ReferenceEHR):
    def latest_document(self, documents: list[DocumentRow]) -> DocumentRow | None:
        best: DocumentRow | None = None
        for d in documents:
            if best is None or document_time(d.date) > document_time(best.date):  # BUG: a tie keeps the first
                best = d
        return best


create = mutant_factory(LatestFirstReceivedOnTie, "latest_first_received_on_tie")
