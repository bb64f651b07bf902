"""The in-process adapter: the harness's contract mapped onto :class:`ReferenceEHR`.

This is the shape every adapter has (a vendor's too): ``describe()`` says what the
system offers, ``test_accounts()`` hands out the sandbox identities, ``login()``
turns an :class:`~conformance.adapter.Actor` into a session or raises ``Denied``, and
the session's six methods (and the optional ``export_all``) each call the system once and translate its answer.
Here the translation is trivial because the service already speaks the contract's
types; a vendor's adapter would call its REST API or SDK instead.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import conformance
from conformance.adapter import (
    PRIORITY_CATEGORIES,
    Actor,
    Capability,
    Consent,
    ConsentRecord,
    DisplayedSummary,
    DocumentInfo,
    Receipt,
    Restriction,
    SutDescription,
    TestAccounts,
)
from conformance.adapters.reference.service import Principal, ReferenceEHR

#: Everything the embedded EHR offers; it is not reached over HTTP (the `serve` command does that).
CAPABILITIES = frozenset(Capability) - {Capability.HTTP, Capability.FOREIGN_SUMMARY_CLIENT}


class ReferenceSession:
    """One logged-in actor. Each method is one call into the service."""

    def __init__(self, ehr: ReferenceEHR, actor: Actor, principal: Principal) -> None:
        self.actor = actor
        self._ehr = ehr
        self._principal = principal

    def submit(self, document: Mapping[str, Any] | bytes) -> Receipt:
        return self._ehr.submit(self._principal, document)

    def find_patient(self, identifier: str) -> str:
        return self._ehr.find_patient(self._principal, identifier)

    def list_documents(self, patient_id: str, category: str | None = None) -> list[DocumentInfo]:
        return self._ehr.list_documents(self._principal, patient_id, category)

    def fetch(self, patient_id: str, category: str, *, document_id: str | None = None,
              emergency_purpose: str | None = None) -> dict[str, Any]:
        return self._ehr.fetch(self._principal, patient_id, category, document_id=document_id,
                               emergency_purpose=emergency_purpose)

    def access_log(self, patient_id: str) -> list[dict[str, Any]]:
        return self._ehr.access_log(self._principal, patient_id)

    def restrict(self, patient_id: str, restriction: Restriction) -> None:
        self._ehr.restrict(self._principal, patient_id, restriction)

    def export_all(self, patient_id: str) -> list[dict[str, Any]]:
        return self._ehr.export_all(self._principal, patient_id)

    # ---- national profiles (optional methods of the contract) -------------------------------

    def record_consent(self, patient_id: str, consent: Consent) -> ConsentRecord:
        return self._ehr.record_consent(self._principal, patient_id, consent)

    def withdraw_consent(self, patient_id: str, consent_id: str) -> None:
        self._ehr.withdraw_consent(self._principal, patient_id, consent_id)

    def fetch_for_purpose(self, patient_id: str, category: str, purpose: str, *,
                          document_id: str | None = None) -> dict[str, Any]:
        return self._ehr.fetch_for_purpose(self._principal, patient_id, category, purpose, document_id=document_id)

    def displayed_summary(self, patient_id: str, *, document_id: str | None = None,
                          language: str = "fr-FR") -> DisplayedSummary:
        return self._ehr.displayed_summary(self._principal, patient_id, document_id=document_id, language=language)

    def find_patient_by_traits(self, country: str, traits: Mapping[str, str]) -> str:
        return self._ehr.find_patient_by_traits(self._principal, country, traits)


class ReferenceAdapter:
    """The adapter of the embedded reference EHR.

    Owns the service (and the temporary directory holding its database, when it
    made one); :meth:`close` releases both.
    """

    def __init__(self, ehr: ReferenceEHR, accounts: TestAccounts, *, product: str | None = None,
                 version: str | None = None, vendor: str = "ehds-conformance project",
                 extra: Mapping[str, Any] | None = None, owned_dir: Path | None = None) -> None:
        self.ehr = ehr
        self._accounts = accounts
        self._owned_dir = owned_dir
        self._description = SutDescription(
            product=product or ehr.product,
            version=version or conformance.__version__,
            vendor=vendor,
            capabilities=CAPABILITIES,
            produces=frozenset(PRIORITY_CATEGORIES),
            consumes=frozenset(PRIORITY_CATEGORIES),
            extra=dict(extra or {}),
        )

    def describe(self) -> SutDescription:
        return self._description

    def test_accounts(self) -> TestAccounts:
        return self._accounts

    def login(self, actor: Actor) -> ReferenceSession:
        principal = self.ehr.authenticate(actor.kind, actor.identifier, actor.credentials)
        return ReferenceSession(self.ehr, actor, principal)

    # ---- sandbox set-up (optional methods of the contract) --------------------------------

    def load_terminology(self, resources: list[Mapping[str, Any]]) -> None:
        """Load a translation catalogue (FHIR ValueSets / ConceptMaps with designations)."""
        self.ehr.load_terminology(resources)

    def configure_identity_traits(self, table: Mapping[str, Mapping[str, str]]) -> None:
        """Set the per-country identity traits of foreign patients."""
        self.ehr.configure_identity_traits(table)

    def trust_identity_provider(self, issuer: str, audience: str) -> None:
        """Trust this OpenID Connect issuer (Pro Sante Connect) for this audience."""
        self.ehr.trust_identity_provider(issuer, audience)

    def shift_clock(self, delta: dt.timedelta) -> None:
        """Capability.CLOCK: move the EHR's clock (the harness moves it back when done)."""
        self.ehr.shift_clock(delta)

    def log_retention(self) -> dt.timedelta | None:
        """Capability.CLOCK: the configured access-log retention."""
        return self.ehr.log_retention()

    def close(self) -> None:
        self.ehr.close()
        if self._owned_dir is not None:
            shutil.rmtree(self._owned_dir, ignore_errors=True)
            self._owned_dir = None
