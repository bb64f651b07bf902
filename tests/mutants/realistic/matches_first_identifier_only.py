"""matches_first_identifier_only: incoming documents are matched to a patient by their first identifier only.
Breaks EHDS-INT-002."""

from __future__ import annotations

from conformance.adapter import Organisation, Receipt
from conformance.adapters.reference import intake
from conformance.adapters.reference.service import ReferenceEHR
from tests.mutants._factory import mutant_factory


class MatchesFirstIdentifierOnly(ReferenceEHR):
    def persist(self, incoming: intake.Incoming, *, fallback_origin: Organisation | None = None) -> Receipt:
        first = incoming.patient_identifiers[:1]
        if first and self.store.patient_id_for(*first[0]) is None:  # BUG: a second identifier is never matched
            incoming = type(incoming)(**{**incoming.__dict__, "patient_identifiers": first})
        return super().persist(incoming, fallback_origin=fallback_origin)


create = mutant_factory(MatchesFirstIdentifierOnly, "matches_first_identifier_only")
