"""The patient's consent as a FHIR R4 Consent resource, both ways: pure functions, no I/O.

For the HTTP side (``conformance/server``, ``adapters/fhir_rest``) to carry the contract's consent
methods as FHIR: ``record_consent`` = ``POST Consent`` (body :func:`to_fhir` of the wanted consent,
answer the stored one), ``withdraw_consent`` = ``PUT Consent/<id>`` with ``status`` ``inactive`` (or
``DELETE``; the record is kept), ``fetch_for_purpose`` = the document read with the purpose carried
as the request's purpose of use.

Mapping (FHIR R4 Consent):

- ``status``: ``active`` while in force, ``inactive`` once withdrawn;
- ``scope``: consentscope ``patient-privacy``; ``category``: LOINC 59284-0 Patient Consent;
- ``patient``: ``Patient/<id>``; ``dateTime``: when recorded; ``performer``: who recorded it
  (identifier system|value);
- ``provision.type`` ``permit``; ``provision.purpose``: the purpose code (system
  :data:`PURPOSE_SYSTEM` for the harness's purpose codes); ``provision.actor`` (role
  v3-ParticipationType ``IRCP``, the information recipient): the grantee's identifier, absent when
  any professional may access.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.adapter import Consent, ConsentRecord

PURPOSE_SYSTEM = "https://ehds-conformance.invalid/CodeSystem/access-purpose"
SCOPE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]}
CATEGORY = [{"coding": [{"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}]}]
RECIPIENT = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}]}


def _identifier(system_value: str) -> dict[str, str]:
    system, sep, value = system_value.partition("|")
    return {"system": system, "value": value} if sep else {"value": system_value}


def _system_value(identifier: Mapping[str, Any]) -> str:
    value = str(identifier.get("value", ""))
    return f"{identifier['system']}|{value}" if identifier.get("system") else value


def to_fhir(record: ConsentRecord) -> dict[str, Any]:
    """A stored consent as a FHIR Consent."""
    provision: dict[str, Any] = {"type": "permit",
                                 "purpose": [{"system": PURPOSE_SYSTEM, "code": record.consent.purpose}]}
    if record.consent.grantee:
        provision["actor"] = [{"role": RECIPIENT, "reference": {"identifier": _identifier(record.consent.grantee)}}]
    return {
        "resourceType": "Consent", "id": record.consent_id,
        "status": "active" if record.active else "inactive",
        "scope": SCOPE, "category": CATEGORY,
        "patient": {"reference": f"Patient/{record.patient_id}"},
        "dateTime": record.recorded,
        "performer": [{"identifier": _identifier(record.recorded_by)}],
        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]},
        "provision": provision,
    }


def from_fhir(resource: Mapping[str, Any]) -> tuple[str, Consent]:
    """The patient id and the wanted :class:`Consent` of a posted FHIR Consent; ValueError when unusable."""
    if resource.get("resourceType") != "Consent":
        raise ValueError("expected a FHIR Consent")
    reference = str((resource.get("patient") or {}).get("reference", ""))
    if not reference.startswith("Patient/"):
        raise ValueError("Consent.patient must reference Patient/<id>")
    provision = resource.get("provision") or {}
    if provision.get("type", "permit") != "permit":
        raise ValueError("only permit consents are recorded")
    purposes = [p.get("code") for p in provision.get("purpose") or [] if p.get("code")]
    if len(purposes) != 1:
        raise ValueError("Consent.provision.purpose must name exactly one purpose")
    actors = [a for a in provision.get("actor") or [] if isinstance(a, Mapping)]
    grantee = _system_value(((actors[0].get("reference") or {}).get("identifier") or {})) if actors else ""
    return reference.removeprefix("Patient/"), Consent(str(purposes[0]), grantee)
