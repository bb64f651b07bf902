"""A stand-in for ACME's real product: its client SDK, with ACME's own errors.

In a real adapter this module does not exist: you import your REST client or SDK
instead. It is here so the example runs anywhere. Behind the SDK-like facade
(:class:`AcmeClient`) sits the harness's reference EHR, renamed; the adapter
(:mod:`acme_ehr_conformance.adapter`) only ever talks to the facade, exactly as it
would talk to your system.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from conformance.adapter import ActorKind, Denied, NotFound, Rejected, Restriction
from conformance.adapters.reference.service import ReferenceEHR


class AcmeError(Exception):
    """Root of ACME's SDK errors."""


class AuthError(AcmeError):
    """401: unknown user, wrong password, expired or missing token."""


class Forbidden(AcmeError):
    """403: the user may not do this."""


class NoSuchRecord(AcmeError):
    """404: no such patient or document."""


class ValidationFailed(AcmeError):
    """422: the upload was refused; `issues` lists what is wrong."""

    def __init__(self, message: str, issues: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.issues = issues


class AcmeEHR(ReferenceEHR):
    """The product. (Here: the reference EHR under ACME's name.)"""

    product = "ACME EHR"


_ROLES = {"clinician": ActorKind.HEALTH_PROFESSIONAL, "patient": ActorKind.PATIENT, "auditor": ActorKind.AUDITOR}


class AcmeClient:
    """ACME's SDK: token-based calls, ACME vocabulary, ACME errors."""

    def __init__(self, database: str | Path) -> None:
        self._ehr = AcmeEHR(database)

    @property
    def system(self) -> AcmeEHR:
        """Admin access to the sandbox (provisioning test users). Not part of the public SDK."""
        return self._ehr

    def close(self) -> None:
        self._ehr.close()

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Denied as exc:
            raise Forbidden(exc.reason) from None
        except NotFound as exc:
            raise NoSuchRecord(exc.reason) from None
        except Rejected as exc:
            raise ValidationFailed(exc.reason, exc.details.get("issues", [])) from None

    def _who(self, token: str) -> Any:
        try:
            return self._ehr.principal_for_token(token)
        except Denied as exc:
            raise AuthError(exc.reason) from None

    def sign_in(self, role: str, username: str, password: str) -> str:
        """POST /auth/token -> a bearer token."""
        try:
            principal = self._ehr.authenticate(_ROLES.get(role, ActorKind.ANONYMOUS), username,
                                               {"password": password})
        except Denied as exc:
            raise AuthError(exc.reason) from None
        return self._ehr.issue_token(principal)

    def upload(self, token: str, payload: bytes, content_type: str) -> dict[str, str]:
        """POST /documents (application/fhir+json or application/hl7-cda+xml)."""
        document: Mapping[str, Any] | bytes = json.loads(payload) if "json" in content_type else payload
        receipt = self._call(self._ehr.submit, self._who(token), document)
        return {"documentId": receipt.document_id, "patientId": receipt.patient_id}

    def find_patient(self, token: str, system: str, value: str) -> str:
        """GET /patients?identifier=system|value"""
        return self._call(self._ehr.find_patient, self._who(token), f"{system}|{value}")

    def documents(self, token: str, patient_id: str, category: str | None) -> list[dict[str, str]]:
        """GET /patients/{id}/documents?category=..."""
        infos = self._call(self._ehr.list_documents, self._who(token), patient_id, category)
        return [{"id": d.document_id, "patient": d.patient_id, "category": d.category, "title": d.title,
                 "date": d.date, "custodian": d.custodian} for d in infos]

    def export(self, token: str, patient_id: str, category: str, document_id: str | None,
               break_glass_reason: str | None) -> bytes:
        """GET /patients/{id}/export?category=...&document=...  (header X-Break-Glass: reason)"""
        bundle = self._call(self._ehr.fetch, self._who(token), patient_id, category, document_id=document_id,
                            emergency_purpose=break_glass_reason)
        return json.dumps(bundle).encode("utf-8")

    def audit_trail(self, token: str, patient_id: str) -> list[dict[str, Any]]:
        """GET /patients/{id}/audit (FHIR AuditEvents)"""
        return self._call(self._ehr.access_log, self._who(token), patient_id)

    def set_privacy(self, token: str, patient_id: str, hidden_documents: list[str],
                    hidden_categories: list[str]) -> None:
        """PUT /patients/{id}/privacy"""
        self._call(self._ehr.restrict, self._who(token), patient_id,
                   Restriction(frozenset(hidden_documents), frozenset(hidden_categories)))
