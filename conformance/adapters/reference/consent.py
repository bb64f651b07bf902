"""The reference EHR's consent rules: the patient's consent to an access for a purpose.

A mixin of :class:`~conformance.adapters.reference.service.ReferenceEHR`. Some national rules
make an access depend on the patient's consent (in France, a professional reads a patient
summary through the national contact point only with the patient's consent). The EHR records
the consent (for a purpose, to whom, who recorded it, when), lets it be withdrawn, and
:meth:`ConsentRules.fetch_for_purpose` serves a document for such a purpose only under a consent
in force, logging the refusal or the consent the access relied on.

Each rule is a small overridable method (``consent_required``, ``consent_in_force``,
``consent_covers``, ``log_consent_refusal``) so a broken EHR in ``tests/mutants/sesali`` differs
in exactly one of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from conformance.adapter import ActorKind, Consent, ConsentRecord, Denied, NotFound, Rejected

if TYPE_CHECKING:  # pragma: no cover
    from conformance.adapters.reference.service import Principal
    from conformance.adapters.reference.store import PatientRow


class ConsentRules:
    """Recording, withdrawing and enforcing consent (needs the ReferenceEHR around it)."""

    store: Any
    clock: Any

    # ---- recording ---------------------------------------------------------------------

    def record_consent(self, principal: Principal, patient_id: str, consent: Consent) -> ConsentRecord:
        """Record the patient's consent. The patient or a health professional (before whom the patient
        consented) records it; the EHR notes who and when. Rejected for a blank purpose."""
        from conformance.adapters.reference.service import _instant

        patient = self._patient(patient_id)  # type: ignore[attr-defined]
        self.authorize(principal, "consent", patient)  # type: ignore[attr-defined]
        purpose = " ".join(str(consent.purpose).split())
        if not purpose:
            raise Rejected("a consent needs the purpose of the access it allows")
        consent_id = "consent-" + uuid.uuid4().hex[:20]
        with self.store.transaction() as tx:
            tx.insert_consent(consent_id=consent_id, patient_id=patient.id, purpose=purpose,
                              grantee=consent.grantee.strip(), recorded_by=principal.identifier,
                              recorded=_instant(self.clock()))
        return self._consent_record(self.store.consent(consent_id))

    def withdraw_consent(self, principal: Principal, patient_id: str, consent_id: str) -> None:
        """The consent stops being in force now (the record stays, with the withdrawal time)."""
        from conformance.adapters.reference.service import _instant

        patient = self._patient(patient_id)  # type: ignore[attr-defined]
        self.authorize(principal, "consent", patient)  # type: ignore[attr-defined]
        row = self.store.consent(consent_id)
        if row is None or row["patient_id"] != patient.id:
            raise NotFound(f"no consent {consent_id!r} for this patient")
        with self.store.transaction() as tx:
            tx.withdraw_consent(consent_id, _instant(self.clock()))

    def consents(self, principal: Principal, patient_id: str) -> list[ConsentRecord]:
        """Every consent of the patient, in force or withdrawn (same access rule as recording)."""
        patient = self._patient(patient_id)  # type: ignore[attr-defined]
        self.authorize(principal, "consent", patient)  # type: ignore[attr-defined]
        return [self._consent_record(r) for r in self.store.consents(patient.id)]

    def read_consent(self, principal: Principal, consent_id: str) -> ConsentRecord:
        """One consent by its id (``GET Consent/<id>``), in force or withdrawn; same access rule as
        recording. NotFound when there is no such consent."""
        row = self.store.consent(consent_id)
        if row is None:
            raise NotFound(f"no consent {consent_id!r}")
        patient = self._patient(row["patient_id"])  # type: ignore[attr-defined]
        self.authorize(principal, "consent", patient)  # type: ignore[attr-defined]
        return self._consent_record(row)

    @staticmethod
    def _consent_record(row: Mapping[str, Any] | None) -> ConsentRecord:
        if row is None:
            raise NotFound("no such consent")
        return ConsentRecord(consent_id=row["id"], patient_id=row["patient_id"],
                             consent=Consent(row["purpose"], row["grantee"]), recorded_by=row["recorded_by"],
                             recorded=row["recorded"], active=not row["withdrawn"])

    # ---- the rules -----------------------------------------------------------------------

    def consent_required(self, principal: Principal, purpose: str) -> bool:
        """Whether an access for `purpose` needs the patient's consent: every professional access made
        through :meth:`fetch_for_purpose` does (that is what the purpose-bound access is for)."""
        return principal.kind is ActorKind.HEALTH_PROFESSIONAL

    def consent_in_force(self, row: Mapping[str, Any]) -> bool:
        """A consent counts until it is withdrawn."""
        return not row["withdrawn"]

    def consent_covers(self, row: Mapping[str, Any], principal: Principal, purpose: str) -> bool:
        """A consent covers an access for its own purpose by its grantee (any professional when blank)."""
        return row["purpose"] == purpose and row["grantee"] in ("", principal.identifier)

    def consent_for(self, principal: Principal, patient: PatientRow, purpose: str) -> ConsentRecord | None:
        """The most recent consent in force covering this access, or None."""
        rows = [r for r in self.store.consents(patient.id)
                if self.consent_in_force(r) and self.consent_covers(r, principal, purpose)]
        return self._consent_record(rows[-1]) if rows else None

    def log_consent_refusal(self, principal: Principal, patient: PatientRow, purpose: str,
                            categories: tuple[str, ...]) -> None:
        """Log the refused access (outcome 4) with the reason: no consent in force for the purpose."""
        from conformance.adapters.reference.service import MINOR_FAILURE, AccessEvent

        self.log_access(AccessEvent(  # type: ignore[attr-defined]
            "read", principal, patient, categories=categories, outcome=MINOR_FAILURE,
            outcome_desc=f"access refused: no consent of the patient in force for {purpose!r}",
            purpose=purpose, recorded=self.clock()))

    # ---- the access ------------------------------------------------------------------------

    def fetch_for_purpose(self, principal: Principal, patient_id: str, category: str, purpose: str, *,
                          document_id: str | None = None) -> dict[str, Any]:
        """:meth:`fetch` for an access subject to consent: Denied (and logged) without a consent in force
        covering the professional and the purpose; otherwise served and logged with the consent."""
        from conformance.adapters.reference.service import AccessEvent

        self._known_category(category)  # type: ignore[attr-defined]
        patient = self._patient(patient_id)  # type: ignore[attr-defined]
        wanted = (category,)
        self.authorize(principal, "fetch", patient, wanted)  # type: ignore[attr-defined]
        purpose = " ".join(str(purpose).split())
        record = self.consent_for(principal, patient, purpose) if purpose else None
        if record is None and self.consent_required(principal, purpose):
            self.log_consent_refusal(principal, patient, purpose, wanted)
            raise Denied(f"the patient has not consented to access for {purpose!r} (or withdrew the consent)")
        docs = self.visible_documents(principal, patient.id, category)  # type: ignore[attr-defined]
        if document_id is not None:
            docs = [d for d in docs if d.id == document_id]
        chosen = self.latest_document(docs)  # type: ignore[attr-defined]
        if chosen is None:
            raise NotFound(f"no {category} document for this patient")
        bundle = self.export_document(chosen)  # type: ignore[attr-defined]
        self.log_access(AccessEvent(  # type: ignore[attr-defined]
            "read", principal, patient, documents=(chosen,), consent_id=record.consent_id if record else "",
            purpose=purpose, recorded=self.clock()))
        return bundle

    def fetch_by_id_for_purpose(self, principal: Principal, document_id: str, purpose: str) -> dict[str, Any]:
        """:meth:`fetch_for_purpose` when only the document id is known (``GET Bundle/<id>`` with the
        purpose header): the document's own patient and category."""
        row = self.store.document(document_id)
        if row is None:
            raise NotFound(f"no such document {document_id!r}")
        return self.fetch_for_purpose(principal, row.patient_id, row.category, purpose, document_id=document_id)
